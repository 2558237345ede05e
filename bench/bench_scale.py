"""Claim: a registry sweep scales on Ray — >= 1.7x from 1 to 2 workers, Ray overhead <= 10%
against the in-process path at 1 worker — and the cost at 1M models follows from the measured
per-file cost.

Builds a synthetic registry of --files files (models of 4 files: config, tokenizer, a pickle,
a SafeTensors header; 1 in 20 models carries a pickle payload that is never run), then sweeps
it three ways in the same run: in process, Ray with 1 worker, Ray with 2 workers (local
clusters, started fresh each time so start-up is counted once and reported apart). Prints the
throughput, the per-file overhead of Ray and the scaling efficiency, then a cost model.

    .venv/bin/python bench/bench_scale.py [--files 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aisec.core.evidence.recorder import NullRecorder  # noqa: E402
from aisec.scale import plan_sweep, run_sweep  # noqa: E402

PAYLOAD = b"cos\nsystem\n(S'touch bench-scale-payload-ran'\ntR."


def build(root: Path, files: int) -> Path:
    hub = root / "hub"
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    st = struct.pack("<Q", len(header)) + header + b"\0" * 16
    for i in range(files // 4):
        m = hub / f"org{i % 50}" / f"model-{i}"
        m.mkdir(parents=True)
        (m / "config.json").write_text(json.dumps({"hidden": 64, "i": i}))
        (m / "tokenizer.json").write_text(json.dumps({"vocab": {"a": 0, "b": 1}}))
        (m / "weights.bin").write_bytes(
            PAYLOAD if i % 20 == 0 else pickle.dumps({"w": list(range(64))}, protocol=4)
        )
        (m / "model.safetensors").write_bytes(st)
    return hub


def sweep(units: list, engine: str, workers: int | None) -> tuple[float, float, dict]:
    start = time.perf_counter()
    if engine == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)  # fmt: skip
        # warm every worker (its first task imports aisec): start-up, not sweep time
        run_sweep(units[: 2 * (workers or 1)], recorder=NullRecorder(), engine="ray")
        ready = time.perf_counter()
    else:
        ready = start
    result = run_sweep(units, recorder=NullRecorder(), engine=engine, workers=workers)
    end = time.perf_counter()
    if engine == "ray":
        ray.shutdown()
    return ready - start, end - ready, result.verdicts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        t = time.perf_counter()
        hub = build(root, args.files)
        units = plan_sweep([hub], model_depth=2)
        nfiles = sum(len(u.files) for u in units)
        built = time.perf_counter() - t
        print(f"registry: {len(units)} models, {nfiles} files (built and planned in "
              f"{built:.1f}s); load {os.getloadavg()}")  # fmt: skip
        rows = []
        for label, engine, workers in (
            ("in process", "local", None),
            ("ray, 1 worker", "ray", 1),
            ("ray, 2 workers", "ray", 2),
        ):
            startup, secs, verdicts = sweep(units, engine, workers)
            rows.append((label, startup, secs, verdicts))
            print(f"{label:<16} start-up {startup:5.1f}s  sweep {secs:6.1f}s  "
                  f"{nfiles / secs:8.0f} files/s  {verdicts}")  # fmt: skip
        base, one, two = rows[0][2], rows[1][2], rows[2][2]
        print()
        print(f"Ray overhead at 1 worker: {one / base - 1:+.1%} "
              f"({(one - base) / nfiles * 1e6:.0f} us per file)  [goal <= +10%]")  # fmt: skip
        print(
            f"speed-up 1 -> 2 workers: {one / two:.2f}x (efficiency {one / two / 2:.0%})  "
            "[goal >= 1.7x]"
        )
        per_file = two / nfiles / 2  # core-seconds per file on this machine
        print("\ncost model (files per model as here, linear in files, one core per worker):")
        print(
            f"  measured: {per_file * 1e3:.2f} ms of one core per (small) file; real "
            "checkpoints are dominated by reading their bytes (see bench_model_scan.py)"
        )
        for models in (100_000, 1_000_000):
            f = models * nfiles / len(units)
            for cores in (64, 512):
                minutes = f * per_file / cores / 60
                print(f"  {models:>9,} models, {cores:>3} cores: {minutes:8.1f} min")  # fmt: skip
        if (root / "bench-scale-payload-ran").exists():
            sys.exit("a payload ran: the sweep executed a model file")


if __name__ == "__main__":
    main()
