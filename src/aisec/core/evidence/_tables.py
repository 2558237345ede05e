"""The evidence store's tables and URLs (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from aisec.core.errors import InputError
from aisec.core.evidence.keys import aisec_home

__all__ = [
    "default_store_url",
    "entries_t",
    "findings_t",
    "heads_t",
    "inputs_t",
    "keys_t",
    "log_state",
    "metadata",
    "normalise_url",
    "now",
    "redact_url",
    "runs_t",
    "subjects_t",
]

metadata = sa.MetaData()
log_state = sa.Table(
    "aisec_log_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("log_id", sa.String(36), nullable=False),
    sa.Column("frontier", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)
entries_t = sa.Table(
    "aisec_entries",
    metadata,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf_hash", sa.String(64), nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("predicate_type", sa.String(200), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False, index=True),
    sa.Column("keyid", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)
heads_t = sa.Table(
    "aisec_tree_heads",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("keyid", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
)
subjects_t = sa.Table(
    "aisec_subjects",
    metadata,
    sa.Column("idx", sa.BigInteger, nullable=False, index=True),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("digest", sa.String(71), nullable=False, index=True),
    sa.PrimaryKeyConstraint("idx", "ordinal"),
)
# the digests a control read (its predicate's ``inputs``): the edges of the chain of evidence
inputs_t = sa.Table(
    "aisec_inputs",
    metadata,
    sa.Column("idx", sa.BigInteger, nullable=False, index=True),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("digest", sa.String(71), nullable=False, index=True),
    sa.Column("role", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("idx", "ordinal"),
)
findings_t = sa.Table(
    "aisec_findings",
    metadata,
    sa.Column("idx", sa.BigInteger, nullable=False, index=True),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("rule_id", sa.String(32), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False, index=True),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("subject_digest", sa.String(71)),
    sa.Column("body", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("idx", "ordinal"),
)
runs_t = sa.Table(
    "aisec_runs",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("control", sa.String(64), nullable=False),
    sa.Column("first_idx", sa.BigInteger, nullable=False),
    sa.Column("last_idx", sa.BigInteger, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32)),
    sa.Column("updated_at", sa.String(32), nullable=False),
)
keys_t = sa.Table(
    "aisec_keys",
    metadata,
    sa.Column("keyid", sa.String(64), primary_key=True),
    sa.Column("key_type", sa.String(16), nullable=False),
    sa.Column("pem", sa.Text, nullable=False),
    sa.Column("added_at", sa.String(32), nullable=False),
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def default_store_url() -> str:
    """``$AISEC_DB`` or SQLite at ``.aisec/evidence.db``."""
    return os.environ.get("AISEC_DB") or f"sqlite:///{aisec_home() / 'evidence.db'}"


def normalise_url(url: str) -> str:
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite", "postgresql+psycopg"):
        return url
    raise InputError(
        f"unsupported evidence store URL scheme {scheme!r}: use sqlite:///PATH or postgresql://…"
    )


def redact_url(url: str) -> str:
    with contextlib.suppress(Exception):
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    return url
