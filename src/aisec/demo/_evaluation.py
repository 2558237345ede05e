"""Stage 3 of the demo: red-team the built-in vulnerable chatbot, with intervals."""

from __future__ import annotations

from pathlib import Path

from aisec.core.digest import digest_path
from aisec.demo._context import DemoContext
from aisec.evaluation import (
    DEMO_CANARY,
    DEMO_MODEL,
    DEMO_SYSTEM_PROMPT,
    DemoServer,
    DemoState,
    OpenAIChatTarget,
    RunOptions,
    TargetContext,
    load_default_suite,
    redteam_statement,
    run_campaign,
)

__all__ = ["run_evaluation"]


def run_evaluation(ctx: DemoContext, model_dir: Path) -> Path:
    """Attack the demo chatbot serving ``model_dir``; returns its system prompt file."""
    with ctx.stage("evaluation", "red-team the chatbot: rates with 95% intervals") as s:
        prompt = ctx.path("evaluation", "system-prompt.txt")
        prompt.write_text(DEMO_SYSTEM_PROMPT)
        with DemoServer(DemoState(seed=0)) as url:
            report = run_campaign(
                OpenAIChatTarget(base_url=url, model=DEMO_MODEL, seed=0),
                load_default_suite(),
                options=RunOptions(samples=60, concurrency=16, seed=0),
                context=TargetContext(system_prompt=DEMO_SYSTEM_PROMPT, canaries=(DEMO_CANARY,)),
                states=ctx.home / "redteam" / "runs",
                model_digest=digest_path(model_dir).digest,
            )
        entry = ctx.store.record(redteam_statement(report), ctx.key)
        verdicts: dict[str, list[str]] = {}
        for c in report["categories"]:
            verdicts.setdefault(c["verdict"], []).append(c["id"])
        for c in report["categories"]:
            if c["verdict"] == "vulnerable":
                s.lines.append(
                    f"vulnerable: {c['id']} {c['successes']}/{c['trials']} "
                    f"= {c['rate']:.1%} [{c['ci_low']:.1%}, {c['ci_high']:.1%}]"
                )
        robust = verdicts.get("not-vulnerable", [])
        s.lines.append(f"robust ({len(robust)}): {', '.join(robust)}")
        s.lines.append(
            f"{report['run']['requests']} requests; sequential testing saved "
            f"{report['sequential']['saved']} trials; attestation #{entry.index}"
        )
        s.ok = bool(verdicts.get("vulnerable"))
        s.facts.update(
            vulnerable=verdicts.get("vulnerable", []),
            not_vulnerable=robust,
            inconclusive=verdicts.get("inconclusive", []),
            requests=report["run"]["requests"],
            entry=entry.index,
        )
        return prompt
