"""The checkpoint ledger: each checkpoint's digest as a signed attestation, chained per run.

A record is a ``training/checkpoint:v1`` statement (docs/predicates.md): the checkpoint is
the subject; the predicate carries the run, step, sequence number, metrics, host, time, the
previous record's digest and ``final``. Files are hashed with :mod:`aisec.core.digest` on a
background thread after the caller closed them, so a save in the training loop waits only
for ``record()`` to queue the work; :meth:`CheckpointLedger.flush` waits for it.
"""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aisec.core.digest import digest_bytes, digest_path, parse_digest
from aisec.core.errors import InputError, MissingExtraError
from aisec.core.evidence import (
    ArtifactRef,
    EvidenceStore,
    SigningKey,
    Statement,
    default_key_path,
    load_signing_key,
    predicate_type,
)
from aisec.core.evidence.attestation import canonical_json

__all__ = [
    "CHECKPOINT_PREDICATE",
    "CheckpointLedger",
    "CheckpointRecord",
    "load_records",
    "parse_interval",
    "state_dict_digest",
]

CHECKPOINT_PREDICATE = predicate_type("training", "checkpoint")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str | float | timedelta | None) -> timedelta | None:
    """``"4h"``, ``"30m"``, ``"90s"``, ``"1d"``, a number of seconds, or a timedelta."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        unit = _UNITS.get(text[-1:])
        number = text[:-1] if unit else text
        try:
            seconds = float(number) * (unit or 1)
        except ValueError:
            raise InputError(
                f"interval {value!r} is not a duration like 4h, 30m, 90s or 1d"
            ) from None
    if not seconds > 0:
        raise InputError(f"interval must be positive, not {value!r}")
    return timedelta(seconds=seconds)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """One checkpoint record as read back from the evidence log."""

    index: int
    run_id: str
    status: str | None
    name: str
    digest: str
    kind: str
    step: int
    sequence: int
    previous: str | None
    final: bool
    time: datetime
    metrics: Mapping[str, Any]
    host: str
    interval_seconds: float | None
    signed: bool


def _parse_time(text: object, fallback: str) -> datetime:
    for candidate in (text, fallback):
        if isinstance(candidate, str):
            try:
                t = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    return datetime.fromtimestamp(0, UTC)


def load_records(store: EvidenceStore, run_id: str) -> list[CheckpointRecord]:
    """Every checkpoint record of ``run_id`` in log order, signatures checked."""
    keys = store.keys()
    out = []
    for entry in store.entries(predicate_type=CHECKPOINT_PREDICATE):
        st = entry.statement
        p = st.predicate
        run = p.get("run") or {}
        if not isinstance(run, dict) or run.get("id") != run_id or not st.subjects:
            continue
        interval = p.get("interval_seconds")
        out.append(
            CheckpointRecord(
                index=entry.index,
                run_id=run_id,
                status=run.get("status"),
                name=str(p.get("path", st.subjects[0].name)),
                digest=st.subjects[0].digest,
                kind=str(p.get("kind", "file")),
                step=int(p.get("step", -1)),
                sequence=int(p.get("sequence", -1)),
                previous=p.get("previous"),
                final=bool(p.get("final", False)),
                time=_parse_time(p.get("time"), entry.created_at),
                metrics=dict(p.get("metrics") or {}),
                host=str(p.get("host", "")),
                interval_seconds=float(interval) if isinstance(interval, int | float) else None,
                signed=bool(entry.envelope.verified_keyids(keys)),
            )
        )
    return out


def state_dict_digest(state_dict: Mapping[str, Any]) -> str:
    """Digest of an in-memory state dict, independent of how it would be serialised.

    Canonical order: keys sorted as strings; for each tensor the digest of its raw bytes
    (contiguous, CPU, native byte order); the result is the digest of the canonical JSON
    list ``[[key, dtype, shape, digest], ...]``. Non-tensor values (optimizer step counts,
    scheduler state) are included by their canonical JSON.
    """
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError("hashing an in-memory state dict", "torch") from exc
    rows: list[list[Any]] = []
    for key in sorted(state_dict, key=str):
        value = state_dict[key]
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu").contiguous().reshape(-1)
            raw = t.view(torch.uint8).numpy().tobytes()
            rows.append([str(key), str(value.dtype), list(value.shape), digest_bytes(raw)])
        elif isinstance(value, Mapping):
            rows.append([str(key), "mapping", [], state_dict_digest(value)])
        else:
            try:
                rows.append([str(key), "json", [], digest_bytes(canonical_json(value))])
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"state dict entry {key!r} is neither a tensor nor JSON data "
                    f"({type(value).__name__}); save the checkpoint to a file and record the file"
                ) from exc
    return digest_bytes(canonical_json(rows))


class CheckpointLedger:
    """Record a training run's checkpoints in the evidence store.

    ``store`` is an open :class:`EvidenceStore` or a URL (default: ``AISEC_DB`` or
    ``.aisec/evidence.db``); ``key`` a :class:`SigningKey` or a key file (default
    ``.aisec/keys/aisec.key``). ``root`` is the checkpoint folder: files under it are
    recorded by their path relative to it (what ``aisec train verify ROOT`` compares).
    ``background=False`` hashes inside :meth:`record` (used by the overhead benchmark).
    Re-opening a ledger for a run that has records continues its chain.
    """

    def __init__(
        self,
        run_id: str,
        *,
        store: EvidenceStore | str | None = None,
        key: SigningKey | Path | str | None = None,
        interval: str | float | timedelta | None = None,
        root: Path | str | None = None,
        host: str | None = None,
        background: bool = True,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if not run_id or not isinstance(run_id, str):
            raise InputError("a checkpoint ledger needs a run id")
        self.run_id = run_id
        if isinstance(key, SigningKey):
            self._key = key
        else:
            self._key = load_signing_key(Path(key) if key else default_key_path())
        self.interval = parse_interval(interval)
        self._owns_store = not isinstance(store, EvidenceStore)
        self.store = store if isinstance(store, EvidenceStore) else EvidenceStore.open(store)
        self.root = Path(root) if root is not None else None
        self.host = host or socket.gethostname()
        self._clock = clock
        self._lock = threading.Lock()
        self._errors: list[Exception] = []
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="aisec-ledger")
            if background
            else None
        )
        previous = load_records(self.store, run_id)
        self._sequence = len(previous)
        self._previous = previous[-1].digest if previous else None
        self._closed = False

    # ------------------------------------------------------------------ recording
    def record(
        self,
        checkpoint: Path | str | Mapping[str, Any],
        *,
        step: int,
        metrics: Mapping[str, float] | None = None,
        final: bool = False,
        name: str | None = None,
    ) -> None:
        """Record a checkpoint file or folder (hashed in the background) or a state dict.

        A state dict is hashed before this returns (training keeps changing its tensors);
        save to a file to keep hashing off the training loop.
        """
        self._check_step(step)
        when = self._clock()
        metrics_json = {str(k): float(v) for k, v in (metrics or {}).items()}
        if isinstance(checkpoint, Mapping):
            digest = state_dict_digest(checkpoint)
            label = name or f"state_dict@step-{step}"
            self._submit(lambda: (label, digest, "state_dict"), step, metrics_json, final, when)
            return
        path = Path(checkpoint)
        label = name or self._name(path)
        self._submit(lambda: self._hash(path, label), step, metrics_json, final, when)

    def record_digest(
        self,
        name: str,
        digest: str,
        *,
        step: int,
        kind: str = "file",
        metrics: Mapping[str, float] | None = None,
    ) -> None:
        """Record a digest computed elsewhere (the folder watcher hashes before deciding)."""
        digest = parse_digest(digest)
        self._check_step(step)
        when = self._clock()
        metrics_json = {str(k): float(v) for k, v in (metrics or {}).items()}
        self._submit(lambda: (name, digest, kind), step, metrics_json, False, when)
        self.flush()

    def finish(
        self,
        final_model: Path | str | Mapping[str, Any],
        *,
        step: int,
        metrics: Mapping[str, float] | None = None,
    ) -> None:
        """Record the final model with ``final: true`` and the run as finished, then flush."""
        name = None
        if not isinstance(final_model, Mapping) and self.root is None:
            name = str(Path(final_model).resolve())  # outside any checkpoint folder
        self.record(final_model, step=step, metrics=metrics, final=True, name=name)
        self.flush()

    @staticmethod
    def _check_step(step: object) -> None:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise InputError(f"step must be a non-negative integer, not {step!r}")

    def _name(self, path: Path) -> str:
        if self.root is not None:
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                return str(path.resolve())
        return path.name

    @staticmethod
    def _hash(path: Path, label: str) -> tuple[str, str, str]:
        manifest = digest_path(path)
        return label, manifest.digest, manifest.kind

    def _submit(
        self,
        compute: Callable[[], tuple[str, str, str]],
        step: int,
        metrics: dict[str, float],
        final: bool,
        when: datetime,
    ) -> None:
        if self._closed:
            raise InputError(f"the ledger of run {self.run_id!r} is closed")

        def job() -> None:
            try:
                name, digest, kind = compute()
                self._append(name, digest, kind, step, metrics, final, when)
            except Exception as exc:  # kept and raised by flush(), not lost in the thread
                with self._lock:
                    self._errors.append(exc)

        if self._pool is None:
            job()
            self._raise_errors()
        else:
            self._pool.submit(job)

    def _append(
        self,
        name: str,
        digest: str,
        kind: str,
        step: int,
        metrics: dict[str, float],
        final: bool,
        when: datetime,
    ) -> None:
        with self._lock:
            predicate: dict[str, Any] = {
                "run": {"id": self.run_id, "status": "finished" if final else "running"},
                "step": step,
                "sequence": self._sequence,
                "metrics": metrics,
                "host": self.host,
                "time": _iso(when),
                "previous": self._previous,
                "final": final,
                "path": name,
                "kind": kind,
            }
            if self.interval is not None:
                predicate["interval_seconds"] = self.interval.total_seconds()
            statement = Statement(
                subjects=(ArtifactRef(name, digest),),
                predicate_type=CHECKPOINT_PREDICATE,
                predicate=predicate,
            )
            self.store.record(statement, self._key)
            self._sequence += 1
            self._previous = digest

    # ------------------------------------------------------------------ lifecycle
    def _raise_errors(self) -> None:
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def flush(self) -> None:
        """Wait until every queued checkpoint is hashed and recorded; raise the first error."""
        if self._pool is not None and not self._closed:
            # a barrier: the single worker runs jobs in order
            self._pool.submit(lambda: None).result()
        self._raise_errors()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self._owns_store:
                self.store.close()

    def __enter__(self) -> CheckpointLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sequence(self) -> int:
        """How many records the run has (including queued ones once flushed)."""
        return self._sequence
