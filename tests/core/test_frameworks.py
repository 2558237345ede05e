"""The framework catalog: tables, lookups, aliases, lifecycle data, role matrix, ATLAS import."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aisec.core.frameworks as frameworks
from aisec.core.errors import CatalogError, FormatError, InputError
from aisec.core.frameworks import FRAMEWORK_KEYS, Catalog, import_atlas, load_catalog
from aisec.core.frameworks._atlas_yaml import parse_atlas

REPO = Path(__file__).resolve().parents[2]
REFERENCE_CANDIDATES = (Path("/work/shared/reference"), REPO.parent / "shared" / "reference")
REFERENCE = next(
    (p for p in REFERENCE_CANDIDATES if (p / "frameworks" / "ATLAS.yaml").is_file()), None
)
needs_reference = pytest.mark.skipif(REFERENCE is None, reason="shared/reference is not present")

SMALL_ATLAS = """\
id: ATLAS
name: Adversarial Threat Landscape for AI Systems
version: 9.9.0
matrices:
- id: ATLAS
  name: ATLAS Matrix
  tactics:
  - id: AML.TA0010
    name: Exfiltration
    description: Test tactic text.
  techniques:
  - id: AML.T0024
    name: Exfiltration via AI Inference API (renamed)
    description: Imported test description of T0024.
    tactics:
    - AML.TA0010
  - id: AML.T0024.000
    name: Infer Training Data Membership
    description: Imported sub-technique text.
    subtechnique-of: AML.T0024
  - id: AML.T0999
    name: Brand New Technique
    description: Only in the newer release.
    tactics: [AML.TA0010]
  mitigations:
  - id: AML.M0004
    name: Restrict Number of AI Model Queries
    description: Imported mitigation text.
    techniques:
    - id: AML.T0024
      use: limit queries
