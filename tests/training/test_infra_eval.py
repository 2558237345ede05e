"""The second evaluation set (bench/gen_infra_eval.py, a speech-model platform): every
generated bad file fires exactly the rule its truth names, every good file nothing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from aisec.training.infra import InfraContext, check_infra

GEN = Path(__file__).resolve().parents[2] / "bench" / "gen_infra_eval.py"


@pytest.mark.parametrize("seed", [7, 1234])
def test_generated_set_matches_its_truth(seed: int, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_infra_eval", GEN)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    truth = gen.generate(tmp_path, seed=seed, copies=1)
    assert truth == json.loads((tmp_path / "TRUTH.json").read_text())
    ctx = InfraContext.from_file(tmp_path / "context.yaml")
    wrong = {}
    for name, rule in truth.items():
        ids = {f.id for f in check_infra([tmp_path / name], ctx).findings}
        if ids != ({rule} if rule else set()):
            wrong[name] = sorted(ids)
    assert not wrong
