#!/usr/bin/env python3
"""Generate the catalog's ID/name tables from the reference framework files.

Reads MITRE ATLAS (``frameworks/ATLAS.yaml``) and the CoSAI risk map
(``frameworks/cosai-risk-map/*.yaml``) from the reference directory and writes
``src/aisec/core/frameworks/data/{atlas,cosai}.json``: identifiers, names and relationships
only. Descriptions are never copied. The output is deterministic (sorted keys, stable order),
so rerunning it and diffing shows exactly what a new release changed.

    python scripts/gen_catalog.py --reference ../shared/reference
    python scripts/gen_catalog.py --reference ../shared/reference --check   # exit 1 on drift
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = Path("/work/shared/reference")
DEFAULT_OUT = REPO / "src" / "aisec" / "core" / "frameworks" / "data"

ATLAS_SCHEMA = "aisec.catalog.atlas/v1"
COSAI_SCHEMA = "aisec.catalog.cosai/v1"

_ATLAS_REF = re.compile(r"^(AML\.(?:TA|T|M)\d{4}(?:\.\d{3})?)(?:@[\w.]+)?$")
_OWASP_REF = re.compile(r"^(LLM\d{2})(?::2025)?$")
_NIST_REF = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE)-(\d{1,2})\.(\d{1,2})(?:@[\w.]+)?$")


def _atlas_parser() -> ModuleType:
    """The package's own validated ATLAS reader (the same one ``frameworks import`` uses)."""
    try:
        return importlib.import_module("aisec.core.frameworks._atlas_yaml")
    except ImportError:
        sys.path.insert(0, str(REPO / "src"))
        return importlib.import_module("aisec.core.frameworks._atlas_yaml")


def build_atlas(reference: Path) -> dict[str, Any]:
    path = reference / "frameworks" / "ATLAS.yaml"
    parsed = _atlas_parser().parse_atlas(path.read_bytes(), source=str(path))
    tactics = [{"id": r.id, "name": r.name} for r in parsed.of_kind("tactic")]  # matrix order
    techniques = sorted(
        (
            {"id": r.id, "name": r.name, "parent": r.parent, "tactics": list(r.tactics)}
            for r in parsed.records
            if r.kind in ("technique", "sub-technique")
        ),
        key=lambda row: row["id"],
    )
    mitigations = sorted(
        (
            {"id": r.id, "name": r.name, "techniques": sorted(r.techniques)}
            for r in parsed.of_kind("mitigation")
        ),
        key=lambda row: row["id"],
    )
    return {
        "schema": ATLAS_SCHEMA,
        "framework": "atlas",
        "name": "MITRE ATLAS",
        "version": parsed.version,
        "source": f"ATLAS.yaml, MITRE ATLAS data release {parsed.version} (Apache-2.0): "
        "ids, names and relationships only",
        "tactics": tactics,
        "techniques": techniques,
        "mitigations": mitigations,
    }


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"gen_catalog: {path}: expected a mapping at the top level")
    return data


def _mappings(raw: dict[str, Any] | None, known_atlas: set[str], where: str) -> dict[str, Any]:
    """Normalise CoSAI's ``mappings`` to aisec's canonical ids (``AML.T0020``, ``LLM04``,
    ``MEASURE 2.3``); STRIDE categories are kept as they are."""
    out: dict[str, list[str]] = {"atlas": [], "nist": [], "owasp": [], "stride": []}
    for framework, values in (raw or {}).items():
        for value in values or ():
            text = str(value).strip()
            if framework == "mitre-atlas" and (m := _ATLAS_REF.match(text)):
                if m.group(1) not in known_atlas:
                    print(
                        f"gen_catalog: {where}: {text} is not in this ATLAS release; dropped",
                        file=sys.stderr,
                    )
                    continue
                out["atlas"].append(m.group(1))
            elif framework == "owasp-top10-llm" and (m := _OWASP_REF.match(text)):
                out["owasp"].append(m.group(1))
            elif framework == "nist-ai-rmf" and (m := _NIST_REF.match(text)):
                out["nist"].append(f"{m.group(1)} {m.group(2)}.{m.group(3)}")
            elif framework == "stride":
                out["stride"].append(text)
            else:
                raise SystemExit(f"gen_catalog: {where}: cannot read mapping {framework}: {text}")
    return {key: sorted(set(values)) for key, values in out.items()}


