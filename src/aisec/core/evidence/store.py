"""The evidence store: an append-only, tamper-evident log of signed attestations.

SQLite at ``.aisec/evidence.db`` by default; PostgreSQL when the URL (``AISEC_DB`` or
``--db``) is ``postgresql://…``. Entries, their signed tree heads and the derived
indexes (subjects, findings, runs) live in the same database; ``verify`` recomputes
all of it. Appends are serialised by the database (``BEGIN IMMEDIATE`` on SQLite, a
row lock on PostgreSQL), so concurrent writers lose nothing.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from aisec.core.errors import FormatError, InputError, StoreError
from aisec.core.evidence._export import EXPORT_SCHEMA, read_export, verify_export
from aisec.core.evidence._index import derive, entry_stage, verify_indexes, write_derived
from aisec.core.evidence._tables import (
    default_store_url,
    entries_t,
    findings_t,
    heads_t,
    inputs_t,
    keys_t,
    log_state,
    metadata,
    normalise_url,
    now,
    redact_url,
    runs_t,
    subjects_t,
)
from aisec.core.evidence.attestation import Envelope, Statement, sign_statement
from aisec.core.evidence.keys import PublicKey, SigningKey, aisec_home
from aisec.core.evidence.merkle import (
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from aisec.core.evidence.verify import (
    ProblemKind,
    RawEntry,
    TreeHead,
    VerifyReport,
    verify_log,
)
from aisec.core.findings import Finding, finding_from_json
from aisec.core.predicates._registry import validate_statement

__all__ = [
    "EXPORT_SCHEMA",
    "EvidenceStore",
    "LogEntry",
    "default_store_url",
    "read_export",
    "verify_export",
]

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class LogEntry:
    index: int
    leaf_hash: str
    envelope: Envelope
    predicate_type: str
    stage: str
    keyid: str
    created_at: str

    @property
    def statement(self) -> Statement:
        return self.envelope.statement()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "leaf_hash": self.leaf_hash,
            "predicate_type": self.predicate_type,
            "stage": self.stage,
            "keyid": self.keyid,
            "created_at": self.created_at,
            "envelope": self.envelope.to_json(),
        }


def _with_run(statement: Statement, run_id: str) -> Statement:
    predicate = dict(statement.predicate)
    run = dict(predicate.get("run") or {})
    run.setdefault("id", run_id)
    predicate["run"] = run
    return Statement(statement.subjects, statement.predicate_type, predicate)


class EvidenceStore:
    """Open with :meth:`open`; use as a context manager or call :meth:`close`."""

    def __init__(self, engine: Engine, url: str, *, witness_dir: Path | None = None) -> None:
        self._engine = engine
        self.url = url
        self._witness_dir = witness_dir or aisec_home() / "witness"

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        create: bool = True,
        witness_dir: str | os.PathLike[str] | None = None,
    ) -> EvidenceStore:
        """Open (and by default create) the store at ``url``.

        ``witness_dir`` holds the newest tree head this client has seen, outside the
        database (default ``.aisec/witness``).
        """
        witness_dir = None if witness_dir is None else Path(witness_dir)
        raw = url or default_store_url()
        full = normalise_url(raw)
        shown = redact_url(full)
        if full.startswith("sqlite"):
            engine = cls._sqlite_engine(full, shown, create=create)
        else:
            engine = sa.create_engine(full, pool_pre_ping=True)
        store = cls(engine, shown, witness_dir=witness_dir)
        try:
            store._ensure_schema(create=create)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open the evidence store {shown}: {exc.orig}", url=shown
            ) from exc
        except sa.exc.DatabaseError as exc:
            engine.dispose()
            raise StoreError(
                f"evidence store {shown} is unreadable ({exc.orig}); restore it from a backup "
                "or an export",
                url=shown,
            ) from exc
        return store

    @staticmethod
    def _sqlite_engine(full: str, shown: str, *, create: bool) -> Engine:
        db = sa.engine.make_url(full).database
        if db and db != ":memory:":
            path = Path(db)
            if path.exists():
                with path.open("rb") as fh:
                    head = fh.read(16)
                if head and head != _SQLITE_MAGIC:
                    raise StoreError(
                        f"{path} is not an SQLite database (corrupted or a different file); "
                        "nothing was changed — restore it from a backup or an export",
                        url=shown,
                    )
            elif not create:
                raise StoreError(f"no evidence store at {path}", url=shown)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(full, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 60000")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def _ensure_schema(self, *, create: bool) -> None:
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7283910)"))
            if create:
                metadata.create_all(conn)
            elif not sa.inspect(conn).has_table(log_state.name):
                raise StoreError(f"{self.url} holds no aisec evidence log", url=self.url)
            row = conn.execute(sa.select(log_state.c.id)).first()
            if row is None:
                conn.execute(
                    log_state.insert().values(
                        id=1,
                        log_id=str(uuid.uuid4()),
                        frontier=json.dumps(Frontier().to_json()),
                        created_at=now(),
                    )
                )

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writing
    def record(
        self, statement: Statement, key: SigningKey, *, run_id: str | None = None
    ) -> LogEntry:
        """Sign ``statement`` with ``key`` and append it."""
        if run_id is not None:
            statement = _with_run(statement, run_id)
        return self.append(sign_statement(statement, key), key)

    def append(self, envelope: Envelope, key: SigningKey) -> LogEntry:
        """Append a signed envelope; ``key`` signs the new tree head."""
        return self.append_many([envelope], key)[0]

    def record_many(
        self, statements: Sequence[Statement], key: SigningKey, *, run_id: str | None = None
    ) -> list[LogEntry]:
        """Sign and append many statements in one transaction (a registry sweep's batch)."""
        if run_id is not None:
            statements = [_with_run(st, run_id) for st in statements]
        return self.append_many([sign_statement(st, key) for st in statements], key)

    def append_many(self, envelopes: Sequence[Envelope], key: SigningKey) -> list[LogEntry]:
        """Append envelopes in order, in one transaction; each gets its own signed tree head,
        as every append does. All or nothing: a malformed one appends none of them."""
        prepared = []
        for envelope in envelopes:
            statement = envelope.statement()
            # validate before the lock: nothing malformed enters the log under an aisec type
            validate_statement(statement)
            derive(0, statement)
            raw = envelope.to_bytes()
            prepared.append((envelope, statement, raw, leaf_hash(raw)))
        if not prepared:
            return []
        out: list[LogEntry] = []
        with self._engine.begin() as conn:
            state = conn.execute(
                sa.select(log_state).where(log_state.c.id == 1).with_for_update()
            ).one()
            frontier = Frontier.from_json(json.loads(state.frontier))
            self._remember_key(conn, key.public)
            head = None
            for envelope, statement, raw, leaf in prepared:
                created = now()
                index = frontier.size
                frontier.append(leaf)
                conn.execute(
                    entries_t.insert().values(
                        idx=index,
                        leaf_hash=leaf.hex(),
                        envelope=raw.decode(),
                        predicate_type=statement.predicate_type,
                        stage=entry_stage(statement),
                        keyid=envelope.signatures[0].keyid,
                        created_at=created,
                    )
                )
                write_derived(conn, index, statement, created)
                head = TreeHead.create(
                    log_id=state.log_id,
                    size=frontier.size,
                    root=frontier.root(),
                    last_leaf=leaf,
                    timestamp=created,
                    sign=key.sign,
                    keyid=key.keyid,
                )
                conn.execute(
                    heads_t.insert().values(
                        size=frontier.size,
                        body=head.body.decode(),
                        keyid=head.keyid,
                        signature=base64.b64encode(head.signature).decode(),
                    )
                )
                if not envelope.verified_keyids([key.public]):
                    log.info("entry #%d is signed by a key other than the appender's", index)
                out.append(
                    LogEntry(
                        index=index,
                        leaf_hash=leaf.hex(),
                        envelope=envelope,
                        predicate_type=statement.predicate_type,
                        stage=entry_stage(statement),
                        keyid=envelope.signatures[0].keyid,
                        created_at=created,
                    )
                )
            conn.execute(
                log_state.update()
                .where(log_state.c.id == 1)
                .values(frontier=json.dumps(frontier.to_json()))
            )
        assert head is not None  # noqa: S101 - prepared is not empty
        self._write_witness(state.log_id, head)
        return out

    def _remember_key(self, conn: Connection, key: PublicKey) -> None:
        exists = conn.execute(sa.select(keys_t.c.keyid).where(keys_t.c.keyid == key.keyid)).first()
        if exists is None:
            conn.execute(
                keys_t.insert().values(
                    keyid=key.keyid,
                    key_type=key.key_type.value,
                    pem=key.pem().decode(),
                    added_at=now(),
                )
            )

    def _witness_path(self, log_id: str) -> Path:
        return self._witness_dir / f"{log_id}.json"

    def _write_witness(self, log_id: str, head: TreeHead) -> None:
        """Keep the newest head seen by this client outside the database.

        A database rolled back to an earlier state (entries and heads cut off together)
        is consistent with itself; only a head remembered elsewhere exposes it.
        """
        path = self._witness_path(log_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                with contextlib.suppress(ValueError, FormatError, OSError):
                    old = TreeHead.from_json(json.loads(path.read_text()))
                    if old.size >= head.size:
                        return
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(head.to_json(), indent=2))
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not update the witness head at %s: %s", path, exc.strerror)

    # ----------------------------------------------------------------- reading
    @property
    def log_id(self) -> str:
        with self._engine.connect() as conn:
            return str(conn.execute(sa.select(log_state.c.log_id)).scalar_one())

    def size(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries_t)).scalar_one())

    def _row_to_entry(self, row: Any) -> LogEntry:
        return LogEntry(
            index=int(row.idx),
            leaf_hash=row.leaf_hash,
            envelope=Envelope.from_bytes(row.envelope.encode()),
            predicate_type=row.predicate_type,
            stage=row.stage,
            keyid=row.keyid,
            created_at=row.created_at,
        )

    def entries(
        self,
        *,
        stage: str | None = None,
        predicate_type: str | None = None,
        subject_digest: str | None = None,
        input_digest: str | None = None,
        limit: int | None = None,
    ) -> list[LogEntry]:
        """Entries in log order, filtered by stage, predicate type, a subject's digest or the
        digest of something they read (an ``inputs`` edge of the chain)."""
        q = sa.select(entries_t).order_by(entries_t.c.idx)
        if stage:
            q = q.where(entries_t.c.stage == stage)
        if predicate_type:
            q = q.where(entries_t.c.predicate_type == predicate_type)
        if subject_digest:
            q = q.where(
                entries_t.c.idx.in_(
                    sa.select(subjects_t.c.idx).where(subjects_t.c.digest == subject_digest)
                )
            )
        if input_digest:
            q = q.where(
                entries_t.c.idx.in_(
                    sa.select(inputs_t.c.idx).where(inputs_t.c.digest == input_digest)
                )
            )
        if limit:
            q = q.limit(limit)
        with self._engine.connect() as conn:
            return [self._row_to_entry(r) for r in conn.execute(q)]

    def get(self, index: int) -> LogEntry:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(entries_t).where(entries_t.c.idx == index)).first()
        if row is None:
            raise InputError(f"no entry #{index} in the evidence log ({self.size()} entries)")
        return self._row_to_entry(row)

    def findings(self, *, stage: str | None = None) -> list[tuple[int, Finding]]:
        q = sa.select(findings_t).order_by(findings_t.c.idx, findings_t.c.ordinal)
        if stage:
            q = q.where(findings_t.c.stage == stage)
        with self._engine.connect() as conn:
            return [(int(r.idx), finding_from_json(json.loads(r.body))) for r in conn.execute(q)]

    def runs(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(runs_t).order_by(runs_t.c.first_idx)).mappings()
            return [dict(r) for r in rows]

    def keys(self) -> list[PublicKey]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(keys_t.c.pem)).scalars().all()
        return [PublicKey.from_pem(p.encode(), source="stored key") for p in rows]

    def heads(self) -> list[TreeHead]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(heads_t).order_by(heads_t.c.size)).all()
        return [
            TreeHead(
                body=r.body.encode(),
                keyid=r.keyid,
                signature=base64.b64decode(r.signature),
            )
            for r in rows
        ]

    def latest_head(self) -> TreeHead | None:
        with self._engine.connect() as conn:
            r = conn.execute(sa.select(heads_t).order_by(heads_t.c.size.desc()).limit(1)).first()
        if r is None:
            return None
        return TreeHead(r.body.encode(), r.keyid, base64.b64decode(r.signature))

    def signed_time(self, entry: LogEntry, keys: Sequence[PublicKey]) -> str | None:
        """When ``entry`` was appended, as its own signed tree head attests.

        The ``created_at`` column is not signed; the head written with the entry is, and it
        commits to the entry's leaf. ``None`` when that head is missing, does not match the
        entry, or is not signed by one of ``keys``.
        """
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(heads_t).where(heads_t.c.size == entry.index + 1)).first()
        if row is None:
            return None
        head = TreeHead(row.body.encode(), row.keyid, base64.b64decode(row.signature))
        try:
            fields = head.fields()
        except FormatError:
            return None
        if fields.get("last_leaf") != entry.leaf_hash or not head.verified_by(keys):
            return None
        stamp = fields.get("timestamp")
        return stamp if isinstance(stamp, str) else None

    def _raw_entries(self) -> list[RawEntry]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(entries_t.c.idx, entries_t.c.leaf_hash, entries_t.c.envelope)
            ).all()
        return [RawEntry(int(r.idx), r.leaf_hash, r.envelope.encode()) for r in rows]

    def _leaves(self) -> list[bytes]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(entries_t.c.leaf_hash).order_by(entries_t.c.idx)
            ).scalars()
            return [bytes.fromhex(h) for h in rows]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        leaves = self._leaves()
        try:
            return inclusion_proof(leaves, index, size)
        except ValueError as exc:
            raise InputError(str(exc)) from exc

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        leaves = self._leaves()
        try:
            return consistency_proof(leaves, old_size, new_size)
        except ValueError as exc:
            raise InputError(str(exc)) from exc

    # ---------------------------------------------------------------- verifying
    def witness(self) -> TreeHead | None:
        path = self._witness_path(self.log_id)
        if not path.exists():
            return None
        try:
            return TreeHead.from_json(json.loads(path.read_text()))
        except (ValueError, FormatError, OSError):
            return None

    def verify(
        self,
        keys: Sequence[PublicKey] | None = None,
        *,
        witness: TreeHead | None = None,
        use_local_witness: bool = True,
    ) -> VerifyReport:
        """Recompute leaves, roots, signatures and every derived index row."""
        pinned = bool(keys)
        trust = list(keys) if keys else self.keys()
        if witness is None and use_local_witness:
            witness = self.witness()
        report = verify_log(
            self._raw_entries(), self.heads(), trust, pinned=pinned, witness=witness
        )
        named = {p.index for p in report.problems}
        removed = [p.index for p in report.problems if p.kind is ProblemKind.REMOVED and p.index]
        with self._engine.connect() as conn:
            index_problems = verify_indexes(conn, named, after=min(removed, default=None))
        if not index_problems:
            return report
        return dataclasses.replace(report, problems=(*report.problems, *index_problems))

    # ---------------------------------------------------------------- exporting
    def export(self, out: IO[str]) -> int:
        """JSON lines that :func:`verify_export` checks offline with the public key."""
        with self._engine.connect() as conn:
            log_id = conn.execute(sa.select(log_state.c.log_id)).scalar_one()
        out.write(json.dumps({"schema": EXPORT_SCHEMA, "log_id": log_id}) + "\n")
        for k in self.keys():
            out.write(json.dumps({"key": {"keyid": k.keyid, "pem": k.pem().decode()}}) + "\n")
        count = 0
        with self._engine.connect() as conn:
            for r in conn.execute(sa.select(entries_t).order_by(entries_t.c.idx)):
                out.write(
                    json.dumps(
                        {
                            "entry": {
                                "index": int(r.idx),
                                "leaf_hash": r.leaf_hash,
                                "created_at": r.created_at,
                                "envelope": json.loads(r.envelope),
                            }
                        },
                        sort_keys=True,
                    )
                    + "\n"
                )
                count += 1
        for h in self.heads():
            out.write(json.dumps({"tree_head": h.to_json()}, sort_keys=True) + "\n")
        return count
