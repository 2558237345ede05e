"""Intervals: percentile bootstrap for ROC metrics, Wilson (aisec.core.stats) for rates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from aisec.core.stats import wilson

__all__ = ["Estimate", "auc", "bootstrap", "rate", "roc_metrics", "tpr_at_fpr"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point value and its interval (``resolvable`` False: too few samples to measure it)."""

    value: float
    low: float
    high: float
    resolvable: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": round(self.value, 6),
            "ci": [round(self.low, 6), round(self.high, 6)],
        }
        if not self.resolvable:
            out["resolvable"] = False
        return out

    def text(self, digits: int = 3) -> str:
        mark = "" if self.resolvable else " (too few samples)"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]{mark}"


def rate(k: int, n: int, confidence: float = 0.95) -> Estimate:
    lo, hi = wilson(k, n, confidence)
    return Estimate(k / n if n else 0.0, lo, hi, n > 0)


# hand-written rather than sklearn's roc_curve/roc_auc_score: their input validation is
# most of the time of a 200-round bootstrap; these are the same quantities in numpy
def tpr_at_fpr(y: NDArray[Any], score: NDArray[Any], fpr: float) -> float:
    """The highest TPR with FPR at most ``fpr`` (the privacy literature's low-FPR metric):
    rows scoring strictly above the threshold that lets at most ``fpr`` of negatives in."""
    neg = np.sort(score[y == 0])[::-1]
    pos = score[y == 1]
    if not len(neg) or not len(pos):
        return 0.0
    k = int(np.floor(fpr * len(neg)))
    threshold = neg[k] if k < len(neg) else -np.inf
    return float(np.mean(pos > threshold))


def auc(y: NDArray[Any], score: NDArray[Any]) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count one half)."""
    n_pos = int(np.sum(y == 1))
    n_neg = len(y) - n_pos
    if not n_pos or not n_neg:
        return 0.5
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_metrics(y: NDArray[Any], score: NDArray[Any]) -> dict[str, float]:
    return {
        "auc": auc(y, score),
        "tpr_at_1pct_fpr": tpr_at_fpr(y, score, 0.01),
        "tpr_at_01pct_fpr": tpr_at_fpr(y, score, 0.001),
    }


def bootstrap(
    y: NDArray[Any],
    score: NDArray[Any],
    metrics: Callable[[NDArray[Any], NDArray[Any]], dict[str, float]],
    *,
    rounds: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Stratified percentile bootstrap of ``metrics(y, score)`` (each class resampled apart)."""
    rng = np.random.default_rng(seed)
    point = metrics(y, score)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(rounds):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        for k, v in metrics(y[idx], score[idx]).items():
            draws[k].append(v)
    a = (1 - confidence) / 2
    out = {}
    for k, v in point.items():
        lo, hi = np.quantile(draws[k], [a, 1 - a])
        resolvable = True
        if k == "tpr_at_1pct_fpr":
            resolvable = len(neg) * 0.01 >= 1
        elif k == "tpr_at_01pct_fpr":
            resolvable = len(neg) * 0.001 >= 1
        out[k] = Estimate(v, float(lo), float(hi), resolvable)
    return out
