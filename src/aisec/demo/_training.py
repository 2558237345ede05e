"""Stage 2 of the demo: train a small model while the checkpoint ledger records it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from aisec.core.digest import digest_file
from aisec.core.evidence.artifact import artifact_statement
from aisec.demo._context import DemoContext
from aisec.training import CheckpointLedger, verify_checkpoints

__all__ = ["run_training"]

STEPS = 60
EVERY = 10


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def run_training(ctx: DemoContext, train_csv: Path) -> Path:
    """Returns the folder holding the final weights (NumPy .npz) and config."""
    with ctx.stage("training", "train with a checkpoint ledger; verify; catch tampering") as s:
        frame = pl.read_csv(train_csv)
        features = [c for c in frame.columns if c.startswith("f")]
        x = frame.select(features).to_numpy() / 16.0
        y = frame["label"].to_numpy()
        onehot = np.eye(10)[y]
        rng = np.random.default_rng(3)
        w = rng.normal(0, 0.01, size=(x.shape[1], 10))
        b = np.zeros(10)
        ckpt = ctx.path("training", "checkpoints", "x").parent
        for old in ckpt.glob("step-*.npz"):
            old.unlink()
        run_id = f"demo-train-{ctx.store.size()}"
        with CheckpointLedger(run_id, store=ctx.store, key=ctx.key, root=ckpt) as ledger:
            for step in range(1, STEPS + 1):
                p = _softmax(x @ w + b)
                grad = p - onehot
                w -= 0.5 * x.T @ grad / len(x)
                b -= 0.5 * grad.mean(axis=0)
                if step % EVERY == 0:
                    loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
                    acc = float(np.mean(p.argmax(axis=1) == y))
                    path = ckpt / f"step-{step:04d}.npz"
                    np.savez(path, weight=w.astype(np.float32), bias=b.astype(np.float32))
                    ledger.record(path, step=step, metrics={"loss": loss, "accuracy": acc})
            model = ctx.path("training", "model", "weights.npz").parent
            np.savez(model / "weights.npz", weight=w.astype(np.float32), bias=b.astype(np.float32))
            (model / "config.json").write_text(
                json.dumps(
                    {"model_type": "softmax-regression", "features": len(features), "classes": 10},
                    indent=2,
                )
            )
            ledger.finish(model, step=STEPS, metrics={"accuracy": acc})
        # lineage: these weights were made from this training set
        ctx.store.record(
            artifact_statement(
                [model / "weights.npz"],
                stage="training",
                note=f"final weights of run {run_id}",
                derived_from=[digest_file(train_csv)],
            ),
            ctx.key,
        )
        s.lines.append(
            f"run {run_id}: {STEPS // EVERY} checkpoints recorded in the ledger, accuracy {acc:.2f}"
        )
        result = verify_checkpoints(ckpt, run_id, store=ctx.store)
        clean = not result.findings
        s.lines.append(f"verify: {'all checkpoints match the ledger' if clean else 'PROBLEMS'}")

        # Tamper with one checkpoint, verify again, then put it back.
        victim = ckpt / f"step-{3 * EVERY:04d}.npz"
        original = victim.read_bytes()
        victim.write_bytes(original + b"\x00")
        try:
            tampered = verify_checkpoints(ckpt, run_id, store=ctx.store)
        finally:
            victim.write_bytes(original)
        caught = [f.title for f in tampered.findings]
        s.lines.append(
            f"after changing one byte of {victim.name}: "
            + ("; ".join(sorted(set(caught))) if caught else "NOT DETECTED")
        )
        s.ok = clean and bool(caught)
        s.facts.update(
            run_id=run_id,
            checkpoints=STEPS // EVERY,
            accuracy=round(acc, 3),
            tamper_caught=bool(caught),
        )
        return model
