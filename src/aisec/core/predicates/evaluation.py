"""Predicates of stage 3, evaluation: red-team runs."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model

__all__ = ["CategoryResult", "RedteamPredicate", "ValidationMetric", "ValidationPredicate"]


class CategoryResult(_Model):
    """One attack category: attempts, successes, the rate and its interval, the verdict."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    attempts: int
    successes: int
    rate: float
    ci: tuple[float, float]
    verdict: str | None = None


class RedteamPredicate(Predicate):
    """A red-team run against one model or application (subjects: the model, the system
    prompt, tools, RAG corpus, suite and transcripts, by digest)."""

    STAGE: ClassVar[str] = "evaluation"
    CONTROL: ClassVar[str] = "redteam"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    model_digest: Digest
    system_prompt_digest: Digest | None = None
    tools_digest: Digest | None = None
    rag_digest: Digest | None = None
    suite_digest: Digest
    transcripts_digest: Digest
    confidence: float
    categories: dict[str, CategoryResult]

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        vulnerable = any(
            f.get("severity") in ("medium", "high", "critical") for f in data.get("findings") or []
        )
        result = ControlResult.FAIL if vulnerable else ControlResult.INCONCLUSIVE
        return {**data, "result": result.value}


class ValidationMetric(_Model):
    """One measured metric of a model validation: value, interval, limit and status
    (``pass``: the interval is within the limit, ``fail``: it is wholly beyond it,
    ``inconclusive``: it straddles it, ``measured``: no limit was set)."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    value: float
    ci: tuple[float, float]
    limit: float | None = None
    direction: str = "max"  # "max": lower is better; "min": higher is better
    status: str = "measured"


class ValidationPredicate(Predicate):
    """A validation of one classifier (subjects: the model, by digest): membership inference,
    extraction cost per hardening option, evasion robustness, fairness; ``metrics`` by name
    (``membership.auc``, ``extraction.<option>.queries_to_fidelity``, ...)."""

    STAGE: ClassVar[str] = "evaluation"
    CONTROL: ClassVar[str] = "model-validation"
    VERSION: ClassVar[int] = 1

    model_digest: Digest
    target_kind: str
    data_digest: Digest | None = None
    checks: tuple[str, ...]
    metrics: dict[str, ValidationMetric]
    served: str | None = None
    hardening: dict[str, Any] | None = None