def build_cosai(reference: Path, known_atlas: set[str]) -> dict[str, Any]:
    folder = reference / "frameworks" / "cosai-risk-map"
    risks_doc = _load_yaml(folder / "risks.yaml")
    controls_doc = _load_yaml(folder / "controls.yaml")
    frameworks_doc = _load_yaml(folder / "frameworks.yaml")

    mapping_versions = {
        str(f["id"]): str(f["version"])
        for f in frameworks_doc.get("frameworks", [])
        if f.get("id") in ("mitre-atlas", "nist-ai-rmf", "owasp-top10-llm") and f.get("version")
    }
    risks = sorted(
        (
            {
                "id": str(r["id"]),
                "title": str(r["title"]).strip(),
                "category": r.get("category"),
                "controls": sorted(str(c) for c in r.get("controls") or ()),
                "lifecycle_stages": sorted(str(s) for s in r.get("lifecycleStage") or ()),
                "mappings": _mappings(r.get("mappings"), known_atlas, str(r["id"])),
            }
            for r in risks_doc["risks"]
        ),
        key=lambda row: row["id"],
    )
    controls = []
    for c in controls_doc["controls"]:
        applies = c.get("risks")
        controls.append(
            {
                "id": str(c["id"]),
                "title": str(c["title"]).strip(),
                "category": c.get("category"),
                "applies_to_all_risks": applies == "all",
                "risks": [] if applies == "all" else sorted(str(x) for x in applies or ()),
                "lifecycle_stages": sorted(str(s) for s in c.get("lifecycleStage") or ()),
                "mappings": _mappings(c.get("mappings"), known_atlas, str(c["id"])),
            }
        )
    controls.sort(key=lambda row: row["id"])
    categories = sorted(
        (
            {"id": str(k["id"]), "title": str(k["title"]).strip()}
            for k in controls_doc.get("categories", [])
        ),
        key=lambda row: row["id"],
    )
    return {
        "schema": COSAI_SCHEMA,
        "framework": "cosai",
        "name": "CoSAI Risk Map",
        "source": "CoSAI risk map YAML (risks.yaml, controls.yaml; Apache-2.0): "
        "ids, titles and mappings only",
        "mapping_versions": dict(sorted(mapping_versions.items())),
        "control_categories": categories,
        "risks": risks,
        "controls": controls,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(reference: Path) -> dict[str, str]:
    """File name -> JSON text, for every generated table."""
    atlas = build_atlas(reference)
    known = {t["id"] for t in atlas["tactics"]}
    known |= {t["id"] for t in atlas["techniques"]} | {m["id"] for m in atlas["mitigations"]}
    cosai = build_cosai(reference, known)
    return {"atlas.json": render(atlas), "cosai.json": render(cosai)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--reference",
        type=Path,
        default=DEFAULT_REFERENCE,
        help=f"reference directory (default {DEFAULT_REFERENCE})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to write the JSON tables (default: the package data dir)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the tables in --out differ"
    )
    args = parser.parse_args(argv)
    if not (args.reference / "frameworks" / "ATLAS.yaml").is_file():
        print(f"gen_catalog: no frameworks/ATLAS.yaml under {args.reference}", file=sys.stderr)
        return 2
    tables = generate(args.reference)
    if args.check:
        stale = [
            name
            for name, text in tables.items()
            if not (args.out / name).is_file()
            or (args.out / name).read_text(encoding="utf-8") != text
        ]
        for name in stale:
            print(f"gen_catalog: {args.out / name} is out of date", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
