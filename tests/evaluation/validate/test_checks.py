"""The four checks order known-good and known-bad models correctly, with intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from aisec.core.errors import InputError
from aisec.evaluation.validate._api import ValidationConfig, validate_model
from aisec.evaluation.validate._evasion import Schema, evasion
from aisec.evaluation.validate._extraction import extraction_cost, parse_option
from aisec.evaluation.validate._fairness import fairness
from aisec.evaluation.validate._membership import membership_inference
from aisec.evaluation.validate._stats import auc, tpr_at_fpr
from aisec.evaluation.validate._targets import CallableTarget

D = "sha256:" + "ab" * 32


def test_roc_helpers_match_sklearn() -> None:
    from sklearn.metrics import roc_auc_score, roc_curve  # type: ignore[import-untyped]

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    s = rng.normal(size=400) + y * 0.8
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    f, t, _ = roc_curve(y, s)
    assert tpr_at_fpr(y, s, 0.05) == pytest.approx(t[f <= 0.05].max())


def test_overfit_model_leaks_membership_and_regularised_does_not(digits: dict[str, Any]) -> None:
    x, y, m, n = digits["x"], digits["y"], digits["m"], digits["n"]
    res = {}
    for name in ("overfit", "regular"):
        t = CallableTarget(digits[name].predict_proba, D)
        res[name] = membership_inference(t, (x[m], y[m]), (x[n], y[n]), rounds=150)
        assert res[name].queries == t.queries > 0
    for attack in range(2):
        leak = res["overfit"].attacks[attack].metrics["auc"]
        safe = res["regular"].attacks[attack].metrics["auc"]
        assert leak.low > safe.high, (leak, safe)  # the intervals separate
        assert leak.low > 0.6
    low_fpr = res["overfit"].attacks[0].metrics["tpr_at_01pct_fpr"]
    assert not low_fpr.resolvable  # ~225 non-members cannot measure a 0.1 % FPR


def test_extraction_table_per_option(cancer: dict[str, Any]) -> None:
    x, y, test = cancer["x"], cancer["y"], cancer["test"]
    t = CallableTarget(cancer["fair"].predict_proba, D)
    opts = [parse_option(o) for o in ("raw", "round:1", "top1", "reverse-sigmoid:1:0.2")]
    rows = extraction_cost(t, (x[test], y[test]), opts, budgets=(10, 20, 40, 80), fidelity=0.95)
    by = {r.option.name: r for r in rows}
    assert list(by) == ["raw", "round-1", "top1", "reverse-sigmoid(beta=1,gamma=0.2)"]
    raw, top1 = by["raw"], by["top1"]
    assert raw.queries_to_fidelity is not None
    # raw scores are never harder to copy than labels; labels cost legitimate ranking
    assert top1.queries_to_fidelity is None or raw.queries_to_fidelity <= top1.queries_to_fidelity
    assert top1.legit_auc < raw.legit_auc - 0.01
    assert raw.legit_agreement == 1.0
    assert by["reverse-sigmoid(beta=1,gamma=0.2)"].legit_ece > raw.legit_ece
    assert raw.option.gateway_hardening() == {}
    assert by["round-1"].option.gateway_hardening() == {"round-decimals": 1}
    assert top1.option.gateway_hardening() == {"top-k": 1}
    assert by["reverse-sigmoid(beta=1,gamma=0.2)"].option.gateway_hardening() is None
    with pytest.raises(InputError, match="hardening option"):
        parse_option("round:99")


def test_planted_disparity_is_found_with_separated_intervals(cancer: dict[str, Any]) -> None:
    x, y, g, test = cancer["x"], cancer["y"], cancer["g"], cancer["test"]
    out = {}
    for name in ("fair", "biased"):
        t = CallableTarget(cancer[name].predict_proba, D)
        (out[name],) = fairness(t, x[test], y[test], {"group": g[test]})
    fair, biased = out["fair"], out["biased"]
    assert biased.demographic_parity_difference.low > fair.demographic_parity_difference.high
    assert biased.equalized_odds_difference.low > fair.equalized_odds_difference.high
    groups = {gm.group: gm for gm in biased.groups}
    assert groups["1"].tpr.high < groups["0"].tpr.low  # the planted group loses positives


def test_evasion_success_and_constraints(cancer: dict[str, Any]) -> None:
    x, y, test = cancer["x"], cancer["y"], cancer["test"]
    t = CallableTarget(cancer["fair"].predict_proba, D)
    free = evasion(t, x[test], y[test], budgets=(0.05, 0.5), rows=10, max_iter=5, max_eval=100)
    assert free.attacked == 10 and free.queries_per_row > 0
    assert free.budgets[-1][1].value > 0  # a large budget flips some decisions
    assert free.budgets[0][1].value <= free.budgets[-1][1].value
    base = Schema.from_data(x[test])
    frozen = Schema(base.low, base.high, np.ones(x.shape[1], bool), np.zeros(x.shape[1], bool))
    locked = evasion(t, x[test], y[test], schema=frozen, budgets=(0.5,), rows=10, max_iter=5)
    assert locked.budgets[0][1].value == 0.0 and locked.constrained  # nothing may change


def test_evasion_with_constant_features(digits: dict[str, Any]) -> None:
    x, y, n = digits["x"], digits["y"], digits["n"]
    assert (x[n].min(0) == x[n].max(0)).any()  # digits has always-blank pixels
    t = CallableTarget(digits["regular"].predict_proba, D)
    res = evasion(t, x[n], y[n], budgets=(0.5,), rows=3, max_iter=2, max_eval=50)
    assert res.attacked == 3


def test_validate_model_judges_limits(digits: dict[str, Any]) -> None:
    x, y, m, n = digits["x"], digits["y"], digits["m"], digits["n"]
    t = CallableTarget(digits["overfit"].predict_proba, D)
    cfg = ValidationConfig(checks=("membership", "fairness"), rounds=100)
    rep = validate_model(t, (x[n], y[n]), members=(x[m], y[m]), config=cfg)
    assert rep.metrics["membership.auc"].status == "fail"
    assert rep.result.value == "fail"
    ids = {f.id for f in rep.findings}
    assert "AISEC-EVA-101" in ids and "AISEC-EVA-105" in ids  # fairness: no sensitive column
    (pred,) = rep.predicates()
    assert pred.model_digest == D and pred.metrics["membership.auc"].limit == 0.6
    assert rep.findings[0].evidence["owasp_ml"].startswith("ML04")
