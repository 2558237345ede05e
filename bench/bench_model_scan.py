"""Claim: `aisec model scan` detects every malicious file of the corpus with no false
positives, faster than picklescan, and scans a 2 GB checkpoint in well under a second.

Runs picklescan, modelscan and fickling (installed from PyPI into bench/.venv-anchors by this
script) beside aisec on the same files in the same run, one process per file and tool, and
prints detected / missed / false positives / errors per tool plus wall-time ratios.

A tool "flags" a file when it exits non-zero; "errors" counts exits that are neither the
tool's clean nor its unsafe code (picklescan 2, modelscan 2-4, ...), which a gate reading
exit codes would also treat as a failure. aisec runs with --fail-on medium and --no-record.

Then the pathological pickles of issue 23 (10^6 nested tuples, a million memo entries,
millions of APPENDs, a million MARKs) and a 5,000-file folder, each tool on the same file
in the same run, with wall-time ratios (the tool's time / aisec's).

    .venv/bin/python bench/bench_model_scan.py [--keep DIR] [--skip-2gb] [--only-pathological]
"""

from __future__ import annotations

import argparse
import compileall
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "bench" / ".venv-anchors"
ANCHOR_PACKAGES = ["picklescan", "modelscan", "fickling", "typing_extensions"]
sys.path.insert(0, str(ROOT / "tests" / "deployment"))

AISEC = [
    sys.executable,
    "-c",
    "import sys; from aisec.cli import cli, main; from aisec.cli.model import model_group; "
    "cli.add_command(model_group); sys.exit(main())",
]
NO_DIRECTORY_MODE = {"fickling"}
UNSAFE_EXIT = {"aisec": 1, "picklescan": 1, "modelscan": 1, "fickling": 1}


def ensure_anchors() -> Path:
    """Create the bench venv with the anchor tools from PyPI (once; gitignored)."""
    bindir = ANCHORS / "bin"
    if not (bindir / "modelscan").exists() or not (bindir / "fickling").exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANCHORS)], check=True)
        (ANCHORS / ".gitignore").write_text("*\n")
        subprocess.run([str(bindir / "pip"), "install", "-q", *ANCHOR_PACKAGES], check=True)
    return bindir


def commands(bindir: Path, target: Path) -> dict[str, list[str]]:
    return {
        "aisec": [*AISEC, "model", "scan", "--no-record", "--fail-on", "medium", str(target)],
        "picklescan": [str(bindir / "picklescan"), "--path", str(target)],
        "modelscan": [str(bindir / "modelscan"), "-p", str(target)],
        "fickling": [str(bindir / "fickling"), "--check-safety", str(target)],
    }


TIMEOUT = [600.0]


