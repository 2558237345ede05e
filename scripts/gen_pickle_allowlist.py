"""Generate src/aisec/deployment/scan/allowlist.yaml from real pickles.

Fits every estimator scikit-learn lists plus XGBoost / LightGBM models, numpy, scipy and
pandas objects and torch checkpoints and modules (tests/deployment/real_models.py), pickles
each with protocols 2-5, joblib and torch.save, scans the bytes with aisec's own pickle
machine with the allowlist switched off, and records every global the files reference.
Globals on the denylist are never written (they are printed instead). Entries already in the
file are kept (a class that moved between versions stays allowed for older files) unless
--fresh is given.

    PYTHONPATH=src .venv/bin/python scripts/gen_pickle_allowlist.py [--fresh]
"""

from __future__ import annotations

import argparse
import importlib
import io
import pickle
import platform
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "aisec" / "deployment" / "scan" / "allowlist.yaml"
sys.path.insert(0, str(ROOT / "tests" / "deployment"))
LIBRARIES = ("sklearn", "xgboost", "lightgbm", "numpy", "scipy", "pandas", "torch", "joblib")


def _serialise(obj: Any) -> list[bytes]:
    out: list[bytes] = []
    for proto in (2, 3, 4, 5):
        try:
            out.append(pickle.dumps(obj, protocol=proto))
        except Exception as exc:  # some objects refuse a protocol; the others still count
            print(f"  protocol {proto}: {type(exc).__name__}: {exc}", file=sys.stderr)
    import joblib

    buf = io.BytesIO()
    joblib.dump(obj, buf)
    out.append(buf.getvalue())
    if type(obj).__module__.startswith("torch") or (
        isinstance(obj, dict) and any(type(v).__module__.startswith("torch") for v in obj.values())
    ):
        import torch

        buf = io.BytesIO()
        torch.save(obj, buf)
        out.append(buf.getvalue())
    return out


def referenced(data: bytes) -> tuple[set[tuple[str, str]], set[str]]:
    """(module, name) of every global the scanner does not already allow, and dangerous ones."""
    from aisec.deployment.scan import _rules as rules
    from aisec.deployment.scan._formats import BlobScanner
    from aisec.deployment.scan._formats_ml import EXTRA_SCANNERS
    from aisec.deployment.scan._policy import allowlist_disabled

    scanner = BlobScanner("<generated>", extra=EXTRA_SCANNERS)
    with allowlist_disabled():
        scanner.scan(data, member=None, depth=0, name="model.pkl")
    found: set[tuple[str, str]] = set()
    dangerous: set[str] = set()
    for f in scanner.findings:
        name = f.evidence.get("callable")
        if f.id == rules.UNSAFE_CALLABLE.id and name:
            module, _, attr = str(name).rpartition(".")
            found.add((module, attr))
        elif f.id == rules.DANGEROUS_CALLABLE.id:
            dangerous.add(str(name or f.detail))
        elif f.id != rules.UNSAFE_CALLABLE.id:
            print(f"  other finding: {f.detail}", file=sys.stderr)
    return found, dangerous


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true", help="drop entries not seen this run")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from real_models import sweep_objects

    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    dangerous: dict[str, set[str]] = defaultdict(set)
    count = 0
    for label, obj in sweep_objects():
        try:
            blobs = _serialise(obj)
        except Exception as exc:  # an object that cannot be pickled at all is no model file
            print(f"skip {label}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        count += 1
        for blob in blobs:
            found, bad = referenced(blob)
            for key in found:
                seen[key].add(label.split(":")[0].split("-")[0])
            for name in bad:
                dangerous[name].add(label)
    previous: dict[str, list[str]] = {}
    if args.out.exists() and not args.fresh:
        previous = (yaml.safe_load(args.out.read_text()) or {}).get("globals", {}) or {}
    merged: dict[str, set[str]] = defaultdict(set)
    for module, names in previous.items():
        merged[module].update(names)
    for module, name in seen:
        merged[module].add(name)
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = str(importlib.import_module(lib).__version__)
        except ImportError:
            versions[lib] = "not installed"
    doc = {
        "schema": "aisec.pickle-allowlist/v1",
        "generated_by": "scripts/gen_pickle_allowlist.py",
        "python": platform.python_version(),
        "libraries": versions,
        "objects_pickled": count,
        "globals": {m: sorted(merged[m]) for m in sorted(merged)},
    }
    header = (
        "# Classes and functions that real pickles of these libraries reference: not findings.\n"
        "# Data, not code: regenerate with scripts/gen_pickle_allowlist.py, never edit by hand.\n"
        "# The scanner's denylist always wins over this list.\n"
    )
    args.out.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=100))
    total = sum(len(v) for v in merged.values())
    print(f"{count} objects pickled; {total} globals in {len(merged)} modules -> {args.out}")
    for name, labels in sorted(dangerous.items()):
        print(f"NOT allowed (denylist): {name}  used by {', '.join(sorted(labels)[:5])}")


if __name__ == "__main__":
    main()
