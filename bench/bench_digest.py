"""How fast is aisec's hashing path next to the tools everyone trusts?

    python bench/bench_digest.py [--size 2GiB] [--dir DIR] [--keep] [--format text|json]

Creates a file of --size bytes (a random 64 MiB block repeated), splits the same bytes into
N = os.cpu_count() part files, warms the page cache, then measures, best of --repeat runs:

* ``sha256sum FILE`` (coreutils): the anchor;
* ``openssl dgst -sha256 FILE``, if openssl is installed;
* aisec ``digest_file(FILE)``: one stream, must equal sha256sum;
* the machine's parallel SHA-256 limit: N concurrent anchor processes, each hashing one part file
  (a disjoint 1/N of the data), for sha256sum and openssl; the best of the two is the limit;
* aisec ``digest_path(FILE, shard_size=...)`` on N worker threads.

Throughput is decimal GB/s (1e9 bytes per second). Temp files are removed unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from aisec.core.digest import DEFAULT_SHARD_SIZE, digest_file, digest_path
except ImportError:  # run from a checkout without an installed aisec
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from aisec.core.digest import DEFAULT_SHARD_SIZE, digest_file, digest_path

BLOCK = 64 * 1024 * 1024
UNITS = {
    "": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "tb": 10**12,
}  # fmt: skip


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 2GiB, 512MiB, 1000000)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def human(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def write_pattern(path: Path, block: bytes, start: int, end: int) -> None:
    """Bytes [start, end) of the infinite repetition of ``block``."""
    view = memoryview(block)
    with path.open("wb") as out:
        pos = start
        while pos < end:
            offset = pos % len(block)
            n = min(len(block) - offset, end - pos)
            out.write(view[offset : offset + n])
            pos += n


def warm(paths: list[Path]) -> None:
    buf = bytearray(8 * 1024 * 1024)
    for p in paths:
        with p.open("rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def tool_digest(cmd: list[str]) -> str:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out.split("=")[-1].strip() if "=" in out else out.split()[0]


def concurrent(cmds: list[list[str]]) -> list[str]:
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"an anchor process failed: {cmds}")
    return outs


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n = os.cpu_count() or 1
    size, repeat, shard = args.size, args.repeat, args.shard_size
    big = work / "blob.bin"
    parts = [work / f"part{i}.bin" for i in range(n)]
    block = os.urandom(BLOCK)
    write_pattern(big, block, 0, size)
    cuts = [size * i // n for i in range(n + 1)]
    for i, part in enumerate(parts):
        write_pattern(part, block, cuts[i], cuts[i + 1])
    warm([big, *parts])

    rows: list[dict[str, Any]] = []

    def row(name: str, seconds: float, **extra: Any) -> dict[str, Any]:
        r = {"name": name, "seconds": seconds, "gb_per_s": size / seconds / 1e9, **extra}
        rows.append(r)
        return r

    sha256sum = shutil.which("sha256sum")
    openssl = shutil.which("openssl")
    if sha256sum is None:
        raise SystemExit("sha256sum (coreutils) is the anchor and is not installed")
    t, anchor_hex = best_of(repeat, lambda: tool_digest([sha256sum, str(big)]))
    anchor = row("sha256sum (anchor)", t)
    ssl = None
    if openssl:
        t, ssl_hex = best_of(repeat, lambda: tool_digest([openssl, "dgst", "-sha256", str(big)]))
        assert ssl_hex == anchor_hex, "openssl and sha256sum disagree"
        ssl = row("openssl dgst -sha256", t)
    t, ours = best_of(repeat, lambda: digest_file(big))
    assert ours == f"sha256:{anchor_hex}", "digest_file disagrees with sha256sum"
    single = row("aisec digest_file (1 stream)", t)

    limits = []
    tools = [("sha256sum", [sha256sum])] + (
        [("openssl", [openssl, "dgst", "-sha256"])] if openssl else []
    )
    for label, cmd in tools:
        t, _ = best_of(repeat, lambda cmd=cmd: concurrent([[*cmd, str(p)] for p in parts]))
        limits.append(row(f"parallel limit: {n}x {label} on 1/{n} each", t))
    limit = max(limits, key=lambda r: r["gb_per_s"])
    t, manifest = best_of(repeat, lambda: digest_path(big, shard_size=shard, workers=n))
    assert getattr(manifest, "total_size", None) == size
    sharded = row(f"aisec digest_path sharded ({human(shard)}, {n} workers)", t)

    single["ratio"] = {"vs sha256sum": single["gb_per_s"] / anchor["gb_per_s"]}
    if ssl:
        ssl["ratio"] = {"vs sha256sum": ssl["gb_per_s"] / anchor["gb_per_s"]}
        single["ratio"]["vs openssl"] = single["gb_per_s"] / ssl["gb_per_s"]
    for r in limits:
        r["ratio"] = {"vs sha256sum": r["gb_per_s"] / anchor["gb_per_s"]}
    sharded["ratio"] = {
        "vs parallel limit": sharded["gb_per_s"] / limit["gb_per_s"],
        "vs aisec 1 stream": sharded["gb_per_s"] / single["gb_per_s"],
    }
    return {
        "schema": "aisec.bench.digest/v1",
        "size_bytes": size,
        "cpus": n,
        "repeat": repeat,
        "shard_size": shard,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "parallel_limit": limit["name"],
        "target": "sharded >= 0.9x parallel limit",
        "target_met": sharded["ratio"]["vs parallel limit"] >= 0.9,
        "rows": rows,
    }


def render(result: dict[str, Any]) -> str:
    head = (
        f"aisec digest benchmark: {human(result['size_bytes'])} file, {result['cpus']} CPUs, "
        f"page cache warm, best of {result['repeat']}, GB/s = 1e9 bytes/s"
    )
    lines = [head, "", f"{'measurement':<52} {'seconds':>8} {'GB/s':>7}  ratio"]
    for r in result["rows"]:
        ratio = ", ".join(f"{v:.2f}x {k}" for k, v in r.get("ratio", {}).items())
        lines.append(f"{r['name']:<52} {r['seconds']:>8.3f} {r['gb_per_s']:>7.3f}  {ratio}")
    verdict = "met" if result["target_met"] else "NOT met"
    lines += [
        "",
        f"limit = {result['parallel_limit']}; target {result['target']}: {verdict}",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=2 * 2**30, help="file size (2GiB)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temp files")
    parser.add_argument("--keep", action="store_true", help="keep the temp files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument("--shard-size", type=parse_size, default=DEFAULT_SHARD_SIZE)
    parser.add_argument("-f", "--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aisec-bench-digest-", dir=args.dir))
    try:
        result = measure(args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.format == "json" else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
