"""aisec infra-check beside Checkov on every rule's bad and good fixtures, in one run.

    python bench/bench_infra.py [--checkov PATH]

Input: tests/training/fixtures/<rule>/{bad*,good*} (Terraform HCL for AWS, GCP and Azure,
Kubernetes manifests, docker-compose files, gcloud / az / AWS CLI exports) and the
serving/compose scenario folders. Each ``bad*`` file holds one kind of violation (one
row of the table); each ``good*`` file holds its fixed form. A tool *detects* a bad file
when it reports a finding of that kind on it, and a *false positive* is such a finding on
a good file. For Checkov (PyPI ``checkov``, in its own venv: it pins many packages) a
failed check counts when its name speaks of the same kind of problem (the regex below:
exposure, public access, encryption, egress, privileges, tokens, secrets); its hygiene
checks (logging, versioning, tags, ...) and stricter policies (customer-supplied keys,
TLS versions, read-only root file systems) are not counted either way. Checkov reads no
gcloud/az/AWS CLI export and no compose file: those rows are misses for it. Time is one
wall-clock run each over all files, including start-up.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from aisec.training.infra import INFRA_RULES, InfraContext, check_infra
except ImportError:  # run from a checkout without an installed aisec
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from aisec.training.infra import INFRA_RULES, InfraContext, check_infra

FIX = Path(__file__).resolve().parents[1] / "tests" / "training" / "fixtures"
CONTEXT = InfraContext.build([], ["10.99.0.0/24"])
RELEVANT = re.compile(
    r"0\.0\.0\.0|::/0|port 22|port 3389|ssh|rdp|public|internet|encrypt|egress|ingress"
    r"|privilege|root|capabilit|host(path|network|pid|ipc| path)|service ?account|token"
    r"|secret|network ?polic|authorized|private (cluster|endpoint|nodes)|expos",
    re.IGNORECASE,
)
# stricter policies beyond the violation kinds measured here (customer-supplied keys,
# TLS versions, key rotation, read-only root file systems): counted neither way
STRICTER = re.compile(
    r"customer supplied|customer managed key|storage account is configured with private endpoint"
    r"|disk encryption set|secrets encryption|temp disks|TLS|autorotation"
    r"|project-wide SSH keys|read-only filesystem",
    re.IGNORECASE,
)


def corpus() -> list[tuple[Path, bool]]:
    # unverifiable values (AISEC-TRN-100) are neither a detection nor a pass
    folders = [r.fixture for r in INFRA_RULES if r.id != "AISEC-TRN-100"]
    return [
        (p, p.name.startswith("bad"))
        for folder in (*folders, "compose", "serving_egress")
        for p in sorted((FIX / folder).glob("*"))
        if p.name.startswith(("bad", "good"))
    ]


def run_aisec(
    files: list[tuple[Path, bool]], context: InfraContext | None = None
) -> tuple[dict[Path, int], float]:
    serving = InfraContext.from_file(FIX / "serving_egress" / "context.yaml")
    t0 = time.perf_counter()
    out = {}
    for p, _ in files:
        ctx = context or (serving if p.parent.name == "serving_egress" else CONTEXT)
        out[p] = sum(f.id != "AISEC-TRN-100" for f in check_infra([p], ctx).findings)
    return out, time.perf_counter() - t0


def eval_set(folder: Path) -> list[tuple[Path, bool]]:
    """The generated second set (bench/gen_infra_eval.py): TRUTH.json, file -> rule."""
    truth = json.loads((folder / "TRUTH.json").read_text())
    return [(folder / name, rule is not None) for name, rule in sorted(truth.items())]


def run_checkov(
    checkov: str, files: list[tuple[Path, bool]], show: bool = False
) -> tuple[dict[Path, int], float]:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        where: dict[str, Path] = {}
        for i, (p, _) in enumerate(files):
            sub = root / f"f{i:03d}"  # one folder per file: HCL files do not merge
            sub.mkdir()
            shutil.copy(p, sub / p.name)
            where[f"/f{i:03d}/{p.name}"] = p
        t0 = time.perf_counter()
        done = subprocess.run(
            [checkov, "-d", str(root), "-o", "json", "--quiet", "--compact",
             "--framework", "terraform", "kubernetes", "--skip-download"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
    data = json.loads(done.stdout or "[]")
    reports = data if isinstance(data, list) else [data]
    out = dict.fromkeys(where.values(), 0)
    for rep in reports:
        for c in (rep.get("results") or {}).get("failed_checks") or []:
            name = str(c.get("check_name", ""))
            if RELEVANT.search(name) and not STRICTER.search(name):
                p = where.get(str(c.get("file_path", "")))
                if p is not None and p in out:
                    out[p] += 1
                    if show:
                        print(f"  checkov {p.parent.name}/{p.name}: {c.get('check_id')} "
                              f"{c.get('check_name')}")  # fmt: skip
    return out, elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    venv = Path(tempfile.gettempdir()) / "checkov-venv" / "bin" / "checkov"
    ap.add_argument("--checkov", default=shutil.which("checkov") or str(venv))
    ap.add_argument("--show", action="store_true", help="list Checkov's counted findings")
    ap.add_argument("--seed", type=int, default=7, help="seed of the generated second set")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from gen_infra_eval import generate

        generate(Path(d), seed=args.seed)
        ctx = InfraContext.from_file(Path(d) / "context.yaml")
        for title, files, context in (
            ("rule fixtures", corpus(), None),
            (f"generated speech-platform set (seed {args.seed})", eval_set(Path(d)), ctx),
        ):
            print(f"== {title}")
            table(files, context, args)
            print()


def table(files: list[tuple[Path, bool]], context: InfraContext | None, args: Any) -> None:
    bad = sum(b for _, b in files)
    rows = [("aisec infra-check", *run_aisec(files, context))]
    if Path(args.checkov).exists():
        rows.append(("Checkov 3.3.30", *run_checkov(args.checkov, files, args.show)))
    else:
        print(f"checkov not found at {args.checkov}; only aisec is measured")
    print(f"{len(files)} files: {bad} bad (one violation kind each), {len(files) - bad} good\n")
    print(f"{'tool':20} {'detected':>12} {'false pos.':>11} {'time s':>8}")
    stats = []
    for name, hits, secs in rows:
        det = sum(1 for p, b in files if b and hits[p])
        fp = sum(1 for p, b in files if not b and hits[p])
        stats.append((det, fp, secs))
        print(f"{name:20} {det:>5}/{bad:<6} {fp:>5}/{len(files) - bad:<5} {secs:>8.2f}")
    if len(stats) == 2 and stats[1][0]:
        (d0, f0, t0), (d1, f1, t1) = stats
        print(f"\nratios aisec/Checkov: detected {d0 / d1:.2f}x, time {t0 / t1:.2f}x, "
              f"false positives {f0} vs {f1}")  # fmt: skip
    missed = [p.parent.name + "/" + p.name for p, b in files if b and not rows[0][1][p]]
    if missed:
        print("aisec missed:", ", ".join(missed))
    wrong = [p.parent.name + "/" + p.name for p, b in files if not b and rows[0][1][p]]
    if wrong:
        print("aisec false positives:", ", ".join(wrong))


if __name__ == "__main__":
    main()
