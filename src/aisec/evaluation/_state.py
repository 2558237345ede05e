"""Run state: one JSON-lines file per run id, appended and flushed after every request.

A killed run (even ``kill -9``) loses at most the requests in flight; ``--resume RUN_ID``
reads the file back and never re-sends a request whose result it holds. Errored requests
are kept for the record but are sent again on resume.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from aisec.core.errors import FormatError, InputError
from aisec.evaluation._model import Outcome, TrialRecord

__all__ = ["STATE_SCHEMA", "RunState"]

STATE_SCHEMA = "aisec.redteam-state/v1"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


class RunState:
    def __init__(self, path: Path, header: dict[str, Any], done: dict[str, TrialRecord]) -> None:
        self.path = path
        self.header = header
        self.done = done
        self.resumed = len(done)
        self._fh: IO[str] | None = None

    @staticmethod
    def path_for(state_dir: str | os.PathLike[str], run_id: str) -> Path:
        state_dir = Path(state_dir)
        if not _RUN_ID.match(run_id):
            raise InputError(f"run id {run_id!r} must be letters, digits, '.', '_' or '-'")
        return state_dir / f"{run_id}.jsonl"

    @classmethod
    def create(
        cls, state_dir: str | os.PathLike[str], run_id: str, header: dict[str, Any]
    ) -> RunState:
        path = cls.path_for(state_dir, run_id)
        if path.exists():
            raise InputError(f"run {run_id} exists already; resume it with --resume {run_id}")
        path.parent.mkdir(parents=True, exist_ok=True)
        state = cls(path, {"schema": STATE_SCHEMA, "run_id": run_id, **header}, {})
        with path.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(state.header, sort_keys=True) + "\n")
        return state

    @classmethod
    def resume(
        cls, state_dir: str | os.PathLike[str], run_id: str, header: dict[str, Any]
    ) -> RunState:
        path = cls.path_for(state_dir, run_id)
        try:
            lines = path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            raise InputError(f"no run {run_id} to resume", path=path) from None
        except OSError as exc:
            raise InputError(f"cannot read run state: {exc.strerror}", path=path) from exc
        try:
            saved = json.loads(lines[0])
        except (IndexError, ValueError) as exc:
            raise FormatError("run state has no header", path=path) from exc
        for key, value in header.items():
            if saved.get(key) != value:
                raise InputError(
                    f"cannot resume run {run_id}: {key} was {saved.get(key)!r}, now {value!r}",
                    path=path,
                )
        done: dict[str, TrialRecord] = {}
        for line in lines[1:]:
            try:
                rec = TrialRecord.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: its request is sent again
            if rec.outcome is not Outcome.ERROR:
                done[rec.trial_id] = rec
        return cls(path, saved, done)

    def __enter__(self) -> RunState:
        with self.path.open("rb") as raw:
            raw.seek(0, 2)
            cut = raw.tell() > 0 and (raw.seek(-1, 2) or raw.read(1) != b"\n")
        self._fh = self.path.open("a", encoding="utf-8")
        if cut:  # a kill left half a line: end it so the next record starts clean
            self._fh.write("\n")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def append(self, record: TrialRecord) -> None:
        if self._fh is None:
            raise RuntimeError("RunState is not open")
        self._fh.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._fh.flush()
        if record.outcome is not Outcome.ERROR:
            self.done[record.trial_id] = record
