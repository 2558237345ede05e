"""One call for a whole campaign: state, run, report."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aisec.core.digest import digest_bytes
from aisec.core.paths import aisec_home
from aisec.evaluation._engine import Progress, RunOptions, TargetContext, run_redteam
from aisec.evaluation._report import build_report
from aisec.evaluation._state import RunState
from aisec.evaluation._suite import Suite
from aisec.evaluation._targets import Target

__all__ = ["new_run_id", "run_campaign", "state_dir"]


def state_dir() -> Path:
    """Where run states live: ``<AISEC_HOME or ./.aisec>/redteam/runs``."""
    return aisec_home() / "redteam" / "runs"


def new_run_id() -> str:
    return f"rt-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


def run_campaign(
    target: Target,
    suite: Suite,
    *,
    options: RunOptions | None = None,
    context: TargetContext | None = None,
    run_id: str | None = None,
    resume: bool = False,
    states: str | os.PathLike[str] | None = None,
    model_digest: str | None = None,
    tools_digest: str | None = None,
    rag_digest: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) a campaign and return its JSON report.

    ``model_digest`` defaults to the digest of the target's identifier string; give the
    digest of the model folder (``digest_path(DIR).digest``) so the deploy gate can match it.
    """
    states = None if states is None else Path(states)
    opt = options or RunOptions()
    ctx = context or TargetContext()
    rid = run_id or new_run_id()
    header = {
        "suite_digest": suite.digest,
        "target": target.identifier,
        "seed": opt.seed,
        "samples": opt.samples,
        "look_every": opt.look_every,
        "sequential": opt.sequential,
        "escalation_runs": opt.escalation_runs,
    }
    where = states or state_dir()
    state = (RunState.resume if resume else RunState.create)(where, rid, header)
    if on_start is not None:
        on_start(rid)
    result = asyncio.run(
        run_redteam(target, suite, state, options=opt, context=ctx, progress=progress)
    )
    return build_report(
        result,
        state.done,
        model_digest=model_digest or digest_bytes(target.identifier.encode()),
        system_prompt_digest=digest_bytes(ctx.system_prompt.encode())
        if ctx.system_prompt
        else None,
        tools_digest=tools_digest,
        rag_digest=rag_digest,
    )
