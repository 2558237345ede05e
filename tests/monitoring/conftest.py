"""Fixtures: the synthetic enterprise (built once per session) and the CLI group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aisec.monitoring import EnterpriseTruth, synth_enterprise


@pytest.fixture(scope="session")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> EnterpriseTruth:
    return synth_enterprise(tmp_path_factory.mktemp("ent") / "acme", seed=7, noise=2000)


@pytest.fixture
def inventory_cli() -> Iterator[None]:
    from aisec.cli import cli
    from aisec.cli.inventory import inventory_group

    before = cli.commands.get("inventory")  # a pending placeholder until the lead registers it
    cli.add_command(inventory_group)
    yield
    if before is not None:
        cli.add_command(before, "inventory")
    else:
        cli.commands.pop("inventory", None)
