"""Evasion robustness with ART's decision-based attacks (HopSkipJump, Boundary), which need
only the target's answers, under a small tabular schema: per-feature ranges, immutable and
integer columns. Reported as the attack success rate at stated perturbation budgets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from aisec.core.errors import FormatError, InputError
from aisec.evaluation.validate._stats import Estimate, rate
from aisec.evaluation.validate._targets import Array, Target

__all__ = ["EvasionResult", "Schema", "evasion", "load_schema"]

AttackName = Literal["hopskipjump", "boundary"]
_MAX_SCHEMA = 256 * 1024


@dataclass(frozen=True)
class Schema:
    """Per-feature bounds and which features may not change or must stay whole numbers."""

    low: Array
    high: Array
    immutable: NDArray[np.bool_]
    integer: NDArray[np.bool_]

    @classmethod
    def from_data(cls, x: Array) -> Schema:
        n = x.shape[1]
        return cls(x.min(0), x.max(0), np.zeros(n, bool), np.zeros(n, bool))

    def project(self, x: Array, original: Array) -> Array:
        out = np.clip(x, self.low, self.high)
        out[:, self.immutable] = original[:, self.immutable]
        out[:, self.integer] = np.round(out[:, self.integer])
        return out


def load_schema(path: Path, columns: list[str], x: Array) -> Schema:
    """A YAML/JSON schema ``features: {name: {min, max, immutable, integer}}``; a feature it
    does not name keeps the data's range and may change freely."""
    import yaml

    if path.stat().st_size > _MAX_SCHEMA:
        raise InputError(f"{path}: the schema is larger than {_MAX_SCHEMA} bytes", path=path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not a YAML schema: {exc}".splitlines()[0]) from None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, dict):
        raise FormatError(f"{path}: the schema needs a 'features' mapping")
    base = Schema.from_data(x)
    low, high = base.low.copy(), base.high.copy()
    imm, integ = base.immutable.copy(), base.integer.copy()
    for name, spec in feats.items():
        if str(name) not in columns:
            raise FormatError(f"{path}: feature {name!r} is not a column of the data")
        if not isinstance(spec, dict) or set(spec) - {"min", "max", "immutable", "integer"}:
            raise FormatError(f"{path}: feature {name!r}: keys are min, max, immutable, integer")
        i = columns.index(str(name))
        try:
            low[i] = float(spec.get("min", low[i]))
            high[i] = float(spec.get("max", high[i]))
        except (TypeError, ValueError):
            raise FormatError(f"{path}: feature {name!r}: min and max must be numbers") from None
        if low[i] > high[i]:
            raise FormatError(f"{path}: feature {name!r}: min is above max")
        imm[i] = bool(spec.get("immutable", False))
        integ[i] = bool(spec.get("integer", False))
    return Schema(low, high, imm, integ)


@dataclass(frozen=True)
class EvasionResult:
    attack: str
    attacked: int  # rows the target classified correctly, attacked
    budgets: tuple[tuple[float, Estimate], ...]  # (perturbation budget, success rate)
    queries_per_row: float
    constrained: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "attacked": self.attacked,
            "distance": "rms of range-normalised change per feature",
            "constrained": self.constrained,
            "queries_per_row": round(self.queries_per_row, 1),
            "success": [{"budget": b, **e.to_json()} for b, e in self.budgets],
        }


def evasion(
    target: Target,
    x: Array,
    y: NDArray[Any],
    *,
    schema: Schema | None = None,
    attack: AttackName = "hopskipjump",
    budgets: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2),
    rows: int = 20,
    max_iter: int = 10,
    max_eval: int = 200,
    seed: int = 0,
) -> EvasionResult:
    """Attack up to ``rows`` correctly classified rows; an evasion counts at a budget when the
    projected (schema-valid) adversarial row changes the target's label within it."""
    from art.attacks.evasion import BoundaryAttack, HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    sch = schema or Schema.from_data(x)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    pred = target.predict_proba(x).argmax(1)
    correct = np.flatnonzero(classes[pred] == y)
    pick = rng.permutation(correct)[:rows]
    x0 = np.asarray(x[pick], dtype=np.float64)
    if not len(pick):  # nothing classified correctly: nothing to evade, nothing measured
        return EvasionResult(attack, 0, tuple((b, rate(0, 0)) for b in budgets), 0.0, False)
    span = np.where(sch.high > sch.low, sch.high - sch.low, 1.0)

    est = BlackBoxClassifier(
        lambda z: target.predict_proba(np.asarray(z, dtype=np.float64)),
        input_shape=(x.shape[1],),
        nb_classes=len(classes),
        # ART needs min < max per feature; a constant feature gets a sliver of room
        clip_values=(
            sch.low.astype(np.float32),
            np.maximum(sch.high, sch.low + 1e-3).astype(np.float32),
        ),
    )
    before = target.queries
    mask = (~sch.immutable).astype(np.float32)
    np.random.seed(seed)
    if attack == "hopskipjump":
        hsj = HopSkipJump(est, max_iter=max_iter, max_eval=max_eval, init_eval=20, verbose=False)
        adv = hsj.generate(x0.astype(np.float32), mask=np.tile(mask, (len(x0), 1)))
    else:
        ba = BoundaryAttack(est, targeted=False, max_iter=max_iter * 10, verbose=False)
        adv = ba.generate(x0.astype(np.float32))
        adv = np.where(mask.astype(bool), adv, x0)
    adv = sch.project(np.asarray(adv, dtype=np.float64), x0)
    queries = target.queries - before
    flipped = target.predict_proba(adv).argmax(1) != pred[pick]
    dist = np.sqrt(np.mean(((adv - x0) / span) ** 2, axis=1))
    out = tuple((b, rate(int(np.sum(flipped & (dist <= b))), len(pick))) for b in budgets)
    return EvasionResult(attack, len(pick), out, queries / max(1, len(pick)), schema is not None)
