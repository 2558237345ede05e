"""Stage 5 of the demo: the gateway in front of a model API catches the extractor."""

from __future__ import annotations

import asyncio

from aisec.demo._context import DemoContext
from aisec.inference import run_simulation

__all__ = ["run_inference"]


def run_inference(ctx: DemoContext) -> None:
    with ctx.stage("inference", "gateway traffic: spot the model-extraction attackers") as s:
        result = asyncio.run(
            # a lighter day: every 20th request of the benign accounts, the attacker classes
            # that need no volume (the full day: `aisec guard simulate`)
            run_simulation(
                seed=11,
                individuals=20,
                thin=20,
                classes=("P", "M", "L", "K"),
                signing_key=ctx.key,
                store_url=ctx.store_url,
            )
        )
        report = result.report
        for c, e in report["classes"].items():
            when = (
                f"first alert at its query {e['first_alert_query']} ({e['detector']})"
                if e["detected"]
                else "NOT detected"
            )
            s.lines.append(f"class {c} ({e['accounts']} key(s)): {when}")
        b = report["benign"]
        s.lines.append(
            f"{result.requests} requests through the gateway; {result.classes_detected} of "
            f"{len(report['classes'])} attacker classes detected; {len(b['flagged'])} of "
            f"{b['accounts']} benign accounts flagged; alerts signed into the evidence"
        )
        # the stage shows a realistic day as it is: it completes even when a class is missed
        s.ok = result.requests > 0
        s.facts.update(
            requests=result.requests,
            classes_detected=result.classes_detected,
            benign_flagged=len(b["flagged"]),
            alerts=len(result.alerts),
        )
