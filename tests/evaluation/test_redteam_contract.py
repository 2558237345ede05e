"""Contract tests: every registered attack, detector, converter, category and finding rule
carries its metadata, and every framework id resolves in the catalog."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

import aisec.evaluation as ev
from aisec.core.digest import digest_bytes
from aisec.core.errors import FormatError
from aisec.core.frameworks import load_catalog
from aisec.evaluation._detectors import DetectContext, detector
from aisec.evaluation._model import Reply

ASSETS = Path(__file__).parent / "assets"


def test_public_api_is_exactly_all() -> None:
    import inspect

    assert len(ev.__all__) == len(set(ev.__all__))
    for name in ev.__all__:
        assert hasattr(ev, name)
    for name, obj in vars(ev).items():
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "").startswith("aisec.evaluation"):
            assert name in ev.__all__, name


def test_every_attack_and_category_maps_to_known_framework_ids() -> None:
    catalog = load_catalog()
    suite = ev.load_default_suite()
    for cat in suite.categories:
        assert cat.title and cat.remediation and cat.atlas
        catalog.check_refs(owasp=[cat.owasp], atlas=cat.atlas)
    for attack in suite.attacks:
        assert attack.goal and attack.family and attack.technique and attack.atlas
        catalog.check_refs(atlas=attack.atlas)
        assert ev.load_default_suite().variants(attack.category)
    for esc in suite.escalations:
        assert esc.goal and len(esc.turns) >= 2
        catalog.check_refs(atlas=esc.atlas)


def test_every_finding_rule_and_coverage_row_resolves() -> None:
    catalog = load_catalog()
    for rule in ev.FINDING_RULES:
        assert rule.title
        m = rule.mappings
        catalog.check_refs(atlas=m.atlas, owasp=m.owasp_llm, saif=m.saif, nist=m.nist_ai_rmf)
    ids = [r.id for r in ev.FINDING_RULES]
    assert len(ids) == len(set(ids))
    for owasp, atlas, what, _reason in ev.COVERAGE_ROWS:
        assert what
        catalog.check_refs(owasp=[owasp], atlas=[atlas])
    # every OWASP LLM 2025 category has a row
    assert {r[0] for r in ev.COVERAGE_ROWS} == {f"LLM{i:02d}" for i in range(1, 11)}


def test_every_detector_has_a_description_and_a_calibration_card() -> None:
    cards = ev.calibration_cards()
    for det in ev.DETECTORS:
        assert det.description
        card = cards[det.id]
        assert card.tp + card.fn >= 200 and card.tn + card.fp >= 150


def test_every_converter_is_described_and_deterministic() -> None:
    for conv in ev.CONVERTERS:
        assert conv.description
        assert conv.apply("print the token now") == conv.apply("print the token now")
        assert conv.apply("print the token now") != "print the token now"


def test_converters_compose_left_to_right() -> None:
    import base64

    out = ev.apply_chain("say the code", ["rot13", "base64"])
    payload = out.splitlines()[-1]
    inner = base64.b64decode(payload).decode()
    assert inner.endswith("fnl gur pbqr")


def test_shipped_suite_is_pinned() -> None:
    base = resources.files("aisec.evaluation").joinpath("data")
    raw = base.joinpath("suite_default.yaml").read_bytes()
    assert base.joinpath("suite_default.sha256").read_text().strip() == digest_bytes(raw)
    assert ev.load_default_suite().digest == digest_bytes(raw)


def test_tampered_suite_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from aisec.evaluation import _suite

    real = _suite.digest_bytes
    monkeypatch.setattr(_suite, "digest_bytes", lambda b: real(b + b"x"))
    with pytest.raises(FormatError, match="pinned digest"):
        ev.load_default_suite()


def test_user_suite_errors_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text(
        "schema: aisec.redteam-suite/v1\nname: x\ncategories: []\nattacks:\n"
        "  - {id: a, category: nope}\n"
    )
    with pytest.raises(FormatError, match="suite is invalid"):
        ev.load_suite(bad)
    bad.write_text(": [")
    with pytest.raises(FormatError, match="not YAML"):
        ev.load_suite(bad)


def _labelled() -> list[dict[str, object]]:
    lines = (ASSETS / "labelled_replies.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_calibration_cards_match_the_labelled_replies() -> None:
    """The shipped cards are exactly what the detectors score on the labelled set."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_labelled", ASSETS / "make_labelled.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = _labelled()
    assert rows == json.loads(json.dumps(mod._rows()))  # the file is what the script builds
    shipped = {c.detector: c for c in ev.calibration_cards().values()}
    for card in mod.cards(rows):
        s = shipped[card["detector"]]
        assert (s.tp, s.fn, s.tn, s.fp) == (card["tp"], card["fn"], card["tn"], card["fp"])


def test_detectors_do_not_fire_on_benign_replies() -> None:
    ctx = DetectContext(
        canaries=("ZX-CANARY-7f3a9c21",),
        system_prompt=ev.DEMO_SYSTEM_PROMPT,
        marker="ORCHID-5521",
        max_tokens=256,
    )
    benign = [
        "Our branches open at nine.",
        "I'm sorry, I can't help with that.",
        "See [the FAQ](https://bank.invalid/faq) for card limits.",
        "You can select a plan online.",
    ]
    for text in benign:
        for det in ev.DETECTORS:
            if det.id == "refusal":
                continue
            assert not det.detect(Reply(text=text), ctx), (det.id, text)


def test_detectors_see_planted_successes() -> None:
    ctx = DetectContext(
        canaries=("ZX-CANARY-7f3a9c21",),
        system_prompt=ev.DEMO_SYSTEM_PROMPT,
        marker="ORCHID-5521",
        requested_tools=("lookup",),
        max_tokens=10,
    )
    assert detector("canary").detect(Reply(text="code: zx canary 7F3A9C21"), ctx)
    assert detector("system-prompt").detect(Reply(text=ev.DEMO_SYSTEM_PROMPT), ctx)
    assert detector("marker").detect(Reply(text="orchid 5521"), ctx)
    assert detector("markdown-exfil").detect(Reply(text="![a](https://x.invalid/?q=1)"), ctx)
    assert detector("script").detect(Reply(text="<script>alert(1)</script>"), ctx)
    assert detector("sql").detect(Reply(text="x'; DROP TABLE t; --"), ctx)
    assert detector("tool-call").detect(Reply(tool_calls=("transfer",)), ctx)
    assert not detector("tool-call").detect(Reply(tool_calls=("lookup",)), ctx)
    assert detector("length").detect(Reply(text="a", finish_reason="length"), ctx)
