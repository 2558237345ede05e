"""The end-to-end scenario behind ``aisec demo``.

It works in a folder of its own (default ``./aisec-demo``) on the embedded defaults
(SQLite, in-process state), with data it makes itself, and walks the six stages:
audit a multi-source dataset with a noisy and a poisoned source; train while the
checkpoint ledger records; red-team the built-in vulnerable chatbot; scan, convert,
sign and gate the model; run the gateway against an extraction attacker; discover the
enterprise's AI. Every step signs its evidence into one log, verified at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisec.demo._context import DemoContext, StageSummary

__all__ = ["DemoResult", "StageSummary", "run_demo"]


@dataclass
class DemoResult:
    workdir: Path
    store_url: str
    key_path: Path
    public_key_path: Path
    stages: list[StageSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.demo/v1",
            "ok": self.ok,
            "workdir": str(self.workdir),
            "store": self.store_url,
            "private_key": str(self.key_path),
            "public_key": str(self.public_key_path),
            "stages": [s.to_json() for s in self.stages],
        }


def run_demo(workdir: Path, say: Callable[[str], None]) -> DemoResult:
    """Run the scenario in ``workdir``; ``say`` receives one line per step."""
    from aisec.demo._chain import verify_chain
    from aisec.demo._data import run_data
    from aisec.demo._deployment import gate_release, prepare_release
    from aisec.demo._evaluation import run_evaluation
    from aisec.demo._inference import run_inference
    from aisec.demo._monitoring import run_monitoring
    from aisec.demo._serving import serve_release
    from aisec.demo._training import run_training

    with DemoContext.open(workdir, say) as ctx:
        train_csv = run_data(ctx)
        model_dir = run_training(ctx, train_csv)
        release = prepare_release(ctx, model_dir)
        prompt = run_evaluation(ctx, release.release)
        gate_release(ctx, release, prompt, train_csv)
        run_inference(ctx)
        serve_release(ctx, release.release)
        run_monitoring(ctx, release.release)
        verify_chain(ctx)
        return DemoResult(
            workdir=ctx.workdir,
            store_url=ctx.store_url,
            key_path=ctx.key_path,
            public_key_path=ctx.key_path.with_suffix(".pub"),
            stages=ctx.summaries,
        )
