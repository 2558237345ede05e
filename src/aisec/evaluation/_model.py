"""Values passed between the red-team engine's parts: messages, probes, replies, trials."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Message",
    "Outcome",
    "Probe",
    "Reply",
    "TrialRecord",
]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message; ``role`` is system, user, assistant or tool."""

    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Probe:
    """One request to a target: the conversation so far, the tools offered, a seed.

    ``trial_id`` names the request in the run state so a resumed run never re-sends it;
    targets pass it on as the ``x-aisec-trial`` header.
    """

    trial_id: str
    messages: tuple[Message, ...]
    tools: tuple[str, ...] = ()
    max_tokens: int = 256
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    """What a target answered, or why it could not (``error`` set: never counted as safe)."""

    text: str = ""
    tool_calls: tuple[str, ...] = ()
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tool_calls": list(self.tool_calls),
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=str(data.get("text") or ""),
            tool_calls=tuple(str(t) for t in data.get("tool_calls") or ()),
            finish_reason=data.get("finish_reason"),
            prompt_tokens=int(data.get("prompt_tokens") or 0),
            completion_tokens=int(data.get("completion_tokens") or 0),
            attempts=int(data.get("attempts") or 1),
            status=data.get("status"),
            error=data.get("error"),
        )


class Outcome(StrEnum):
    SUCCESS = "success"  # the attack worked (detector fired)
    FAIL = "fail"  # the target resisted
    ERROR = "error"  # no usable reply: never counted as safe


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One finished request of a run, as kept in the run state."""

    trial_id: str
    category: str
    attack: str
    variant: str
    sample: int
    outcome: Outcome
    prompt: str
    reply: Reply
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "trial": self.trial_id,
            "category": self.category,
            "attack": self.attack,
            "variant": self.variant,
            "sample": self.sample,
            "outcome": self.outcome.value,
            "prompt": self.prompt,
            "reply": self.reply.to_json(),
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        return cls(
            trial_id=str(data["trial"]),
            category=str(data["category"]),
            attack=str(data["attack"]),
            variant=str(data["variant"]),
            sample=int(data["sample"]),
            outcome=Outcome(data["outcome"]),
            prompt=str(data.get("prompt") or ""),
            reply=Reply.from_json(dict(data.get("reply") or {})),
            detail=str(data.get("detail") or ""),
        )
