"""Contract: every data finding rule is complete and its framework ids resolve."""

from __future__ import annotations

import aisec.data
from aisec.core.frameworks import load_catalog
from aisec.data import DATA_RULES


def test_rules_resolve_in_catalog() -> None:
    catalog = load_catalog()
    assert len({r.id for r in DATA_RULES}) == len(DATA_RULES)
    for rule in DATA_RULES:
        assert rule.id.startswith("AISEC-DAT-") and rule.title and rule.remediation
        m = rule.mappings
        assert m.owasp_llm and m.nist_ai_rmf, rule.id
        catalog.check_refs(atlas=m.atlas, owasp=m.owasp_llm, saif=m.saif, nist=m.nist_ai_rmf)
    atlas = {a for r in DATA_RULES for a in r.mappings.atlas}
    assert {"AML.T0020", "AML.T0019", "AML.T0010.002"} <= atlas
    owasp = {o for r in DATA_RULES for o in r.mappings.owasp_llm}
    assert {"LLM04", "LLM02"} <= owasp


def test_public_api() -> None:
    for name in aisec.data.__all__:
        assert getattr(aisec.data, name) is not None
    public = {n for n in dir(aisec.data) if not n.startswith("_")}
    modules = {"audit", "annotations"}
    assert public - modules == set(aisec.data.__all__)
