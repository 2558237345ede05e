"""Fixtures for the training stage: the CLI group, a key on disk and a store URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aisec.cli import cli
from aisec.cli.train import train_group
from aisec.core.evidence import SigningKey, generate_keypair


@pytest.fixture
def train_cli() -> Iterator[None]:
    """Register ``aisec train`` while the lead has not wired it in yet."""
    previous = cli.commands.get("train")
    cli.add_command(train_group)
    try:
        yield
    finally:
        if previous is not None:
            cli.add_command(previous)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "train.key"
    generate_keypair(path)
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'evidence.db'}"


@pytest.fixture
def key(signing_key: SigningKey) -> SigningKey:
    return signing_key
