"""Shared fixtures: an isolated working folder, keys, and the store on both backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from aisec.core.evidence import SigningKey

POSTGRES_ENV = "AISEC_TEST_POSTGRES_URL"

# Timing is measured in bench/, never asserted: a loaded CI machine must not fail a
# property test because one example ran slowly.
settings.register_profile(
    "aisec", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("aisec")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own folder with its own .aisec and no inherited settings."""
    for var in ("AISEC_DB", "AISEC_KEY", "AISEC_KEY_PASSPHRASE"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / ".aisec"
    monkeypatch.setenv("AISEC_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every evidence store a test left open, so that a PostgreSQL connection is never
    collected (and warned about) in the middle of a later test."""
    from aisec.core.evidence.store import EvidenceStore

    opened: list[EvidenceStore] = []
    original = EvidenceStore.__init__

    def tracking(self: EvidenceStore, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    monkeypatch.setattr(EvidenceStore, "__init__", tracking)
    yield
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL; skipped where no server is configured."""
    base = _postgres_url()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = f"aisec_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store tests on SQLite and on the local PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'evidence.db'}"
    return str(request.getfixturevalue("postgres_url"))