def run(cmd: list[str]) -> tuple[int, float]:
    """(exit code, wall seconds); a run over the timeout counts as its timeout, code -9."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False, timeout=TIMEOUT[0])
    except subprocess.TimeoutExpired:
        return -9, TIMEOUT[0]
    return proc.returncode, time.perf_counter() - start


def make_2gb_checkpoint(path: Path, gib: float = 2.0) -> None:
    """A real torch zip checkpoint (loadable by torch.load) with one 2 GB float32 storage,
    written in chunks so it needs no memory."""
    numel = int(gib * (1 << 30)) // 4
    pkl = (
        b"\x80\x02}q\x00X\x06\x00\x00\x00weightq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02"
        b"((X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05"
        b"X\x03\x00\x00\x00cpuq\x06J"
        + struct.pack("<i", numel)
        + b"tq\x07QK\x00J"
        + struct.pack("<i", numel)
        + b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq\x08Rq\ts."
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("big/data.pkl", pkl)
        zf.writestr("big/byteorder", b"little")
        with zf.open("big/data/0", "w", force_zip64=True) as fh:
            chunk = b"\x00" * (64 << 20)
            left = numel * 4
            while left:
                n = min(left, len(chunk))
                fh.write(chunk[:n])
                left -= n
        zf.writestr("big/version", b"3\n")


def make_pathological(dest: Path) -> dict[str, Path]:
    """Small files that are slow to analyse opcode by opcode (all are valid, benign pickles
    that pickle.load accepts)."""
    dest.mkdir(parents=True, exist_ok=True)
    n = 10**6
    files = {
        "nested tuples 10^6 (1 MB)": (b"\x80\x02)" + b"\x85" * n + b".", "nested.pkl"),
        "memo entries 10^6 (3 MB)": (b"\x80\x04" + b")\x94\x30" * n + b"N.", "memo.pkl"),
        "APPENDs 5*10^6 (15 MB)": (b"\x80\x02]" + b"K\x01a" * (5 * n) + b".", "appends.pkl"),
        "MARKs 10^6 (2 MB)": (b"\x80\x02" + b"(" * n + b")" + b"t" * n + b".", "marks.pkl"),
    }
    out: dict[str, Path] = {}
    for label, (data, name) in files.items():
        path = dest / name
        if not path.exists():
            path.write_bytes(data)
        out[label] = path
    return out


def make_folder(dest: Path, count: int = 5000) -> Path:
    """A hub-sized folder: ``count`` small pickled state dicts."""
    import pickle

    import numpy as np

    dest.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = dest / f"m{i:05d}.pkl"
        if not path.exists():
            state = {"w": np.full((4, 4), i, np.float32), "step": i}
            path.write_bytes(pickle.dumps(state, protocol=4))
    return dest


def pathological(bindir: Path, work: Path) -> None:
    from aisec.deployment import scan_file, scan_model

    files = make_pathological(work / "pathological")
    folder = make_folder(work / "folder-5000")
    tools = ["aisec", "picklescan", "modelscan", "fickling"]
    print("\npathological pickles and a 5,000-file folder: wall seconds (ratio = tool / aisec)")
    print(f"{'input':<28} {'aisec lib':>9} " + " ".join(f"{t:>17}" for t in tools))
    for label, path in files.items():
        start = time.perf_counter()
        verdict = scan_file(path).verdict
        lib = time.perf_counter() - start
        times = {tool: run(cmd) for tool, cmd in commands(bindir, path).items()}
        base = times["aisec"][1]
        cells = " ".join(
            f"{times[t][1]:7.2f}s x{times[t][1] / base:5.2f} {times[t][0]:>2}" for t in tools
        )
        print(f"{label:<28} {lib:8.2f}s {cells}   (aisec: {verdict})")
    row = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        report = scan_model([folder], jobs=jobs)
        row[f"lib jobs={jobs}"] = time.perf_counter() - start
    cmds = commands(bindir, folder)
    timed = {
        "aisec --jobs 1": run(cmds["aisec"]),
        "aisec --jobs 2": run([*cmds["aisec"], "--jobs", "2"]),
        "picklescan": run(cmds["picklescan"]),
        "modelscan": run(cmds["modelscan"]),
    }
    base = timed["aisec --jobs 1"][1]
    print(
        "folder of 5,000 pickles: "
        + ", ".join(f"{k} {v:.2f}s" for k, v in row.items())
        + f" ({report.verdict}); "
        + ", ".join(f"{k} {v[1]:.2f}s x{v[1] / base:.2f}" for k, v in timed.items())
    )
    print(
        "the digit after each ratio is the tool's exit code (-9: stopped at the timeout, its "
        "time is the timeout); fickling has no folder mode"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, default=None, help="build the corpus here")
    parser.add_argument("--skip-2gb", action="store_true")
    parser.add_argument("--only-pathological", action="store_true")
    parser.add_argument("--timeout", type=float, default=600.0, help="per tool run, seconds")
    args = parser.parse_args()
    TIMEOUT[0] = args.timeout
    # pip compiles an installed package to bytecode, as the anchors' venv has it; a source
    # checkout under PYTHONDONTWRITEBYTECODE would recompile aisec on every run (~0.1 s)
    compileall.compile_dir(str(ROOT / "src" / "aisec"), quiet=1)
    from corpus import build_corpus, torch_checkpoints

    bindir = ensure_anchors()
    work = args.keep or Path(tempfile.mkdtemp(prefix="aisec-bench-"))
    if args.only_pathological:
        pathological(bindir, work)
        return
    markers = work / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    try:
        torch_dir = work / "torch"
        torch_checkpoints(torch_dir)
    except ImportError:
        torch_dir = None
    samples = build_corpus(work / "corpus", markers, torch_dir=torch_dir)
    tools = list(commands(bindir, work).keys())
    stats = {t: {"detected": 0, "missed": 0, "fp": 0, "errors": 0, "time": 0.0} for t in tools}
    misses: dict[str, list[str]] = {t: [] for t in tools}
    for sample in samples:
        target = work / "corpus" / sample.name
        for tool, cmd in commands(bindir, target).items():
            code, took = run(cmd)
            s = stats[tool]
            s["time"] += took
            if code not in (0, UNSAFE_EXIT[tool]):
                s["errors"] += 1
            if sample.malicious:
                if code != 0:
                    s["detected"] += 1
                else:
                    s["missed"] += 1
                    misses[tool].append(sample.name)
            elif code != 0:
                s["fp"] += 1
    whole = {tool: run(cmd)[1] for tool, cmd in commands(bindir, work / "corpus").items()}
    from aisec.deployment import scan_model

    start = time.perf_counter()
    lib_report = scan_model([work / "corpus"])
    lib_corpus = time.perf_counter() - start
    big_times: dict[str, float] = {}
    if not args.skip_2gb:
        big = work / "big.pt"
        if not big.exists() or big.stat().st_size < 2 << 30:
            make_2gb_checkpoint(big)
        for tool, cmd in commands(bindir, big).items():
            big_times[tool] = min(run(cmd)[1] for _ in range(2))
        from aisec.deployment import scan_file

        start = time.perf_counter()
        verdict = scan_file(big).verdict
        in_process = time.perf_counter() - start
    n_mal = sum(s.malicious for s in samples)
    n_ben = len(samples) - n_mal
    print(f"corpus: {n_mal} malicious, {n_ben} benign; one process per file and tool")
    print(
        f"{'tool':<11} {'detected':>9} {'missed':>7} {'false+':>7} {'errors':>7} "
        f"{'files s':>8} {'ratio':>6} {'dir s':>7} {'ratio':>6} {'2GB s':>7} {'ratio':>6}"
    )
    for tool in tools:
        s = stats[tool]
        per_file = f"{s['time']:8.2f} {s['time'] / stats['aisec']['time']:6.2f}"
        if tool in NO_DIRECTORY_MODE:
            dir_txt = f"{'n/a':>7} {'':>6}"
        else:
            dir_txt = f"{whole[tool]:7.2f} {whole[tool] / whole['aisec']:6.2f}"
        big_s = big_times.get(tool)
        big_txt = (
            f"{big_s:7.2f} {big_s / big_times['aisec']:6.2f}" if big_s else f"{'-':>7} {'':>6}"
        )
        print(
            f"{tool:<11} {s['detected']:>5}/{n_mal:<3} {s['missed']:>7} {s['fp']:>3}/{n_ben:<3} "
            f"{s['errors']:>7} {per_file} {dir_txt} {big_txt}"
        )
    for tool in tools:
        if misses[tool]:
            print(f"missed by {tool}: {', '.join(misses[tool])}")
    print(
        "ratio = the tool's wall time / aisec's; 'files s' sums one process per corpus file, "
        "'dir s' is one run over the corpus folder (fickling has no folder mode)"
    )
    print(
        f"aisec in-process scan of the whole corpus: {lib_corpus * 1000:.0f} ms "
        f"({len(lib_report.findings)} findings); the CLI rows include interpreter start and "
        "`aisec.cli` imports"
    )
    if big_times:
        print(
            f"aisec in-process scan of the 2 GB checkpoint: {in_process * 1000:.1f} ms ({verdict})"
        )
    leftovers = list(markers.iterdir())
    print(f"marker files created by payloads: {len(leftovers)}")
    pathological(bindir, work)


if __name__ == "__main__":
    main()
