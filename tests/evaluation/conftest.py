"""Fixtures for the red-team tests: the demo service on a real port, the CLI group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aisec.evaluation import DemoServer, DemoState


@pytest.fixture
def demo() -> Iterator[tuple[str, DemoState]]:
    """The vulnerable demo service on 127.0.0.1 (ephemeral port) and its server-side state."""
    state = DemoState(seed=7)
    with DemoServer(state) as url:
        yield url, state


@pytest.fixture
def redteam_cli() -> Iterator[None]:
    """Register ``aisec redteam`` on the CLI if the lead has not yet."""
    from aisec.cli import cli
    from aisec.cli.redteam import redteam_group

    before = cli.commands.get("redteam")
    cli.add_command(redteam_group)  # replaces the pending placeholder until the lead wires it
    yield
    if before is None:
        cli.commands.pop("redteam", None)
    else:
        cli.commands["redteam"] = before
