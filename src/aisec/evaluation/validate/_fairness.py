"""Fairness over user-named sensitive columns: Fairlearn's per-group metrics and
demographic-parity / equalised-odds differences, with intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aisec.evaluation.validate._stats import Estimate, rate
from aisec.evaluation.validate._targets import Array, Target

__all__ = ["FairnessResult", "GroupMetrics", "fairness"]


@dataclass(frozen=True)
class GroupMetrics:
    group: str
    count: int
    selection_rate: Estimate
    tpr: Estimate
    fpr: Estimate
    calibration_gap: float  # mean P(positive) - observed positive rate

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "selection_rate": self.selection_rate.to_json(),
            "tpr": self.tpr.to_json(),
            "fpr": self.fpr.to_json(),
            "calibration_gap": round(self.calibration_gap, 6),
        }


@dataclass(frozen=True)
class FairnessResult:
    feature: str
    groups: tuple[GroupMetrics, ...]
    demographic_parity_difference: Estimate
    equalized_odds_difference: Estimate

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "groups": [g.to_json() for g in self.groups],
            "demographic_parity_difference": self.demographic_parity_difference.to_json(),
            "equalized_odds_difference": self.equalized_odds_difference.to_json(),
        }


def _differences(
    y: NDArray[Any], pred: NDArray[Any], g: NDArray[Any], k: int
) -> tuple[float, float]:
    def rates(mask: NDArray[Any]) -> NDArray[Any]:
        num = np.bincount(g[mask], weights=pred[mask], minlength=k)
        den = np.bincount(g[mask], minlength=k)
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)

    every = np.ones(len(y), dtype=bool)
    sel, tpr, fpr = rates(every), rates(y == 1), rates(y == 0)
    dp = float(np.nanmax(sel) - np.nanmin(sel))
    eo = float(max(np.nanmax(tpr) - np.nanmin(tpr), np.nanmax(fpr) - np.nanmin(fpr)))
    return dp, eo


def fairness(
    target: Target,
    x: Array,
    y: NDArray[Any],
    sensitive: dict[str, NDArray[Any]],
    *,
    threshold: float = 0.5,
    rounds: int = 300,
    seed: int = 0,
) -> tuple[FairnessResult, ...]:
    """Per sensitive feature: per-group selection rate, TPR, FPR (Wilson intervals from the
    counts), calibration gap, and DP / EO differences (Fairlearn's definitions) with a
    bootstrap interval. ``y`` holds 0/1 labels; a row is selected when P(class 1) >= threshold."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    proba = target.predict_proba(x)[:, 1]
    pred = (proba >= threshold).astype(int)
    y = np.asarray(y).astype(int)
    rng = np.random.default_rng(seed)
    out = []
    for feature, values in sensitive.items():
        values = np.asarray(values).astype(str)
        frame = MetricFrame(
            metrics={"sel": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=y,
            y_pred=pred,
            sensitive_features=values,
        )
        groups = []
        for name in frame.by_group.index:
            m = values == name
            pos, neg = m & (y == 1), m & (y == 0)
            groups.append(
                GroupMetrics(
                    str(name),
                    int(m.sum()),
                    rate(int(pred[m].sum()), int(m.sum())),
                    rate(int(pred[pos].sum()), int(pos.sum())),
                    rate(int(pred[neg].sum()), int(neg.sum())),
                    float(proba[m].mean() - y[m].mean()),
                )
            )
        dp = float(demographic_parity_difference(y, pred, sensitive_features=values))
        eo = float(equalized_odds_difference(y, pred, sensitive_features=values))
        # the intervals by a numpy bootstrap of the same definitions: MetricFrame's n_boot
        # re-runs pandas group-bys per round (seconds per hundred rounds)
        levels, codes = np.unique(values, return_inverse=True)
        draws = np.array(
            [
                _differences(y[i], pred[i], codes[i], len(levels))
                for i in (rng.integers(0, len(y), len(y)) for _ in range(rounds))
            ]
        )
        lo, hi = np.nanquantile(draws, [0.025, 0.975], axis=0)
        out.append(
            FairnessResult(
                feature,
                tuple(groups),
                Estimate(dp, float(lo[0]), float(hi[0])),
                Estimate(eo, float(lo[1]), float(hi[1])),
            )
        )
    return tuple(out)
