"""Membership inference: a reference-model attack (offline LiRA/RMIA-style) and ART's
black-box attack, reported as AUC and TPR at 1 % and 0.1 % FPR with bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone  # type: ignore[import-untyped]
from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
from sklearn.metrics import roc_curve  # type: ignore[import-untyped]

from aisec.evaluation.validate._stats import Estimate, bootstrap, roc_metrics
from aisec.evaluation.validate._targets import Array, Target

__all__ = ["AttackResult", "MembershipResult", "membership_inference"]


@dataclass(frozen=True)
class AttackResult:
    name: str
    metrics: dict[str, Estimate]
    roc: tuple[tuple[float, float], ...]  # (fpr, tpr), thinned for plots

    def to_json(self) -> dict[str, Any]:
        return {
            "attack": self.name,
            **{k: v.to_json() for k, v in self.metrics.items()},
            "roc": [[round(f, 5), round(t, 5)] for f, t in self.roc],
        }


@dataclass(frozen=True)
class MembershipResult:
    attacks: tuple[AttackResult, ...]
    members: int
    non_members: int
    reference_models: int
    queries: int

    def worst(self, key: str) -> Estimate:
        return max((a.metrics[key] for a in self.attacks), key=lambda e: e.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "members_evaluated": self.members,
            "non_members_evaluated": self.non_members,
            "reference_models": self.reference_models,
            "queries": self.queries,
            "attacks": [a.to_json() for a in self.attacks],
        }


def _thin(
    y: NDArray[Any], score: NDArray[Any], points: int = 60
) -> tuple[tuple[float, float], ...]:
    f, t, _ = roc_curve(y, score)
    keep = np.unique(np.linspace(0, len(f) - 1, min(points, len(f))).astype(int))
    return tuple((float(f[i]), float(t[i])) for i in keep)


def _true_class(p: Array, y: NDArray[Any], classes: NDArray[Any]) -> Array:
    idx = np.searchsorted(classes, y)
    return np.asarray(p[np.arange(len(y)), idx], dtype=np.float64)


def membership_inference(
    target: Target,
    members: tuple[Array, NDArray[Any]],
    non_members: tuple[Array, NDArray[Any]],
    *,
    reference: Any = None,
    reference_models: int = 4,
    rounds: int = 200,
    seed: int = 0,
) -> MembershipResult:
    """Attack ``target`` with known members (its training rows) and non-members (same
    distribution, never trained on). Half the non-members train the reference models and
    are never scored; the rest are split between training ART's attack model and scoring."""
    rng = np.random.default_rng(seed)
    xm, ym = members
    xn, yn = non_members
    classes = np.unique(np.concatenate([ym, yn]))
    pn = rng.permutation(len(xn))
    pop, rest = pn[: len(pn) // 2], pn[len(pn) // 2 :]
    n_a, n_e = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    pm = rng.permutation(len(xm))
    m_e = pm[: len(n_e)]
    m_a = pm[len(n_e) : len(n_e) + len(n_a)]
    before = target.queries

    # the reference-model attack: how much more the target believes a row's label than
    # models that never saw it (per-example difficulty calibration, as LiRA/RMIA offline)
    x_eval = np.concatenate([xm[m_e], xn[n_e]])
    y_eval = np.concatenate([ym[m_e], yn[n_e]])
    is_member = np.concatenate([np.ones(len(m_e)), np.zeros(len(n_e))]).astype(int)
    p_target = _true_class(target.predict_proba(x_eval), y_eval, classes)
    base = (
        reference
        if reference is not None
        else RandomForestClassifier(
            n_estimators=50, min_samples_leaf=3, random_state=seed, n_jobs=1
        )
    )
    refs = []
    for k in range(reference_models):
        sub = rng.choice(pop, max(2, len(pop) // 2), replace=False)
        model = clone(base)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed + k)
        model.fit(xn[sub], yn[sub])
        proba = np.zeros((len(x_eval), len(classes)))
        proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x_eval)
        refs.append(_true_class(proba, y_eval, classes))
    p_ref = np.mean(refs, axis=0)
    eps = 1e-6
    score = np.log(p_target + eps) - np.log(p_ref + eps)
    attacks = [
        AttackResult(
            "reference-model",
            bootstrap(is_member, score, roc_metrics, rounds=rounds, seed=seed),
            _thin(is_member, score),
        )
    ]

    # ART's black-box attack: an attack model on the target's scores
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from art.estimators.classification import BlackBoxClassifier

    art_target = BlackBoxClassifier(
        target.predict_proba, input_shape=(xm.shape[1],), nb_classes=len(classes)
    )
    attack = MembershipInferenceBlackBox(
        art_target, input_type="prediction", attack_model_type="rf"
    )
    yi = {c: i for i, c in enumerate(classes)}
    to_idx = np.vectorize(yi.__getitem__)
    attack.fit(
        xm[m_a].astype(np.float32), to_idx(ym[m_a]), xn[n_a].astype(np.float32), to_idx(yn[n_a])
    )
    inferred = attack.infer(x_eval.astype(np.float32), to_idx(y_eval), probabilities=True)
    art_score = np.asarray(inferred, dtype=np.float64).reshape(len(x_eval), -1)[:, -1]
    attacks.append(
        AttackResult(
            "art-black-box",
            bootstrap(is_member, art_score, roc_metrics, rounds=rounds, seed=seed),
            _thin(is_member, art_score),
        )
    )
    return MembershipResult(
        tuple(attacks), len(m_e), len(n_e), reference_models, target.queries - before
    )
