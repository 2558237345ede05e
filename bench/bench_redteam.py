"""aisec's red-team engine next to garak, against the same local OpenAI-compatible server.

    python bench/bench_redteam.py [--garak-venv bench/.venv-garak] [--parallel 8,16,32]

* Starts aisec's demo chat service (an OpenAI-compatible mock) on 127.0.0.1 in its own
  process; it counts the requests it receives (GET /aisec-demo/stats).
* garak 0.17 (installed into --garak-venv from PyPI, with torch==2.13.0 from the local
  CPU wheel, if missing) runs probe ``encoding.InjectBase64`` (no run-time downloads)
  with default settings, then with ``--parallel_attempts N`` for each N.
* aisec runs its default suite with the fixed design (``--no-sequential``) and enough
  samples for at least the same number of requests as garak's default run, with
  ``--concurrency`` 16 and 64.
* Wall time is the whole command (process start to exit); requests are counted by the
  server; requests/s = requests / wall time.
* Finally aisec with sequential testing vs the fixed design at the same --samples: the
  requests sequential testing saved.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
RUNNER = (
    "import sys\n"
    "from aisec.cli import cli, main\n"
    "from aisec.cli.redteam import redteam_group\n"
    "cli.add_command(redteam_group)\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
SERVER = (
    "import sys\n"
    "from aisec.evaluation import serve_demo\n"
    "serve_demo(port=0, seed=0, on_ready=lambda u: print(u, flush=True))\n"
)


def ensure_garak(venv: Path) -> Path | None:
    py = venv / "bin" / "python"
    if not (venv / "bin" / "garak").exists():
        print(
            f"installing garak into {venv} (torch==2.13.0 first, from the local wheel)",
            file=sys.stderr,
        )
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "garak"], check=True)
        except subprocess.CalledProcessError as exc:
            print(f"garak could not be installed: {exc}", file=sys.stderr)
            return None
    return py


def server_requests(base: str) -> int:
    root = base.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/aisec-demo/stats", timeout=10) as resp:  # noqa: S310
        return int(json.load(resp)["requests"])


def timed(cmd: list[str], base: str, env: dict[str, str]) -> tuple[float, int, int]:
    before = server_requests(base)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd[:6])} ...")
    return wall, server_requests(base) - before, proc.returncode


def garak_cmd(py: Path, base: str, work: Path, parallel: int | None, generations: int) -> list[str]:
    opts = work / "garak-options.json"
    opts.write_text(
        json.dumps(
            {
                "openai": {
                    "OpenAICompatible": {
                        "uri": base,
                        "model": "aisec-demo-bank-1",
                        "api_key": "dummy",
                        "max_tokens": 64,
                    }
                }
            }
        )
    )
    cmd = [
        str(py),
        "-m",
        "garak",
        "--model_type",
        "openai.OpenAICompatible",
        "--model_name",
        "aisec-demo-bank-1",
        "--generator_option_file",
        str(opts),
        "--probes",
        "encoding.InjectBase64",
        "--generations",
        str(generations),
    ]
    if parallel:
        cmd += ["--parallel_attempts", str(parallel)]
    return cmd


def aisec_cmd(
    base: str,
    out: Path,
    samples: int,
    concurrency: int,
    *,
    sequential: bool,
    run_id: str,
    prompt: Path,
) -> list[str]:
    cmd = [
        PY,
        "-c",
        RUNNER,
        "redteam",
        "run",
        "--target",
        "openai",
        "--base-url",
        base,
        "--system-prompt-file",
        str(prompt),
        "--model",
        "aisec-demo-bank-1",
        "--samples",
        str(samples),
        "--concurrency",
        str(concurrency),
        "--no-record",
        "-f",
        "json",
        "-o",
        str(out),
        "--run-id",
        run_id,
        "--canary",
        "ZX-CANARY-7f3a9c21",
    ]
    return cmd if sequential else [*cmd, "--no-sequential"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--garak-venv", type=Path, default=ROOT / "bench" / ".venv-garak")
    ap.add_argument("--parallel", default="8,16,32")
    ap.add_argument(
        "--generations",
        default="5,10",
        help="garak --generations values (256 prompts each); aisec matches the count",
    )
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from aisec.evaluation import DEMO_SYSTEM_PROMPT, load_default_suite

    work = Path(tempfile.mkdtemp(prefix="bench-redteam-"))
    env = {
        **os.environ,
        "AISEC_HOME": str(work / ".aisec"),
        "XDG_DATA_HOME": str(work / "xd"),
        "XDG_CACHE_HOME": str(work / "xc"),
        "XDG_CONFIG_HOME": str(work / "xg"),
        "OPENAICOMPATIBLE_API_KEY": "dummy",
        "NO_COLOR": "1",
    }
    server = subprocess.Popen([PY, "-c", SERVER], stdout=subprocess.PIPE, text=True, env=env)
    rows: list[dict[str, Any]] = []
    prompt = work / "system.txt"
    prompt.write_text(DEMO_SYSTEM_PROMPT)
    suite = load_default_suite()
    variants = sum(len(suite.variants(c.id)) for c in suite.categories)
    turns = sum(len(e.turns) for e in suite.escalations) * 3
    seq: dict[str, Any] = {}
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        garak_py = ensure_garak(args.garak_venv)
        for gens in (int(g) for g in args.generations.split(",")):
            n_target = 256 * gens  # encoding.InjectBase64 has 256 prompts
            if garak_py is not None:
                for par in [None, *(int(p) for p in args.parallel.split(","))]:
                    cmd = garak_cmd(garak_py, base, work, par, gens)
                    wall, n, _ = timed(cmd, base, env)
                    label = "default" if par is None else f"--parallel_attempts {par}"
                    rows.append(
                        {
                            "size": n_target,
                            "tool": "garak 0.17",
                            "setting": label,
                            "requests": n,
                            "wall_s": wall,
                            "rps": n / wall,
                        }
                    )
            samples = math.ceil(max(1, n_target - turns) / variants)
            for conc in (16, 64):
                out = work / f"aisec-{gens}-{conc}.json"
                cmd = aisec_cmd(
                    base,
                    out,
                    samples,
                    conc,
                    sequential=False,
                    run_id=f"fixed-{gens}-{conc}",
                    prompt=prompt,
                )
                wall, n, _ = timed(cmd, base, env)
                engine_s = json.loads(out.read_text())["run"]["seconds"]
                rows.append(
                    {
                        "size": n_target,
                        "tool": "aisec",
                        "setting": f"fixed design, --concurrency {conc}",
                        "requests": n,
                        "wall_s": wall,
                        "rps": n / wall,
                        "engine_rps": n / engine_s,
                    }
                )
            out = work / f"aisec-{gens}-seq.json"
            cmd = aisec_cmd(
                base, out, samples, 64, sequential=True, run_id=f"seq-{gens}", prompt=prompt
            )
            wall, n, _ = timed(cmd, base, env)
            seq[str(n_target)] = {"samples": samples, **json.loads(out.read_text())["sequential"]}
            rows.append(
                {
                    "size": n_target,
                    "tool": "aisec",
                    "setting": "sequential, --concurrency 64",
                    "requests": n,
                    "wall_s": wall,
                    "rps": n / wall,
                }
            )
    finally:
        server.terminate()
        server.wait(10)

    if args.format == "json":
        print(json.dumps({"rows": rows, "sequential": seq}, indent=2))
        return
    print(
        f"{'size':>5} {'tool':<11} {'setting':<34} {'requests':>8} {'wall s':>8} "
        f"{'req/s':>8} {'vs garak default':>16} {'vs garak best par.':>18}"
    )
    for size in dict.fromkeys(r["size"] for r in rows):
        group = [r for r in rows if r["size"] == size]
        g = [r for r in group if r["tool"].startswith("garak")]
        g_def = g[0]["rps"] if g else float("nan")
        g_best = max((r["rps"] for r in g[1:]), default=float("nan"))
        for r in group:
            ratios = ""
            if r["tool"] == "aisec":
                ratios = f"{r['rps'] / g_def:>15.1f}x {r['rps'] / g_best:>17.1f}x"
            print(
                f"{size:>5} {r['tool']:<11} {r['setting']:<34} {r['requests']:>8} "
                f"{r['wall_s']:>8.2f} {r['rps']:>8.1f} {ratios}"
            )
    print("\nwall time = whole command, process start to exit; requests counted by the server")
    for size, s in seq.items():
        print(
            f"sequential testing, size {size} (--samples {s['samples']}): "
            f"{s['requests_used']} trials instead of {s['fixed_design_requests']} "
            f"({s['saved']} saved, {100 * s['saved'] / s['fixed_design_requests']:.0f}%)"
        )


if __name__ == "__main__":
    main()
