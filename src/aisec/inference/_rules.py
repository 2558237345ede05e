"""The extraction detectors' finding rules (``AISEC-INF-0xx``), one per detector."""

from __future__ import annotations

from dataclasses import dataclass

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = ["DETECTORS", "DetectorSpec"]


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """A detector's name (its config key) and the :class:`Rule` its alerts report."""

    name: str
    rule: Rule


_EXTRACT = ("AML.T0024", "AML.T0024.002", "AML.T0040")
# extraction through the API is a runtime abuse: SAIF 3 (inference controls) and NIST MANAGE
# 2.4 / 4.1 (act on risks found in production)
_SAIF = ("SAIF-3",)
_NIST = ("MANAGE 2.4", "MANAGE 4.1")


def _detector(
    name: str,
    rule_id: str,
    title: str,
    atlas: tuple[str, ...],
    owasp: tuple[str, ...],
    remediation: str,
    rationale: str,
) -> DetectorSpec:
    mappings = Mappings(atlas=atlas, owasp_llm=owasp, saif=_SAIF, nist_ai_rmf=_NIST)
    rule = Rule(rule_id, "inference", Severity.MEDIUM, title, remediation, mappings, rationale)
    return DetectorSpec(name, rule)


DETECTORS: tuple[DetectorSpec, ...] = (
    _detector(
        "paraphrase-density", "AISEC-INF-001", "Paraphrase flood of one question", _EXTRACT,
        ("LLM10",), "Throttle the account and coarsen its outputs; review who owns the key.",
        "Many rewordings of one question read the model's answer surface for a copy.",
    ),
    _detector(
        "prada", "AISEC-INF-002", "Query distances not like natural traffic (PRADA)", _EXTRACT,
        ("LLM10",), "Throttle the account; round confidences; review its queries.",
        "Synthetic probing spaces its queries unlike people do (Juuti et al. 2019).",
    ),
    _detector(
        "boundary-probing", "AISEC-INF-003", "Classifier decision-boundary probing",
        (*_EXTRACT, "AML.T0043"), ("LLM10",),
        "Return labels only or coarse scores on this route; throttle the account.",
        "Queries walking to a score of 0.5 map the decision boundary a copy needs.",
    ),
    _detector(
        "volume-anomaly", "AISEC-INF-004", "Query volume far above the account's baseline",
        ("AML.T0034.000", "AML.T0040"), ("LLM10",),
        "Lower the account's limits; confirm the traffic with its owner.",
        "A sudden flood from one key is harvesting or abuse of the cost budget.",
    ),
    _detector(
        "cross-account", "AISEC-INF-005", "One question paraphrased from several API keys",
        _EXTRACT, ("LLM10",), "Treat the accounts as one actor: throttle all of them.",
        "Spreading one campaign over several keys evades every per-key limit.",
    ),
    _detector(
        "logit-probing", "AISEC-INF-006", "Logit-bias probing with logprobs",
        _EXTRACT, ("LLM10", "LLM02"),
        "Refuse logit_bias and strip logprobs on this route.",
        "Sweeping logit_bias with logprobs recovers a model's final layer (Carlini et al. 2024).",
    ),
    _detector(
        "paraphrase-concentration", "AISEC-INF-007",
        "One question reworded many times from one key, far above its own topic mix", _EXTRACT,
        ("LLM10",), "Throttle the account and coarsen its outputs; review who owns the key.",
        "Dozens of distinct rewordings of one decision read the model's answer surface for a "
        "copy; people rephrase a few times and services spread over many topics.",
    ),
    _detector(
        "distillation-harvest", "AISEC-INF-008",
        "Many distinct prompts harvested with long outputs and logprobs",
        (*_EXTRACT, "AML.T0048.004"), ("LLM10", "LLM02"),
        "Strip logprobs and cap max_tokens for the account; review its terms of use.",
        "Distilling a model needs many distinct long answers with their token distributions; "
        "evaluation harnesses repeat a fixed prompt set or ask for short answers.",
    ),
    _detector(
        "embedding-theft", "AISEC-INF-009",
        "Flood of short unrelated inputs to an embeddings route", _EXTRACT, ("LLM10",),
        "Throttle the account on the embeddings route; add noise or lower output precision.",
        "Copying an encoder needs many diverse inputs; indexers embed documents chunk by chunk.",
    ),
)  # fmt: skip
