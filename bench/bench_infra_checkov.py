"""aisec infra-check next to Checkov on the six-violation training cluster.

    python bench/bench_infra_checkov.py [--checkov PATH] [--format text|json]

Input: tests/training/fixtures/terraform/{six_violations,clean}/ (main.tf and the plan JSON
``terraform show -json`` made from it). Checkov (PyPI ``checkov``, in its own venv: it pins
many packages) runs on the plan (``--framework terraform_plan``) and on the HCL
(``--framework terraform``); aisec runs on the plan. A violation counts as caught by Checkov
when one of the Checkov checks for that kind of problem fails on that resource; Checkov's
other hygiene checks (logging, versioning, ...) are not counted either way. False positives
are the same kinds of finding on the clean configuration. Wall time is one run each,
including Checkov's start-up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

try:
    from aisec.training.infra import InfraContext, check_infra
except ImportError:  # run from a checkout without an installed aisec
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from aisec.training.infra import InfraContext, check_infra

ROOT = Path(__file__).resolve().parents[1] / "tests" / "training" / "fixtures" / "terraform"
ALLOW = ["10.99.0.0/24", "10.98.0.10/32"]
# (violation, resource, aisec rule, Checkov checks for that kind of problem)
VIOLATIONS = [
    ("SSH from bastion /32", "aws_security_group.train", "AISEC-TRN-101",
     {"CKV_AWS_24", "CKV_AWS_25"}),
    ("0.0.0.0/0 ingress", "aws_security_group.train", "AISEC-TRN-102",
     {"CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"}),
    ("allow-all egress (vpc egress rule)", "aws_vpc_security_group_egress_rule.all_out",
     "AISEC-TRN-104", {"CKV_AWS_382"}),
    ("443 egress to anywhere", "aws_security_group_rule.https_out", "AISEC-TRN-105",
     {"CKV_AWS_382"}),
    ("public IP on training node", "aws_instance.trainer", "AISEC-TRN-106", {"CKV_AWS_88"}),
    ("unencrypted weights bucket", "aws_s3_bucket.weights", "AISEC-TRN-107",
     {"CKV_AWS_145", "CKV_AWS_19"}),
]  # fmt: skip
RELEVANT = set().union(*(v[3] for v in VIOLATIONS))


def run_checkov(checkov: str, target: Path, framework: str) -> tuple[set[tuple[str, str]], float]:
    flag = "-f" if target.is_file() else "-d"
    t0 = time.perf_counter()
    done = subprocess.run(
        [checkov, flag, str(target), "--framework", framework, "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    doc = json.loads(done.stdout)
    docs = doc if isinstance(doc, list) else [doc]
    failed = {
        (c["check_id"], c["resource"])
        for d in docs
        for c in (d.get("results") or {}).get("failed_checks", [])
    }
    return failed, elapsed


def run_aisec(plan: Path) -> tuple[set[tuple[str, str]], float]:
    t0 = time.perf_counter()
    report = check_infra([plan], InfraContext.build([], ALLOW))
    elapsed = time.perf_counter() - t0
    return {(f.id, str(f.evidence["resource"])) for f in report.findings}, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=shutil.which("checkov"), help="checkov executable")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    if not args.checkov:
        sys.exit("checkov not found: pip install checkov (in its own venv) and pass --checkov")
    six, clean = ROOT / "six_violations", ROOT / "clean"
    a_six, a_time = run_aisec(six / "plan.json")
    a_clean, _ = run_aisec(clean / "plan.json")
    c_plan, c_plan_time = run_checkov(args.checkov, six / "plan.json", "terraform_plan")
    c_hcl, c_hcl_time = run_checkov(args.checkov, six, "terraform")
    c_plan_clean, _ = run_checkov(args.checkov, clean / "plan.json", "terraform_plan")
    c_hcl_clean, _ = run_checkov(args.checkov, clean, "terraform")
    rows = []
    for name, resource, rule, checks in VIOLATIONS:
        rows.append(
            {
                "violation": name,
                "resource": resource,
                "aisec": (rule, resource) in a_six,
                "checkov_plan": any((c, resource) in c_plan for c in checks),
                "checkov_hcl": any((c, resource) in c_hcl for c in checks),
            }
        )
    result: dict[str, Any] = {
        "schema": "aisec.bench.infra-checkov/v1",
        "rows": rows,
        "caught": {k: sum(r[k] for r in rows) for k in ("aisec", "checkov_plan", "checkov_hcl")},
        "false_positives_on_clean": {
            "aisec": len(a_clean),
            "checkov_plan": len({c for c in c_plan_clean if c[0] in RELEVANT}),
            "checkov_hcl": len({c for c in c_hcl_clean if c[0] in RELEVANT}),
        },
        "checkov_other_failed_checks_on_clean": len(
            {c for c in c_hcl_clean if c[0] not in RELEVANT}
        ),
        "seconds": {
            "aisec": round(a_time, 3),
            "checkov_plan": round(c_plan_time, 2),
            "checkov_hcl": round(c_hcl_time, 2),
        },
    }
    result["checkov_plan_time_over_aisec"] = round(c_plan_time / a_time, 1)
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return
    mark = {True: "caught", False: "MISSED"}
    print(f"{'violation':<36} {'aisec':>7} {'checkov plan':>13} {'checkov hcl':>12}")
    for r in rows:
        print(
            f"{r['violation']:<36} {mark[r['aisec']]:>7} {mark[r['checkov_plan']]:>13} "
            f"{mark[r['checkov_hcl']]:>12}"
        )
    c, fp, s = result["caught"], result["false_positives_on_clean"], result["seconds"]
    print(f"{'caught of 6':<36} {c['aisec']:>7} {c['checkov_plan']:>13} {c['checkov_hcl']:>12}")
    print(f"{'false positives (clean)':<36} {fp['aisec']:>7} {fp['checkov_plan']:>13} "
          f"{fp['checkov_hcl']:>12}")  # fmt: skip
    print(f"{'seconds':<36} {s['aisec']:>7} {s['checkov_plan']:>13} {s['checkov_hcl']:>12}")
    print(
        f"checkov on the plan took {result['checkov_plan_time_over_aisec']}x aisec's time; "
        f"checkov also failed {result['checkov_other_failed_checks_on_clean']} unrelated "
        "hygiene checks on the clean configuration (not counted)"
    )


if __name__ == "__main__":
    main()
