# ruff: noqa: E501  (generated log lines and the result table read best unwrapped)
"""Discovery throughput on a generated Zeek dns.log and Squid access.log.

aisec's network scan (Polars streaming: parse, reduce to (host, client) pairs, match the
catalogue) against two anchors on the same files in the same run:

* pandas ``read_csv`` (C engine) of the same TSV, then ``value_counts`` on the host column
  and the same catalogue matching: the usual way to load a Zeek log into Python (it is what
  ``zat``'s log-to-dataframe does underneath), so a fair "parse the log" anchor.
* ``grep -F -f domains``: a fixed-string scan with the catalogue's exact domains; it neither
  parses fields nor handles wildcard domains, so it is an upper bound on raw scanning.

Usage: .venv/bin/python bench/bench_discovery.py [--lines 3000000] [--dir /tmp/aisec-bench]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

from aisec.monitoring import load_ai_catalog
from aisec.monitoring._logs import scan_network_log

AI_HOSTS = ["api.openai.com", "api.anthropic.com", "x.openai.azure.com"]
BENIGN = [
    "github.com",
    "pypi.org",
    "fonts.googleapis.com",
    "cdn.jsdelivr.net",
    "www.google.com",
    "s3.amazonaws.com",
    "slack.com",
    "openai.com",
    "api.openai.com.example.net",
]


def generate(d: Path, lines: int, share: float) -> tuple[Path, Path]:
    rng = random.Random(1)  # noqa: S311 - benchmark data
    d.mkdir(parents=True, exist_ok=True)
    hosts = [
        rng.choice(AI_HOSTS) if rng.random() < share else rng.choice(BENIGN) for _ in range(100_003)
    ]
    dns, squid = d / "dns.log", d / "access.log"
    if not dns.exists():
        with dns.open("w") as fh:
            fh.write(
                "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tqtype_name\n"
            )
            fh.writelines(
                f"{1767225600 + i * 0.01:.6f}\tC{i:x}\t10.{i % 40}.{i % 7}.{i % 250}\t10.0.0.53\t{hosts[i % 100_003]}\tA\n"
                for i in range(lines)
            )
    if not squid.exists():
        with squid.open("w") as fh:
            fh.writelines(
                f"{1767225600 + i * 0.01:.3f}    120 10.{i % 40}.{i % 7}.{i % 250} TCP_TUNNEL/200 4000 CONNECT {hosts[i % 100_003]}:443 - HIER_DIRECT/1.2.3.4 -\n"
                for i in range(lines)
            )
    return dns, squid


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=3_000_000)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "aisec-bench")
    ap.add_argument("--ai-share", type=float, default=0.02, help="share of lines naming AI hosts")
    args = ap.parse_args()
    folder = args.dir / f"{args.lines}-{args.ai_share}"
    dns, squid = generate(folder, args.lines, args.ai_share)
    cat = load_ai_catalog()
    domains = folder / "domains.txt"
    domains.write_text("\n".join(h for h in cat._exact) + "\n")
    rows = []
    grep = shutil.which("grep") or "grep"
    for path, fmt in ((dns, "zeek-tsv"), (squid, "squid")):
        size = path.stat().st_size
        obs, t_aisec = timed(lambda p=path, f=fmt: list(scan_network_log(p, f, cat)))
        calls = sum(o.count for o in obs)
        if fmt == "zeek-tsv":

            def anchor(p: Path = path) -> int:
                df = pd.read_csv(
                    p,
                    sep="\t",
                    comment="#",
                    header=None,
                    usecols=[2, 4],
                    names=["c", "q"],
                    dtype=str,
                    engine="c",
                )
                counts = df.groupby(["q", "c"]).size()
                return int(sum(n for (h, _), n in counts.items() if cat.match_host(h)))

            name = "pandas read_csv+groupby"
        else:

            def anchor(p: Path = path) -> int:
                df = pd.read_csv(
                    p,
                    sep=r"\s+",
                    header=None,
                    usecols=[2, 6],
                    names=["c", "u"],
                    dtype=str,
                    engine="c",
                )
                hosts = df["u"].str.extract(r"^(?:[a-z]+://)?([^/:]+)")[0]
                counts = df.assign(h=hosts).groupby(["h", "c"]).size()
                return int(sum(n for (h, _), n in counts.items() if cat.match_host(h)))

            name = "pandas read_csv(\\s+)+groupby"
        a_calls, t_anchor = timed(anchor)
        g, t_grep = timed(
            lambda p=path: subprocess.run(
                [grep, "-c", "-F", "-f", str(domains), str(p)],
                capture_output=True,
                text=True,
                check=False,
            )
        )
        rows.append(
            (
                fmt,
                args.lines,
                size,
                t_aisec,
                calls,
                name,
                t_anchor,
                a_calls,
                t_grep,
                g.stdout.strip(),
            )
        )
    print(
        f"{'log':<9} {'lines':>9} {'MB':>7} {'aisec s':>8} {'aisec MB/s':>10} {'Mlines/s':>8}"
        f" | {'anchor':<28} {'s':>6} {'ratio':>6} | {'grep -F s':>9} {'ratio':>6} | calls aisec/anchor/grep"
    )
    for fmt, n, size, ta, ca, an, tn, cn, tg, cg in rows:
        print(
            f"{fmt:<9} {n:>9} {size / 1e6:7.0f} {ta:8.2f} {size / 1e6 / ta:10.0f} {n / ta / 1e6:8.2f}"
            f" | {an:<28} {tn:6.2f} {tn / ta:5.1f}x | {tg:9.2f} {tg / ta:5.1f}x | {ca}/{cn}/{cg}"
        )


if __name__ == "__main__":
    main()
