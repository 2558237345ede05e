"""Coverage: one state per OWASP LLM 2025 category x relevant ATLAS technique.

States: ``bounded`` (the interval decides the verdict), ``too-few-samples`` (it does not,
or nothing sampled it), ``not-applicable`` (the target cannot have the weakness as
configured), ``untestable-from-outside`` (needs access a black-box run does not have),
``errored`` (the requests failed). The report's "what we could not test adequately"
section is generated from every row that is not ``bounded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aisec.evaluation._engine import CategoryResult
from aisec.evaluation._stats import Verdict

__all__ = ["COVERAGE_ROWS", "CoverageCell", "CoverageState", "coverage_matrix"]


class CoverageState(StrEnum):
    BOUNDED = "bounded"
    TOO_FEW_SAMPLES = "too-few-samples"
    NOT_APPLICABLE = "not-applicable"
    UNTESTABLE = "untestable-from-outside"
    ERRORED = "errored"


# (OWASP, ATLAS, what it is, reason when no black-box attack can reach it)
COVERAGE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("LLM01", "AML.T0051.000", "direct prompt injection", ""),
    ("LLM01", "AML.T0051.001", "indirect prompt injection", ""),
    ("LLM01", "AML.T0054", "jailbreak", ""),
    ("LLM01", "AML.T0068", "prompt obfuscation (converters)", ""),
    ("LLM02", "AML.T0057", "data leakage", ""),
    (
        "LLM03",
        "AML.T0010",
        "supply chain compromise",
        "needs the model and dependency artifacts, not the endpoint (see aisec model scan)",
    ),
    (
        "LLM04",
        "AML.T0020",
        "training data poisoning",
        "needs the training data and pipeline (see aisec data audit and the training ledger)",
    ),
    ("LLM05", "AML.T0077", "response rendering", ""),
    ("LLM06", "AML.T0053", "agent tool invocation", ""),
    ("LLM07", "AML.T0056", "system prompt extraction", ""),
    (
        "LLM08",
        "AML.T0070",
        "RAG poisoning",
        "needs write access to the retrieval corpus or vector store",
    ),
    ("LLM09", "AML.T0062", "hallucination", "needs ground-truth answers for the domain"),
    ("LLM10", "AML.T0029", "denial of service by runaway output", ""),
    ("LLM10", "AML.T0034", "cost harvesting", ""),
)


@dataclass(frozen=True, slots=True)
class CoverageCell:
    owasp: str
    atlas: str
    what: str
    state: CoverageState
    reason: str
    categories: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "owasp": self.owasp,
            "atlas": self.atlas,
            "what": self.what,
            "state": self.state.value,
            "reason": self.reason,
            "categories": list(self.categories),
        }


def _cell_state(cats: list[CategoryResult]) -> tuple[CoverageState, str]:
    bounded = [c for c in cats if c.verdict is not Verdict.INCONCLUSIVE]
    if bounded:
        c = bounded[0]
        est = c.estimate
        span = f"[{est.ci_low:.3f}, {est.ci_high:.3f}]" if est else ""
        return CoverageState.BOUNDED, f"{c.spec.id}: {c.verdict.value}, rate in {span}"
    if all(not c.variants for c in cats):
        reasons = sorted({r for c in cats for r in c.skipped_attacks.values()})
        state = (
            CoverageState.NOT_APPLICABLE
            if any("does not accept" in r for r in reasons)
            else CoverageState.UNTESTABLE
        )
        return state, "; ".join(reasons) or "no attack in the suite"
    if all(c.trials == 0 and c.errors > 0 for c in cats if c.variants):
        errs = sum(c.errors for c in cats)
        return CoverageState.ERRORED, f"all {errs} requests errored"
    parts = []
    for c in cats:
        est = c.estimate
        if c.judgement is not None and c.judgement.reason:
            parts.append(f"{c.spec.id}: {c.judgement.reason}")
        elif est is not None and est.note:
            parts.append(f"{c.spec.id}: {est.note}")
        elif est is not None:
            parts.append(
                f"{c.spec.id}: interval [{est.ci_low:.3f}, {est.ci_high:.3f}] after "
                f"{c.trials} trials ({c.errors} errored) does not decide the threshold "
                f"{c.spec.threshold}"
            )
    return CoverageState.TOO_FEW_SAMPLES, "; ".join(parts)


def coverage_matrix(cats: list[CategoryResult], *, stopped: str = "") -> list[CoverageCell]:
    cells: list[CoverageCell] = []
    for owasp, atlas, what, outside in COVERAGE_ROWS:
        hits = [
            c
            for c in cats
            if c.spec.owasp == owasp
            and (
                atlas in c.spec.atlas
                or any(atlas in v.attack.atlas for v in c.variants)
                # converters are the obfuscation technique
                or (atlas == "AML.T0068" and any(v.chain for v in c.variants))
            )
        ]
        if not hits:
            if outside:
                cells.append(
                    CoverageCell(owasp, atlas, what, CoverageState.UNTESTABLE, outside, ())
                )
            else:
                cells.append(
                    CoverageCell(
                        owasp,
                        atlas,
                        what,
                        CoverageState.TOO_FEW_SAMPLES,
                        "no attack in this suite exercises it (0 samples)",
                        (),
                    )
                )
            continue
        state, reason = _cell_state(hits)
        if state is CoverageState.TOO_FEW_SAMPLES and stopped:
            reason = f"{reason} ({stopped})"
        cells.append(
            CoverageCell(owasp, atlas, what, state, reason, tuple(c.spec.id for c in hits))
        )
    return cells
