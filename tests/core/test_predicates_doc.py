"""docs/predicates.md is the predicate models, written out: it cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from aisec.core.predicates._doc import render_predicates_doc
from aisec.core.predicates._registry import MODELS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "predicates.md"


def test_the_committed_page_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_predicates_doc(MODELS), (
        "docs/predicates.md is stale: run python scripts/gen_predicates_doc.py"
    )


def test_every_type_and_every_field_is_on_the_page() -> None:
    text = render_predicates_doc(MODELS)
    for model in MODELS:
        assert f"## `{model.predicate_type()}`" in text
        for name, info in model.model_fields.items():
            if name in ("result", "findings", "subjects", "inputs", "run"):
                continue
            assert f"`{info.alias or name}`" in text, (model.__name__, name)
