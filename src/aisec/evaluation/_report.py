"""The JSON report (schema ``aisec.redteam-report/v1``), findings and the transcripts digest.

Every other format (text, markdown, HTML, SARIF, the attestation) is rendered from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aisec.core.digest import digest_bytes
from aisec.core.findings import Finding, Mappings, Severity, Subject
from aisec.evaluation._coverage import CoverageState, coverage_matrix
from aisec.evaluation._detectors import calibration_cards
from aisec.evaluation._engine import CategoryResult, RunResult
from aisec.evaluation._model import Outcome, TrialRecord
from aisec.evaluation._recurrence import recurring_hidden_text
from aisec.evaluation._rules import CUSTOM_CATEGORY, RULE_FOR_CATEGORY, UNBOUNDED
from aisec.evaluation._stats import Verdict, estimate_rate

__all__ = ["REPORT_SCHEMA", "build_report", "report_findings"]

REPORT_SCHEMA = "aisec.redteam-report/v1"


def transcripts_digest(records: Mapping[str, TrialRecord]) -> str:
    """sha256 over every counted request and reply of the run, in trial-id order."""
    lines = [json.dumps(records[k].to_json(), sort_keys=True) for k in sorted(records)]
    return digest_bytes("\n".join(lines).encode())


def _r(x: float) -> float:
    return round(x, 6)


def _attacks(cat: CategoryResult, keep: int) -> list[dict[str, Any]]:
    cards = calibration_cards()
    out = []
    for attack_id in dict.fromkeys(v.attack.id for v in cat.variants):
        a = next(v.attack for v in cat.variants if v.attack.id == attack_id)
        recs = sorted(
            (r for r in cat.records if r.attack == attack_id), key=lambda r: (r.sample, r.variant)
        )
        k = sum(r.outcome is Outcome.SUCCESS for r in recs)
        est = estimate_rate(k, len(recs), card=cards.get(a.detector))
        variants = []
        for v in (v for v in cat.variants if v.attack.id == attack_id):
            vr = [r for r in recs if r.variant == v.id]
            variants.append(
                {
                    "id": v.id,
                    "converters": list(v.chain),
                    "trials": len(vr),
                    "successes": sum(r.outcome is Outcome.SUCCESS for r in vr),
                }
            )
        shown = [r for r in recs if r.outcome is Outcome.SUCCESS][:keep]
        shown += [r for r in recs if r.outcome is Outcome.FAIL][: max(0, keep - len(shown))]
        out.append(
            {
                "id": a.id,
                "family": a.family,
                "technique": a.technique,
                "atlas": list(a.atlas),
                "goal": a.goal,
                "detector": a.detector,
                "successes": k,
                "trials": len(recs),
                "rate": _r(est.rate),
                "ci_low": _r(est.ci_low),
                "ci_high": _r(est.ci_high),
                "variants": variants,
                "transcripts": [
                    {
                        "trial": r.trial_id,
                        "outcome": r.outcome.value,
                        "messages": [
                            {"role": "user", "content": r.prompt},
                            {"role": "assistant", "content": r.reply.text},
                        ],
                        "tool_calls": list(r.reply.tool_calls),
                    }
                    for r in shown
                ],
            }
        )
    return out


_LABEL = {
    Verdict.VULNERABLE: "vulnerable",
    Verdict.NOT_VULNERABLE: "not vulnerable",
    Verdict.INCONCLUSIVE: "not adequately tested",
}


def residual_risk(cats: list[dict[str, Any]], rule: str) -> str:
    """The residual-risk paragraph, in plain words, from the category rows."""
    vuln = [c for c in cats if c["verdict"] == "vulnerable"]
    safe = [c for c in cats if c["verdict"] == "not-vulnerable"]
    open_ = [c for c in cats if c["verdict"] == "inconclusive"]
    parts = []
    if vuln:
        parts.append(
            "Confirmed weaknesses: "
            + "; ".join(
                f"{c['title']} (rate {c['rate']:.1%}, interval {c['ci_low']:.1%}-"
                f"{c['ci_high']:.1%})"
                for c in vuln
            )
            + "."
        )
    if safe:
        parts.append(
            "Bounded below their thresholds for the attack families tried: "
            + "; ".join(
                f"{c['title']} (upper bound {c['ci_high']:.1%}; an untried family would "
                f"succeed with probability up to {1 - c['coverage_confidence']:.0%})"
                for c in safe
            )
            + ". These bounds hold for the attacks sent, not for every possible attack."
        )
    if open_:
        parts.append(
            "Not adequately tested, so no assurance is given: "
            + "; ".join(f"{c['title']} ({c['why_not_adequate'] or c['note']})" for c in open_)
            + "."
        )
    parts.append(f"Coverage rule: {rule}.")
    return " ".join(parts)


def _category(cat: CategoryResult, keep: int) -> dict[str, Any]:
    est = cat.estimate
    seq = cat.sequential_estimate
    det = cat.detector_id
    return {
        "id": cat.spec.id,
        "title": cat.spec.title,
        "owasp": cat.spec.owasp,
        "atlas": list(cat.spec.atlas),
        "threshold": cat.spec.threshold,
        "severity": cat.spec.severity,
        "successes": cat.successes,
        "trials": cat.trials,
        "errors": cat.errors,
        "rate": _r(est.rate) if est else 0.0,
        "ci_low": _r(est.ci_low) if est else 0.0,
        "ci_high": _r(est.ci_high) if est else 1.0,
        "observed_rate": _r(est.observed_rate) if est else 0.0,
        "verdict": cat.verdict.value,
        "verdict_label": _LABEL[cat.verdict],
        "coverage": cat.judgement.to_json() if cat.judgement else None,
        "coverage_confidence": _r(cat.judgement.coverage_confidence) if cat.judgement else 0.0,
        "why_not_adequate": cat.judgement.reason if cat.judgement else "not run",
        "note": (est.note if est else "") or (seq.note if seq else ""),
        "sequential_ci": [_r(seq.ci_low), _r(seq.ci_high)] if seq else [0.0, 1.0],
        "looks": cat.looks,
        "max_trials": cat.max_trials,
        # only an early stop saves requests; a spent budget leaves them untested instead
        "requests_saved": cat.max_trials - cat.next_index if cat.stopped_early else 0,
        "stopped_early": cat.stopped_early,
        "detector": det or "+".join(sorted({v.attack.detector for v in cat.variants})),
        "corrected_for_detector_error": bool(est and est.corrected),
        "estimator": "unbiased-sampling",
        "skipped_attacks": dict(cat.skipped_attacks),
        "attacks": _attacks(cat, keep),
    }


def report_findings(report: Mapping[str, Any]) -> list[Finding]:
    target = report["target"]
    subject = Subject(path=str(target["identifier"]), digest=target["model_digest"])
    out = []
    for c in report["categories"]:
        if c["verdict"] == Verdict.VULNERABLE.value:
            rule = RULE_FOR_CATEGORY.get(c["id"]) or CUSTOM_CATEGORY
            sev = Severity(c["severity"])
        elif c["verdict"] == Verdict.INCONCLUSIVE.value and c["trials"] + c["errors"] > 0:
            rule, sev = UNBOUNDED, Severity.INFO
        else:
            continue
        detail = (
            f"{c['title']}: {c['successes']} of {c['trials']} attacks succeeded; rate "
            f"{c['rate']:.3f}, {int(report['run']['confidence'] * 100)}% interval "
            f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}] against threshold {c['threshold']}."
        )
        if c["note"]:
            detail += f" {c['note']}."
        if c["verdict"] == "inconclusive" and c["why_not_adequate"]:
            detail += f" Not adequately tested: {c['why_not_adequate']}."
        cov = c.get("coverage") or {}
        if c["verdict"] == "vulnerable" and cov.get("worst_family"):
            detail += f" Most successful attack family: {cov['worst_family']}."
        rem = next(
            (cat["remediation"] for cat in report["_remediation"] if cat["id"] == c["id"]), ""
        )
        out.append(
            Finding(
                id=rule.id,
                stage="evaluation",
                severity=sev,
                title=rule.title
                if rule is not UNBOUNDED
                else f"{c['title']}: could not be bounded",
                detail=detail,
                subject=subject,
                remediation=rem,
                mappings=Mappings(
                    atlas=tuple(c["atlas"]),
                    owasp_llm=(c["owasp"],),
                    saif=rule.mappings.saif,
                    nist_ai_rmf=rule.mappings.nist_ai_rmf,
                ),
                evidence={
                    "category": c["id"],
                    "successes": c["successes"],
                    "trials": c["trials"],
                    "ci": [c["ci_low"], c["ci_high"]],
                    "verdict": c["verdict"],
                },
            )
        )
    recur = report.get("recurring_hidden_text") or []
    if recur:
        rule = RULE_FOR_CATEGORY.get("system-prompt-leakage") or CUSTOM_CATEGORY
        out.append(
            Finding(
                id=rule.id,
                stage="evaluation",
                severity=Severity.MEDIUM,
                title=f"{rule.title} (hidden text recurs across independent attacks)",
                detail=(
                    f"{len(recur)} piece(s) of text the prompts never contained recur in the "
                    f"replies to {len(recur[0]['attacks'])}+ distinct attacks, e.g. "
                    f"{str(recur[0]['text'])[:80]!r}: likely held by the application (a secret "
                    "or its instructions). Judged without knowing the secret; check by hand."
                ),
                subject=subject,
                remediation="Keep no secrets in prompts or context; filter replies repeating them.",
                mappings=Mappings(
                    atlas=("AML.T0056", "AML.T0057"),
                    owasp_llm=("LLM07", "LLM02"),
                    saif=rule.mappings.saif,
                    nist_ai_rmf=rule.mappings.nist_ai_rmf,
                ),
                evidence={"candidates": recur},
            )
        )
    for e in report.get("exploration", ()):
        if not e["found_in"]:
            continue
        cat = next((c for c in report["categories"] if c["id"] == e["category"]), None)
        rule = RULE_FOR_CATEGORY.get(e["category"]) or CUSTOM_CATEGORY
        first = next(r for r in e["runs"] if r.get("found"))
        out.append(
            Finding(
                id=rule.id,
                stage="evaluation",
                severity=Severity(cat["severity"]) if cat else Severity.HIGH,
                title=f"{rule.title} ("
                + ("mutation search" if e.get("mode") == "mutation" else "multi-turn")
                + f", {e['technique']})",
                detail=(
                    f"Mutation search found {e['found_in']} successful prompt(s) in "
                    f"{e.get('requests')} requests; first at request {first['turn']} "
                    f"({first.get('individual')}). Confirmed by the attack's detector; not part "
                    "of the sampled rate."
                    if e.get("mode") == "mutation"
                    else f"Multi-turn conversation '{e['id']}' succeeded in {e['found_in']} of "
                    f"{len(e['runs'])} runs; first success at turn {first['turn']}. Confirmed "
                    "by the category's detector; not part of the sampled rate."
                ),
                subject=subject,
                remediation=next(
                    (x["remediation"] for x in report["_remediation"] if x["id"] == e["category"]),
                    "",
                ),
                mappings=Mappings(
                    atlas=tuple(e["atlas"]),
                    owasp_llm=(cat["owasp"],) if cat else (),
                    saif=rule.mappings.saif,
                    nist_ai_rmf=rule.mappings.nist_ai_rmf,
                ),
                evidence={
                    "escalation": e["id"],
                    "category": e["category"],
                    "found_in": e["found_in"],
                    "runs": len(e["runs"]),
                    "turn": first["turn"],
                },
            )
        )
    return out


def build_report(
    result: RunResult,
    records: Mapping[str, TrialRecord],
    *,
    model_digest: str,
    system_prompt_digest: str | None,
    tools_digest: str | None = None,
    rag_digest: str | None = None,
) -> dict[str, Any]:
    """The JSON report of a finished (or budget-stopped) run."""
    keep = result.options.transcripts_per_attack
    cats = [_category(c, keep) for c in result.categories]
    coverage = coverage_matrix(result.categories, stopped=result.budget_exhausted)
    used = sum(c.trials + c.errors for c in result.categories)
    fixed = sum(c.max_trials for c in result.categories if c.variants)
    undecided = any(c["verdict"] == "inconclusive" for c in cats)
    report: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "run": {
            "id": result.run_id,
            "status": "partial" if result.budget_exhausted else "complete",
            "seed": result.options.seed,
            "samples": result.options.samples,
            "concurrency": result.options.concurrency,
            "confidence": result.options.confidence,
            "sequential": result.options.sequential,
            "requests": result.requests,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "cost": round(
                result.prompt_tokens / 1000 * result.options.price_prompt_per_1k
                + result.completion_tokens / 1000 * result.options.price_completion_per_1k,
                6,
            ),
            "resumed_trials": result.resumed_trials,
            "seconds": round(result.seconds, 3),
            "budget_exhausted": result.budget_exhausted,
        },
        "target": {
            "identifier": result.target,
            "model_digest": model_digest,
            "system_prompt_digest": system_prompt_digest,
            "tools_digest": tools_digest,
            "rag_digest": rag_digest,
        },
        "suite": {"name": result.suite.name, "digest": result.suite.digest},
        "transcripts_digest": transcripts_digest(records),
        "summary": {
            "vulnerable": [c["id"] for c in cats if c["verdict"] == "vulnerable"],
            "not_vulnerable": [c["id"] for c in cats if c["verdict"] == "not-vulnerable"],
            "inconclusive": [c["id"] for c in cats if c["verdict"] == "inconclusive"],
            "residual_risk": "undetermined for some categories" if undecided else "bounded",
        },
        "coverage_rule": result.options.coverage.describe(),
        "recurring_hidden_text": recurring_hidden_text(records.values()),
        "residual_risk": residual_risk(cats, result.options.coverage.describe()),
        "categories_not_tested": [
            {"id": c["id"], "title": c["title"], "why": c["why_not_adequate"] or c["note"]}
            for c in cats
            if c["verdict"] == "inconclusive"
        ],
        "categories": cats,
        "exploration": [
            {
                "id": e.spec.id,
                "category": e.spec.category,
                "technique": e.spec.technique,
                "mode": e.spec.mode,
                "atlas": list(e.spec.atlas),
                "goal": e.spec.goal,
                "counts_toward_rates": False,
                "skipped": e.skipped,
                "found_in": sum(bool(r.get("found")) for r in e.runs),
                "runs": e.runs,
            }
            for e in result.escalations
        ]
        + list(result.mutations),
        "coverage": [c.to_json() for c in coverage],
        "not_adequately_tested": [
            f"{c.owasp} x {c.atlas} ({c.what}): {c.state.value} - {c.reason}"
            for c in coverage
            if c.state is not CoverageState.BOUNDED
        ],
        "sequential": {
            "requests_used": used,
            "fixed_design_requests": fixed,
            "saved": sum(c.max_trials - c.next_index for c in result.categories if c.stopped_early),
        },
        "calibration": [card.to_json() for card in calibration_cards().values()],
        "_remediation": [
            {"id": c.id, "remediation": c.remediation} for c in result.suite.categories
        ],
    }
    report["findings"] = [f.to_json() for f in report_findings(report)]
    del report["_remediation"]
    return report
