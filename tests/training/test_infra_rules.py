"""Every infrastructure rule against its own fixtures: ``bad`` fires exactly that rule,
``good`` fires nothing at all; and every rule's metadata and framework ids are sound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import aisec.training as training
import aisec.training.infra as infra
from aisec.training import LEDGER_RULES
from aisec.training.infra import INFRA_RULES, InfraContext, check_infra

FIXTURES = Path(__file__).parent / "fixtures"
# the endpoints the fixtures' training nodes may reach (model registry)
CONTEXT = InfraContext.build([], ["10.99.0.0/24"])


def _fixture(rule_fixture: str, kind: str) -> Path:
    (path,) = sorted((FIXTURES / rule_fixture).glob(f"{kind}.*"))
    return path


def _cases(kind: str) -> list[tuple[infra.InfraCheck, Path]]:
    """Every rule's ``bad*``/``good*`` files: one per provider or input format."""
    return [(r, p) for r in INFRA_RULES for p in sorted((FIXTURES / r.fixture).glob(f"{kind}*"))]


def _case_id(case: object) -> str:
    return f"{case[0].id}-{case[1].name}" if isinstance(case, tuple) else str(case)


@pytest.mark.parametrize("case", _cases("bad"), ids=_case_id)
def test_bad_fixture_fires_exactly_its_rule(case: tuple[infra.InfraCheck, Path]) -> None:
    rule, path = case
    report = check_infra([path], CONTEXT)
    assert report.findings and {f.id for f in report.findings} == {rule.id}, [
        (f.id, f.detail) for f in report.findings
    ]
    for f in report.findings:
        assert f.evidence["resource"] and f.evidence["fix"] and f.evidence["current"]
        assert f.evidence["file"] == f.subject.path
        assert f.detail.startswith(f.evidence["resource"])


@pytest.mark.parametrize("case", _cases("good"), ids=_case_id)
def test_good_fixture_is_clean(case: tuple[infra.InfraCheck, Path]) -> None:
    findings = check_infra([case[1]], CONTEXT).findings
    assert findings == (), [(f.id, f.detail) for f in findings]


def test_every_rule_has_bad_and_good_fixtures() -> None:
    for r in INFRA_RULES:
        assert any(c[0] is r for c in _cases("bad")) and any(c[0] is r for c in _cases("good"))


def test_rules_are_registered_once_with_metadata() -> None:
    ids = [r.id for r in INFRA_RULES] + [r.id for r in LEDGER_RULES]
    assert len(ids) == len(set(ids))
    for r in INFRA_RULES:
        assert r.title and r.remediation and r.target in ("training cluster", "inference container")
        assert (FIXTURES / r.fixture).is_dir()
        assert r.mappings.atlas and r.mappings.saif and r.mappings.nist_ai_rmf
    for r in LEDGER_RULES:
        assert r.title and r.remediation and r.mappings.atlas


def test_framework_ids_resolve_in_the_catalog() -> None:
    from aisec.core.frameworks import load_catalog

    catalog = load_catalog()
    for r in (*INFRA_RULES, *LEDGER_RULES):
        catalog.check_refs(
            atlas=r.mappings.atlas, saif=r.mappings.saif, nist=r.mappings.nist_ai_rmf
        )


def test_atlas_ids_exist_in_the_reference_release() -> None:
    """The same ids checked by hand against the shared ATLAS.yaml."""
    reference = Path("/work/shared/reference/frameworks/ATLAS.yaml")
    if not reference.exists():
        pytest.skip("reference ATLAS.yaml not on this machine")
    text = reference.read_text(encoding="utf-8")
    for r in (*INFRA_RULES, *LEDGER_RULES):
        for atlas_id in r.mappings.atlas:
            assert f"id: {atlas_id}\n" in text, atlas_id


def test_public_api() -> None:
    assert sorted(training.__all__) == sorted(
        n for n in dir(training) if not n.startswith("_") and n not in ("annotations", "infra")
    )
    for name in (*training.__all__, *infra.__all__):
        assert getattr(training, name, None) is not None or getattr(infra, name) is not None


def test_multi_doc_yaml_list_and_json_k8s(tmp_path: Path) -> None:
    good = _fixture("k8s_root", "good")
    import yaml

    docs = list(yaml.safe_load_all(good.read_text()))
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    report = check_infra([as_list], CONTEXT)
    assert report.findings == () and report.inputs[0].format == "kubernetes"
    for doc in docs:
        if doc["kind"] == "Deployment":
            doc["kind"] = "StatefulSet"
            doc["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": 0}
    as_list.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    (f,) = check_infra([as_list], CONTEXT).findings
    assert f.id == "AISEC-TRN-205" and f.evidence["resource"] == "StatefulSet/serving/fraud-scorer"


def test_cluster_cidr_from_the_user_decides_inside(tmp_path: Path) -> None:
    bad = _fixture("ingress_outside", "bad")  # 8888 from 172.16.0.0/16
    wide = InfraContext.build(["172.16.0.0/12"], ["10.99.0.0/24"])
    assert check_infra([bad], wide).findings == ()


def test_importing_the_stage_loads_no_optional_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, aisec.training, aisec.training.infra, aisec.cli.train\n"
        "heavy = {'torch', 'transformers', 'lightning', 'pytorch_lightning'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
