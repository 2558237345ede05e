"""aisec model sign vs OpenSSF model_signing sign on the same multi-file, multi-GB folder.

    python bench/bench_model_sign.py [--sizes 1.25GB,0.75GB,0.5GB] [--shard-size 256MiB]
                                     [--repeat 3] [--dir DIR] [--keep] [--format text|json]

Generates a model folder of len(--sizes) files (a random 64 MiB block repeated), one EC P-256
key, warms the page cache, then times, best of --repeat runs, each as its own process:

* ``model_signing sign key`` (CLI, model-signing 1.1.1): file serialisation, its default;
* aisec ``sign_model`` (what ``aisec model sign --no-record`` runs), file serialisation;
* model-signing shard serialisation at --shard-size (its Python API: the CLI has no option);
* aisec ``sign_model(shard_size=...)`` (``aisec model sign --shard-size``), same shard size.

Each aisec signature is then checked with ``model_signing verify`` (files: CLI; shards: API),
so the speed-up is for signatures model-signing accepts. Ratios are model-signing time over
aisec time (higher is better for aisec). Needs ``pip install model-signing==1.1.1 pyopenssl``.

What is possible: SHA-256 of one file is one stream, so in file mode neither tool can use more
than one core per file, and model-signing already hashes files in parallel. The ceiling of
"model-signing files / aisec shards" is max(largest file, total / cores) / (total / cores):
1.0x for three balanced files on 2 cores, 2.0x when one file holds the model. The script
prints that ceiling beside the measured ratio; the machine's other load shows in both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BLOCK = 64 * 1024 * 1024
UNITS = {"": 1, "b": 1, "mb": 10**6, "gb": 10**9, "mib": 2**20, "gib": 2**30}
BIN = Path(sys.executable).parent

MS_SHARD_SIGN = """
import sys, model_signing
model, key, sig, shard = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = model_signing.hashing.Config().use_shard_serialization(shard_size=shard)
model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(
    h).sign(model, sig)
"""

# what `aisec model sign --no-record` runs (the CLI command is registered by the model group,
# which may not be wired in yet); the same library call, in its own process
AISEC_SIGN = """
import sys
from pathlib import Path
from aisec.core.evidence import load_signing_key
from aisec.deployment.signing import sign_model
model, key, sig, shard = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) or None
sign_model(model, load_signing_key(Path(key)), signature_path=sig, shard_size=shard)
"""

MS_SHARD_VERIFY = """
import sys, model_signing
model, pub, sig, shard = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = model_signing.hashing.Config().use_shard_serialization(shard_size=shard)
model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(
    h).verify(model, sig)
"""


def parse_size(text: str) -> int:
    num = text.strip().rstrip("BbIiGgMm")
    unit = text.strip()[len(num) :].lower()
    if unit not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(float(num) * UNITS[unit])


def make_model(folder: Path, sizes: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(BLOCK)
    for i, size in enumerate(sizes):
        with (folder / f"model-{i + 1:05d}-of-{len(sizes):05d}.safetensors").open("wb") as fh:
            left = size
            while left:
                n = min(left, BLOCK)
                fh.write(block[:n])
                left -= n
    (folder / "config.json").write_text('{"architectures": ["Bench"]}')


def warm(folder: Path) -> None:
    for p in folder.iterdir():
        with p.open("rb") as fh:
            while fh.read(BLOCK):
                pass


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{res.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1.25GB,0.75GB,0.5GB")
    ap.add_argument("--shard-size", type=parse_size, default=parse_size("256MiB"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="aisec-bench-sign-", dir=args.dir))
    env = dict(os.environ, AISEC_HOME=str(work / ".aisec"))
    try:
        model, key, pub = work / "model", work / "key.pem", work / "key.pub"
        make_model(model, sizes)
        subprocess.run(
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["openssl", "ec", "-in", str(key), "-pubout", "-out", str(pub)],
            check=True,
            capture_output=True,
        )
        warm(model)
        py, shard = str(sys.executable), str(args.shard_size)
        ms_cli = str(BIN / "model_signing")
        sig = {name: str(work / f"{name}.sig") for name in ("ms", "ai", "mss", "ais")}
        runs: dict[str, list[str]] = {
            "model_signing files": [
                ms_cli, "sign", "key", "--private_key", str(key), "--signature", sig["ms"],
                str(model),
            ],
            "aisec files": [py, "-c", AISEC_SIGN, str(model), str(key), sig["ai"], "0"],
            "model_signing shards": [py, "-c", MS_SHARD_SIGN, str(model), str(key), sig["mss"],
                                     shard],
            "aisec shards": [py, "-c", AISEC_SIGN, str(model), str(key), sig["ais"], shard],
        }  # fmt: skip
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, cmd in runs.items():
                t = timed(cmd, env)
                best[name] = min(best.get(name, t), t)
        # the aisec signatures verify with model-signing
        timed([ms_cli, "verify", "key", "--public_key", str(pub), "--signature", sig["ai"],
               str(model)], env)  # fmt: skip
        timed([py, "-c", MS_SHARD_VERIFY, str(model), str(pub), sig["ais"], shard], env)
        total = sum(sizes)
        rows = [
            {
                "serialization": mode,
                "model_signing_s": round(best[f"model_signing {mode}"], 3),
                "aisec_s": round(best[f"aisec {mode}"], 3),
                "model_signing_GBps": round(total / best[f"model_signing {mode}"] / 1e9, 3),
                "aisec_GBps": round(total / best[f"aisec {mode}"] / 1e9, 3),
                "ratio": round(best[f"model_signing {mode}"] / best[f"aisec {mode}"], 2),
            }
            for mode in ("files", "shards")
        ]
        cpus = os.cpu_count() or 1
        ceiling = max(max(sizes), total / cpus) / (total / cpus)
        report: dict[str, Any] = {
            "ceiling_ms_files_over_aisec_shards": round(ceiling, 2),
            "schema": "aisec.bench-model-sign/v1",
            "files": [len(sizes), "+ config.json"],
            "bytes": total,
            "sizes": sizes,
            "shard_size": args.shard_size,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "repeat": args.repeat,
            "rows": rows,
            "aisec_signatures_verified_by_model_signing": True,
            "cross_mode_ratio_ms_files_over_aisec_shards": round(
                best["model_signing files"] / best["aisec shards"], 2
            ),
        }
        if args.format == "json":
            print(json.dumps(report, indent=2))
            return
        print(
            f"{len(sizes)} files, {total / 1e9:.2f} GB, page cache warm, {os.cpu_count()} CPUs, "
            f"best of {args.repeat}"
        )
        print(f"{'serialization':<14}{'model_signing':>15}{'aisec':>10}{'ratio':>8}")
        for r in rows:
            label = r["serialization"] + (
                f" ({args.shard_size // 2**20} MiB)" if r["serialization"] == "shards" else ""
            )
            print(
                f"{label:<20}{r['model_signing_s']:>8.2f} s{r['aisec_s']:>8.2f} s"
                f"{r['ratio']:>7.2f}x"
            )
        print(
            "model_signing files (its default) / aisec shards: "
            f"{report['cross_mode_ratio_ms_files_over_aisec_shards']:.2f}x"
        )
        print(f"ceiling of that ratio for these sizes on {cpus} CPUs: {ceiling:.2f}x")
        print("every aisec signature above verified with model_signing verify")
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
