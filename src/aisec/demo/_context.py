"""What every demo step shares: the folder, the key, the open store, and the report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisec.core.evidence import EvidenceStore, SigningKey, generate_keypair, load_signing_key
from aisec.core.evidence.recorder import StoreRecorder
from aisec.core.paths import use_evidence_root

__all__ = ["DemoContext", "StageSummary"]

Say = Callable[[str], None]


@dataclass
class StageSummary:
    """What one stage of the demo showed, in a few lines and a few figures."""

    stage: str
    title: str
    lines: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "title": self.title,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "lines": self.lines,
            "facts": self.facts,
        }


@dataclass
class DemoContext:
    workdir: Path
    home: Path
    key_path: Path
    key: SigningKey
    store: EvidenceStore
    say: Say
    summaries: list[StageSummary] = field(default_factory=list)

    @classmethod
    @contextmanager
    def open(cls, workdir: Path, say: Say) -> Iterator[DemoContext]:
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        home = workdir / ".aisec"
        key_path = home / "keys" / "aisec.key"
        if key_path.exists():
            key = load_signing_key(key_path)
            say(f"key: reusing {key_path} ({key.keyid[:16]}…)")
        else:
            key, _, _ = generate_keypair(key_path)
            say(f"key: generated ECDSA P-256 key {key.keyid[:16]}… at {key_path}")
        url = f"sqlite:///{home / 'evidence.db'}"
        # the demo's evidence names its files relative to the demo folder: move the folder
        # anywhere and the log reads and verifies the same
        with (
            use_evidence_root(workdir),
            EvidenceStore.open(url, witness_dir=home / "witness") as store,
        ):
            yield cls(workdir, home, key_path, key, store, say)

    @property
    def recorder(self) -> StoreRecorder:
        """The demo's one recorder: every stage records through it, as the CLI does."""
        return StoreRecorder.for_store(self.store, self.key)

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.home / 'evidence.db'}"

    def path(self, *parts: str) -> Path:
        p = self.workdir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    @contextmanager
    def stage(self, stage: str, title: str) -> Iterator[StageSummary]:
        summary = StageSummary(stage, title)
        self.say(f"[{stage}] {title}")
        started = time.monotonic()
        try:
            yield summary
        finally:
            summary.seconds = time.monotonic() - started
            self.summaries.append(summary)
            self.say(f"[{stage}] done in {summary.seconds:.1f}s")
