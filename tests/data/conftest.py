"""Fixtures of the data stage: the ``data`` group on the CLI and a default signing key."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from aisec.cli import cli
from aisec.cli.data import data_group
from aisec.core.evidence import default_key_path, generate_keypair


@pytest.fixture
def data_cli() -> Iterator[None]:
    """Put the real ``data`` group on the CLI (replacing the pending placeholder)."""
    before = cli.commands.get("data")
    cli.add_command(data_group)
    yield
    if before is not None:
        cli.add_command(before)
    else:
        cli.commands.pop("data", None)


@pytest.fixture
def default_key(isolated_home: Path) -> Path:
    path = default_key_path()
    generate_keypair(path)
    return path
