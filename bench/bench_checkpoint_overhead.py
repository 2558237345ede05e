"""How much does recording checkpoints slow a training loop down?

    python bench/bench_checkpoint_overhead.py [--hidden 2048] [--steps 60] [--every 10]
                                             [--repeat 3] [--format text|json]

A real training loop (an MLP on random data, CPU, torch) saves a checkpoint with
``torch.save`` every --every steps, three ways, --repeat loops each (modes interleaved):

* ``none``: no ledger (the anchor);
* ``sync``: the ledger hashes and signs inside ``record()`` (``background=False``), i.e.
  what "hash after save" costs when done in the loop;
* ``background``: the ledger's default, hashing on a worker thread after the file is
  closed; ``flush()`` at the end is counted in the total.

Printed per mode, as medians over all saves and loops: the save call (torch.save +
record) in ms and its extra over ``none`` (noisy: includes disk writes), the time
``record()`` itself blocks the loop and that as a % of the training time between two
saves, and the whole loop's time relative to ``none``.
Needs torch (``pip install torch==2.13.0``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import torch
except ImportError:
    sys.exit("this benchmark needs torch: pip install torch==2.13.0")

try:
    from aisec.core.evidence import SigningKey
    from aisec.training import CheckpointLedger
except ImportError:  # run from a checkout without an installed aisec
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from aisec.core.evidence import SigningKey
    from aisec.training import CheckpointLedger


def run_loop(mode: str, args: argparse.Namespace, workdir: Path) -> dict[str, list[float]]:
    torch.manual_seed(0)
    h = args.hidden
    model = torch.nn.Sequential(
        torch.nn.Linear(h, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU(),
        torch.nn.Linear(h, 1),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, h)
    y = torch.randn(args.batch, 1)
    folder = workdir / mode
    folder.mkdir()
    ledger = None
    if mode != "none":
        ledger = CheckpointLedger(
            f"bench-{mode}",
            store=f"sqlite:///{workdir / f'{mode}.db'}",
            key=SigningKey.generate(),
            root=folder,
            background=(mode == "background"),
        )
    saves: list[float] = []
    records: list[float] = []
    steps: list[float] = []
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        steps.append(time.perf_counter() - t0)
        if step % args.every == 0:
            path = folder / f"step-{step:05d}.pt"
            t1 = time.perf_counter()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
            t2 = time.perf_counter()
            if ledger is not None:
                ledger.record(path, step=step, metrics={"loss": loss.item()})
            t3 = time.perf_counter()
            saves.append(t3 - t1)
            records.append(t3 - t2)
    if ledger is not None:
        ledger.close()  # waits for the background hashing
    total = time.perf_counter() - start
    size = (folder / f"step-{args.every:05d}.pt").stat().st_size
    for p in folder.iterdir():
        p.unlink()
    return {
        "total_s": [total],
        "saves": saves,
        "records": records,
        "steps": steps,
        "checkpoint_bytes": [size],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the hashing thread gets the other core, as on a real node
    modes = ("none", "sync", "background")
    samples: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    with tempfile.TemporaryDirectory(prefix="aisec-bench-ckpt-") as tmp:
        for r in range(args.repeat):
            for mode in modes:  # interleaved, so load from elsewhere hits every mode alike
                work = Path(tmp) / f"{mode}-{r}"
                work.mkdir()
                for key, values in run_loop(mode, args, work).items():
                    samples[mode].setdefault(key, []).extend(values)
    med = {m: {k: statistics.median(v) for k, v in d.items()} for m, d in samples.items()}
    base = med["none"]
    between = base["steps"] * 1000 * args.every  # training time between two saves, ms
    rows = []
    for mode in modes:
        b = med[mode]
        extra = (b["saves"] - base["saves"]) * 1000
        rows.append(
            {
                "mode": mode,
                "save_ms": round(b["saves"] * 1000, 2),
                "record_ms": round(b["records"] * 1000, 3),
                "record_pct_of_step_time": round(100 * b["records"] * 1000 / between, 3),
                "extra_ms_per_save": round(extra, 2),
                "extra_pct_of_step_time": round(100 * extra / between, 2),
                "total_s": round(b["total_s"], 3),
                "total_vs_none": round(b["total_s"] / base["total_s"], 3),
            }
        )
    info: dict[str, Any] = {
        "schema": "aisec.bench.checkpoint-overhead/v1",
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}",
        "checkpoint_mb": round(base["checkpoint_bytes"] / 1e6, 1),
        "saves_per_mode": len(samples["none"]["saves"]),
        "steps": args.steps,
        "every": args.every,
        "step_ms": round(base["steps"] * 1000, 2),
        "rows": rows,
        "sync_over_background_record": round(rows[1]["record_ms"] / rows[2]["record_ms"], 1),
    }
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return
    print(
        f"{info['machine']}; checkpoint {info['checkpoint_mb']} MB every {args.every} steps "
        f"of {info['step_ms']} ms (median); medians of {info['saves_per_mode']} saves "
        f"and {args.repeat} loops per mode"
    )
    print(f"{'mode':<11} {'save ms':>9} {'extra ms':>9} {'record() ms':>12} "
          f"{'% of step time':>15} {'loop s':>8} {'vs none':>8}")  # fmt: skip
    for r in rows:
        print(
            f"{r['mode']:<11} {r['save_ms']:>9.2f} {r['extra_ms_per_save']:>9.2f} "
            f"{r['record_ms']:>12.3f} {r['record_pct_of_step_time']:>14.3f}% {r['total_s']:>8.3f} "
            f"{r['total_vs_none']:>7.3f}x"
        )
    print(
        f"record() blocks the loop {info['sync_over_background_record']}x longer with sync "
        "hashing than with the background ledger"
    )


if __name__ == "__main__":
    main()
