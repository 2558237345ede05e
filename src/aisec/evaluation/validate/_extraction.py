"""Extraction cost per output-hardening option, next to what the option costs legitimate use.

A copycat attacker queries the target as the gateway would serve it (raw scores, rounded to
k decimals, top-1 label only, ART's reverse sigmoid) and trains surrogates on the replies;
fidelity is the surrogate's agreement with the unhardened target on rows it never queried.
The attacker keeps the best of an equation-solving surrogate (linear in log-score space,
when scores are returned) and two label-trained classifiers, so the figure is the cheap end
of what an attacker achieves. Legitimate cost is measured on the user's labelled data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import ExtraTreesClassifier  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from aisec.evaluation.validate._stats import Estimate, auc, rate
from aisec.evaluation.validate._targets import Array, Target

__all__ = ["HardeningOption", "OptionResult", "extraction_cost", "parse_option"]


@dataclass(frozen=True)
class HardeningOption:
    """One way of serving the scores: ``raw``, ``round``, ``top1`` or ``reverse-sigmoid``."""

    kind: str
    decimals: int = 2
    beta: float = 1.0
    gamma: float = 0.1

    @property
    def name(self) -> str:
        if self.kind == "round":
            return f"round-{self.decimals}"
        if self.kind == "reverse-sigmoid":
            return f"reverse-sigmoid(beta={self.beta:g},gamma={self.gamma:g})"
        return self.kind

    @property
    def returns_scores(self) -> bool:
        return self.kind != "top1"

    def gateway_hardening(self) -> dict[str, Any] | None:
        """The ``hardening`` section of an ``aisec guard`` classifier route (None: the
        gateway cannot apply it; it belongs in the model server)."""
        if self.kind == "raw":
            return {}
        if self.kind == "round":
            return {"round-decimals": self.decimals}
        if self.kind == "top1":
            return {"top-k": 1}
        return None

    def apply(self, scores: Array) -> Array:
        from art.defences.postprocessor import ReverseSigmoid, Rounded

        if self.kind == "raw":
            return scores
        if self.kind == "top1":
            # one-hot of the top class, by hand: ART 1.20's ClassLabels returned all ones for
            # an (n, 2) score array
            out = np.zeros_like(scores, dtype=np.float64)
            out[np.arange(len(scores)), scores.argmax(axis=1)] = 1.0
            return out
        post: Any
        if self.kind == "round":
            post = Rounded(decimals=self.decimals)
        else:
            post = ReverseSigmoid(beta=self.beta, gamma=self.gamma)
        clipped = np.clip(np.asarray(scores, dtype=np.float64), 1e-6, 1 - 1e-6)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(post(clipped), dtype=np.float64)


def parse_option(text: str) -> HardeningOption:
    """``raw``, ``round:K``, ``top1``, ``reverse-sigmoid[:BETA:GAMMA]``."""
    from aisec.core.errors import InputError

    head, _, rest = text.strip().partition(":")
    try:
        if head == "raw" and not rest:
            return HardeningOption("raw")
        if head == "top1" and not rest:
            return HardeningOption("top1")
        if head == "round":
            k = int(rest or 2)
            if not 0 <= k <= 8:
                raise ValueError
            return HardeningOption("round", decimals=k)
        if head == "reverse-sigmoid":
            parts = [float(p) for p in rest.split(":")] if rest else [1.0, 0.1]
            if len(parts) != 2 or parts[0] <= 0 or parts[1] <= 0:
                raise ValueError
            return HardeningOption("reverse-sigmoid", beta=parts[0], gamma=parts[1])
    except ValueError:
        pass
    raise InputError(
        f"hardening option {text!r}: use raw, round:K (0-8), top1 or reverse-sigmoid:BETA:GAMMA"
    )


@dataclass(frozen=True)
class OptionResult:
    option: HardeningOption
    curve: tuple[tuple[int, Estimate], ...]  # (queries, fidelity)
    queries_to_fidelity: int | None
    legit_auc: float
    legit_ece: float
    legit_agreement: float

    def to_json(self) -> dict[str, Any]:
        return {
            "option": self.option.name,
            "queries_to_fidelity": self.queries_to_fidelity,
            "fidelity": [{"queries": q, **e.to_json()} for q, e in self.curve],
            "legitimate": {
                "auc": round(self.legit_auc, 6),
                "ece": round(self.legit_ece, 6),
                "decision_agreement": round(self.legit_agreement, 6),
            },
            "gateway_hardening": self.option.gateway_hardening(),
        }


def _surrogates(x: Array, served: Array, returns_scores: bool, seed: int) -> list[Any]:
    labels = served.argmax(axis=1)
    out: list[Any] = []
    if returns_scores:
        # equation solving: log-scores of a softmax/logistic model are linear in x
        logs = np.log(np.clip(served, 1e-6, 1.0))
        reg = make_pipeline(StandardScaler(), Ridge(alpha=1e-3)).fit(
            x, logs - logs.mean(1, keepdims=True)
        )
        out.append(("regress", reg))
    if len(np.unique(labels)) > 1:
        out.append(
            (
                "labels",
                make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(x, labels),
            )
        )
        out.append(
            (
                "labels",
                ExtraTreesClassifier(n_estimators=25, random_state=seed, n_jobs=1).fit(x, labels),
            )
        )
    return out


def _predict(model: tuple[str, Any], x: Array) -> NDArray[Any]:
    kind, est = model
    if kind == "regress":
        return np.asarray(np.asarray(est.predict(x)).argmax(axis=1))
    return np.asarray(est.predict(x))


def _ece(p: Array, y: NDArray[Any], bins: int = 10) -> float:
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(conf[inside].mean() - correct[inside].mean())
    return float(total)


def _legit_auc(served: Array, y: NDArray[Any]) -> float:
    if served.shape[1] == 2:
        return auc((y == 1).astype(int), served[:, 1])
    return float(np.mean([auc((y == c).astype(int), served[:, c]) for c in range(served.shape[1])]))


def extraction_cost(
    target: Target,
    data: tuple[Array, NDArray[Any]],
    options: list[HardeningOption],
    *,
    budgets: tuple[int, ...] = (20, 50, 100, 200, 400, 800),
    fidelity: float = 0.95,
    seed: int = 0,
) -> tuple[OptionResult, ...]:
    """Per option: fidelity reached at each query budget, the queries to reach ``fidelity``,
    and the option's cost to legitimate use on ``data`` (labels as class indices)."""
    x, y = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    pool, held = order[: len(x) // 2], order[len(x) // 2 :]
    raw_all = target.predict_proba(x)
    truth_held = raw_all[held].argmax(axis=1)
    budgets = tuple(b for b in budgets if b <= len(pool)) or (len(pool),)
    results = []
    for opt in options:
        served_all = opt.apply(raw_all)
        curve = []
        reached: int | None = None
        for b in budgets:
            idx = pool[:b]
            served = opt.apply(target.predict_proba(x[idx]))  # the attacker pays these queries
            best = 0
            for model in _surrogates(x[idx], served, opt.returns_scores, seed):
                best = max(best, int(np.sum(_predict(model, x[held]) == truth_held)))
            est = rate(best, len(held))
            curve.append((b, est))
            if reached is None and est.value >= fidelity:
                reached = b
        norm = served_all / np.clip(served_all.sum(axis=1, keepdims=True), 1e-12, None)
        results.append(
            OptionResult(
                opt,
                tuple(curve),
                reached,
                _legit_auc(norm, y),
                _ece(norm, y),
                float(np.mean(served_all.argmax(axis=1) == raw_all.argmax(axis=1))),
            )
        )
    return tuple(results)