"""


@pytest.fixture
def cat() -> Catalog:
    return load_catalog(overlay=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- public API ------------------------------------------------------------------------------


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(frameworks) if not n.startswith("_")}
    public -= {"annotations"}
    assert public == set(frameworks.__all__)


# -- tables ----------------------------------------------------------------------------------


def test_table_sizes(cat: Catalog) -> None:
    assert cat.atlas_version == "5.6.0"
    assert len(cat.entries("atlas", kind="tactic")) == 16
    techniques = cat.entries("atlas", kind="technique") + cat.entries("atlas", kind="sub-technique")
    assert len(techniques) == 170
    assert len(cat.entries("atlas", kind="mitigation")) == 35
    assert [e.id for e in cat.entries("owasp-llm-2025")] == [f"LLM{n:02d}" for n in range(1, 11)]
    assert [e.id for e in cat.entries("saif")] == [f"SAIF-{n}" for n in range(1, 7)]
    assert len(cat.entries("nist-ai-rmf", kind="function")) == 4
    assert len(cat.entries("nist-ai-rmf", kind="category")) == 19
    assert len(cat.entries("nist-ai-rmf", kind="subcategory")) == 72
    assert len(cat.entries("iso-42001", kind="control")) == 38
    assert len(cat.entries("cosai", kind="risk")) == 36
    assert len(cat.entries("cosai", kind="control")) == 35
    assert [f.key for f in cat.frameworks] == list(FRAMEWORK_KEYS)


def test_every_parent_and_tactic_exists(cat: Catalog) -> None:
    for entry in cat.entries():
        if entry.parent is not None:
            assert cat.get(entry.parent) is not None, entry
        for tactic in entry.tactics:
            assert cat.resolve(tactic).kind == "tactic"


def test_descriptions_are_ours_or_absent(cat: Catalog) -> None:
    for entry in cat.entries():
        if entry.framework in ("atlas", "cosai", "iso-42001"):
            assert entry.description is None, entry.id
        if entry.description is not None:
            assert entry.description_source == "aisec summary"
            assert "\n" not in entry.description


def test_cross_references_resolve(cat: Catalog) -> None:
    for entry in cat.entries("atlas", kind="mitigation"):
        cat.check_refs(atlas=entry.related)
    for entry in cat.entries("cosai"):
        by_framework: dict[str, list[str]] = {}
        for ref in entry.related:
            by_framework.setdefault(cat.resolve(ref).framework, []).append(ref)
        cat.check_refs(
            atlas=by_framework.pop("atlas", ()),
            owasp=by_framework.pop("owasp-llm-2025", ()),
            nist=by_framework.pop("nist-ai-rmf", ()),
            cosai=by_framework.pop("cosai", ()),
        )
        assert not by_framework


@pytest.mark.parametrize(
    ("query", "expected", "name"),
    [
        ("AML.T0024", "AML.T0024", "Exfiltration via AI Inference API"),
        ("aml.t0024", "AML.T0024", "Exfiltration via AI Inference API"),
        ("T0051.000", "AML.T0051.000", "Direct"),
        ("AML.TA0010", "AML.TA0010", "Exfiltration"),
        ("AML.M0004", "AML.M0004", "Restrict Number of AI Model Queries"),
        ("LLM01", "LLM01", "Prompt Injection"),
        ("llm01:2025", "LLM01", "Prompt Injection"),
        ("LLM1", "LLM01", "Prompt Injection"),
        ("LLM10:2025", "LLM10", "Unbounded Consumption"),
        ("saif-6", "SAIF-6", "Contextualize AI system risks in surrounding business processes"),
        ("SAIF3", "SAIF-3", "Automate defenses to keep pace with existing and new threats"),
        ("GOVERN 1.1", "GOVERN 1.1", None),
        ("GV-1.1", "GOVERN 1.1", None),
        ("measure-2.7", "MEASURE 2.7", "Security and resilience evaluated and documented"),
        ("MS 2.7", "MEASURE 2.7", None),
        ("manage  4.3", "MANAGE 4.3", None),
        ("MG-4", "MANAGE 4", None),
        ("map", "MAP", "Map"),
        ("A.7.5", "A.7.5", "Data provenance"),
        ("a.6.2.4", "A.6.2.4", "AI system verification and validation"),
        ("ISO 42001 A.10.3", "A.10.3", "Suppliers"),
        ("riskdatapoisoning", "riskDataPoisoning", "Data Poisoning"),
    ],
)
def test_resolve_aliases(cat: Catalog, query: str, expected: str, name: str | None) -> None:
    entry = cat.resolve(query)
    assert entry.id == expected
    assert query in cat
    if name is not None:
        assert entry.name == name


def test_atlas_names_of_release(cat: Catalog) -> None:
    # names changed across ATLAS releases; these are the 5.6.0 ones
    assert cat.resolve("AML.T0056").name == "Extract LLM System Prompt"
    assert cat.resolve("AML.T0029").name == "Denial of AI Service"
    assert cat.resolve("AML.T0040").name == "AI Model Inference API Access"
    assert cat.resolve("AML.T0011.000").name == "Unsafe AI Artifacts"
    assert cat.resolve("AML.T0010").name == "AI Supply Chain Compromise"


def test_sub_technique_inherits_parent_tactics(cat: Catalog) -> None:
    sub = cat.resolve("AML.T0024.002")
    assert sub.kind == "sub-technique"
    assert sub.parent == "AML.T0024"
    assert sub.tactics == cat.resolve("AML.T0024").tactics == ("AML.TA0010",)
    assert [c.id for c in cat.children("AML.T0024")] == [
        "AML.T0024.000",
        "AML.T0024.001",
        "AML.T0024.002",
    ]
    assert "AML.T0024" in [c.id for c in cat.children("AML.TA0010")]
    assert len(cat.children("MEASURE 2")) == 13


def test_unknown_id_has_suggestions(cat: Catalog) -> None:
    assert cat.get("AML.T9024") is None
    assert "AML.T9024" not in cat
    with pytest.raises(CatalogError) as info:
        cat.resolve("AML.T9024")
    assert "AML.T0024" in info.value.suggestions
    line = info.value.diagnostics()
    assert "\n" not in line and "closest matches: AML.T0024" in line
    with pytest.raises(CatalogError) as info:
        cat.resolve("LLM11")
    assert info.value.suggestions


def test_unknown_framework_key(cat: Catalog) -> None:
    with pytest.raises(CatalogError) as info:
        cat.entries("owasp")
    assert "owasp-llm-2025" in info.value.suggestions


def test_check_refs(cat: Catalog) -> None:
    cat.check_refs(
        atlas=["AML.T0024"],
        owasp=["LLM01"],
        saif=["SAIF-1"],
        nist=["MEASURE 2.7"],
        iso=["A.7.5"],
        cosai=["riskPromptInjection"],
    )
    with pytest.raises(CatalogError, match=r"AML\.T9999"):
        cat.check_refs(atlas=["AML.T9999"])
    with pytest.raises(CatalogError, match="is an id of owasp-llm-2025, not of atlas"):
        cat.check_refs(atlas=["LLM01"])
    with pytest.raises(CatalogError, match="not canonical; write 'LLM01'"):
        cat.check_refs(owasp=["llm01:2025"])


# -- lifecycle -------------------------------------------------------------------------------


def test_role_matrix(cat: Catalog) -> None:
    assert len(cat.roles) == 12
    assert len({r.id for r in cat.roles}) == 12
    stage_ids = {s.id for s in cat.stages}
    for role in cat.roles:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", role.id)
        assert role.primary, role.id
        assert not set(role.primary) & set(role.secondary)
        assert set(role.primary) | set(role.secondary) <= stage_ids
        assert cat.role(role.name) == role
    for stage in cat.stages:
        assert stage.primary_roles, stage.id
        for rid in stage.primary_roles:
            assert cat.role(rid).involvement(stage.id) == "primary"
        for rid in stage.secondary_roles:
            assert cat.role(rid).involvement(stage.id) == "secondary"
    # full rows of the source table, taken as they are
    engineer = cat.role("ai-security-engineer")
    assert engineer.primary == ("data", "deployment", "inference")
    assert engineer.secondary == ("training", "evaluation", "monitoring")
    assert cat.role("AI Governance Lead").primary == ("monitoring",)
    assert cat.role("ai-red-teamer").involvement("evaluation") == "primary"
    with pytest.raises(CatalogError):
        cat.role("ai-wizard")


# The symbols of each row of the source table, in the order printed there. The source lost
# its empty cells, so rows are short; our resolved matrix must keep the symbols in this order.
SOURCE_ROWS = {
    "ai-security-engineer": "●○○●●○",
    "ai-red-teamer": "○○●○●",
    "ai-model-validator": "○●●○",
    "mlops-governance-engineer": "●●○●●",
    "ai-privacy-engineer": "●●○●",
    "data-governance-manager": "●○●",
    "ai-governance-lead": "○○○●",
    "ai-risk-manager": "○●○●",
    "ai-auditor": "○●●",
    "ai-compliance-manager": "○●●",
    "ai-bias-mitigation-specialist": "●○●○",
    "ai-infrastructure-security-specialist": "●●●○",
}


def test_resolved_matrix_keeps_the_source_symbols(cat: Catalog) -> None:
    symbol = {"primary": "●", "secondary": "○", None: ""}
    assert {r.id for r in cat.roles} == set(SOURCE_ROWS)
    for role in cat.roles:
        row = "".join(symbol[role.involvement(s.id)] for s in cat.stages)
        assert row == SOURCE_ROWS[role.id], role.id


# -- ATLAS import ----------------------------------------------------------------------------


def test_import_small_release_overlays_the_catalog(tmp_path: Path, isolated_home: Path) -> None:
    result = import_atlas(write(tmp_path / "ATLAS.yaml", SMALL_ATLAS))
    assert result.version == "9.9.0"
    assert (result.tactics, result.techniques, result.sub_techniques, result.mitigations) == (
        1,
        2,
        1,
        1,
    )
    assert result.destination == isolated_home / "frameworks" / "atlas.json"
    assert result.sha256.startswith("sha256:")
    cat = load_catalog()
    assert cat.atlas_overlay is not None and cat.atlas_overlay.version == "9.9.0"
    entry = cat.resolve("AML.T0024")
    assert entry.description == "Imported test description of T0024."
    assert entry.name == "Exfiltration via AI Inference API (renamed)"
    assert entry.description_source is not None and "9.9.0" in entry.description_source
    assert entry.version == "9.9.0"
    assert cat.resolve("AML.T0999").tactics == ("AML.TA0010",)
    assert cat.resolve("AML.T0024.000").tactics == ("AML.TA0010",)
    untouched = cat.resolve("AML.T0051")
    assert untouched.description is None and untouched.version == "5.6.0"
    # the shipped tables are unaffected
    assert load_catalog(overlay=False).resolve("AML.T0024").description is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("matrices: [", "not valid ATLAS YAML"),
        ("- just a list\n", "not a MITRE ATLAS data file"),
        ("version: 1.0\nmatrices: []\n", "matrices"),
        (SMALL_ATLAS.replace("id: AML.T0999", "id: AML.X0999"), "String should match pattern"),
        (
            SMALL_ATLAS.replace("subtechnique-of: AML.T0024", "subtechnique-of: AML.T0999"),
            "no matching parent",
        ),
        (SMALL_ATLAS.replace("tactics: [AML.TA0010]", "tactics: [AML.TA0077]"), "unknown tactic"),
        ("a: &x [1, 2]\nb: *x\nmatrices: []\n", "aliases are not allowed"),
        ("matrices: " + "[" * 100 + "]" * 100 + "\n", "nested deeper"),
    ],
)
def test_malformed_import_writes_nothing(
    tmp_path: Path, isolated_home: Path, text: str, message: str
) -> None:
    import_atlas(write(tmp_path / "good.yaml", SMALL_ATLAS))
    overlay = isolated_home / "frameworks" / "atlas.json"
    before = overlay.read_bytes()
    with pytest.raises(FormatError, match=message) as info:
        import_atlas(write(tmp_path / "bad.yaml", text))
    assert "\n" not in info.value.diagnostics()
    assert overlay.read_bytes() == before
    assert sorted(p.name for p in overlay.parent.iterdir()) == ["atlas.json"]


def test_import_refuses_huge_missing_and_binary_files(tmp_path: Path, isolated_home: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as fh:  # sparse: no real disk use
        fh.truncate(frameworks.MAX_IMPORT_BYTES + 1)
    with pytest.raises(InputError, match="larger than 50 MB"):
        import_atlas(huge)
    with pytest.raises(InputError, match="no such file"):
        import_atlas(tmp_path / "absent.yaml")
    with pytest.raises(InputError, match="not a regular file"):
        import_atlas(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match="not UTF-8"):
        import_atlas(binary)
    assert not (isolated_home / "frameworks").exists()


def test_damaged_overlay_is_a_clear_error(isolated_home: Path) -> None:
    overlay = isolated_home / "frameworks" / "atlas.json"
    overlay.parent.mkdir(parents=True)
    overlay.write_text('{"schema": "something-else"}', encoding="utf-8")
    with pytest.raises(FormatError, match="damaged ATLAS overlay") as info:
        load_catalog()
    assert "aisec frameworks import" in info.value.diagnostics()
    overlay.write_text("not json", encoding="utf-8")
    with pytest.raises(FormatError, match="not JSON"):
        load_catalog()


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_parser_fails_only_with_format_error(data: bytes) -> None:
    try:
        parse_atlas(data, source="fuzz.yaml")
    except FormatError as exc:
        assert "\n" not in exc.diagnostics()


@needs_reference
def test_official_release_imports_and_matches_shipped_names(isolated_home: Path) -> None:
    assert REFERENCE is not None
    result = import_atlas(REFERENCE / "frameworks" / "ATLAS.yaml")
    assert result.version == "5.6.0"
    assert result.techniques + result.sub_techniques == 170
    imported = load_catalog()
    shipped = load_catalog(overlay=False)
    assert [e.id for e in imported.entries("atlas")] == [e.id for e in shipped.entries("atlas")]
    for entry in shipped.entries("atlas"):
        other = imported.resolve(entry.id)
        assert (other.name, other.parent, other.tactics, other.related) == (
            entry.name,
            entry.parent,
            entry.tactics,
            entry.related,
        )
        assert other.description


# -- generated data in sync ------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_catalog", REPO / "scripts" / "gen_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_reference
def test_generated_data_is_in_sync(tmp_path: Path) -> None:
    assert REFERENCE is not None
    gen = _generator()
    assert gen.main(["--reference", str(REFERENCE), "--out", str(tmp_path)]) == 0
    shipped = REPO / "src" / "aisec" / "core" / "frameworks" / "data"
    for name in ("atlas.json", "cosai.json"):
        assert (tmp_path / name).read_text("utf-8") == (shipped / name).read_text("utf-8"), (
            f"{name} is stale: run python scripts/gen_catalog.py --reference {REFERENCE}"
        )
    # and the shipped tables carry no prose from the reference
    for name in ("atlas.json", "cosai.json"):
        assert "description" not in (shipped / name).read_text("utf-8").lower()
