"""Stage 5 of the demo: the gateway in front of a model API catches the extractor."""

from __future__ import annotations

import asyncio

from aisec.demo._context import DemoContext
from aisec.inference import run_simulation

__all__ = ["run_inference"]


def run_inference(ctx: DemoContext) -> None:
    with ctx.stage("inference", "gateway traffic: spot the model-extraction attacker") as s:
        result = asyncio.run(
            run_simulation(
                seed=7,
                normal=10,
                attack=120,
                cross=3,
                signing_key=ctx.key,
                store_url=ctx.store_url,
            )
        )
        attackers = [a for a in result.accounts if a.attacker]
        benign = [a for a in result.accounts if not a.attacker]
        for a in attackers:
            when = f"after {a.queries_to_detect} queries" if a.queries_to_detect else "not caught"
            s.lines.append(
                f"{a.account:<16} {a.kind}: flagged by {', '.join(a.detectors) or '-'} {when}"
            )
        flagged_benign = sum(a.flagged for a in benign)
        s.lines.append(
            f"{result.requests} requests through the gateway; precision {result.precision:.2f}, "
            f"recall {result.recall:.2f}; {flagged_benign} of {len(benign)} benign accounts "
            "flagged; alerts signed into the evidence"
        )
        s.ok = result.recall == 1.0 and flagged_benign == 0
        s.facts.update(
            requests=result.requests,
            precision=result.precision,
            recall=result.recall,
            alerts=len(result.alerts),
        )
