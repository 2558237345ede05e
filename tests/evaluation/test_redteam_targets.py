"""Targets: retries honour Retry-After, errors are never counted as safe, budgets hold."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from aisec.core.errors import InputError
from aisec.evaluation import (
    DEMO_MODEL,
    Budget,
    CallableTarget,
    DemoState,
    HttpJsonTarget,
    Message,
    OpenAIChatTarget,
    Outcome,
    Probe,
    RetryPolicy,
    RunOptions,
    RunState,
    TargetContext,
    load_default_suite,
    run_redteam,
)
from aisec.evaluation._targets import BudgetExhaustedError, _retry_after, json_path


def _probe(trial: str = "t#0") -> Probe:
    return Probe(trial, (Message("user", "What are your opening hours?"),), seed=1)


def test_retry_after_is_honoured(demo: tuple[str, DemoState]) -> None:
    url, state = demo
    state.throttle["slow#0"] = 1
    state.retry_after = "1"
    target = OpenAIChatTarget(base_url=url, model=DEMO_MODEL, policy=RetryPolicy(backoff=0.01))

    async def go() -> tuple[float, object]:
        start = time.monotonic()
        reply = await target.send(_probe("slow#0"), Budget())
        await target.aclose()
        return time.monotonic() - start, reply

    elapsed, reply = asyncio.run(go())
    assert reply.ok and reply.attempts == 2  # type: ignore[attr-defined]
    assert target.sleeps == [1.0]
    assert elapsed >= 1.0
    assert state.trials["slow#0"] == 2


def test_retry_after_http_date_and_garbage() -> None:
    assert _retry_after("garbage") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("9999") == 60.0


def test_server_errors_are_retried_then_reported_as_errors(demo: tuple[str, DemoState]) -> None:
    url, state = demo
    state.broken.add("dead#0")
    target = OpenAIChatTarget(
        base_url=url, model=DEMO_MODEL, policy=RetryPolicy(retries=2, backoff=0.01)
    )
    budget = Budget()
    reply = asyncio.run(_send_close(target, _probe("dead#0"), budget))
    assert not reply.ok and "HTTP 500" in (reply.error or "")
    assert state.trials["dead#0"] == 3 and budget.used == 3


async def _send_close(target: OpenAIChatTarget, probe: Probe, budget: Budget) -> object:
    try:
        return await target.send(probe, budget)
    finally:
        await target.aclose()


def test_budget_stops_requests() -> None:
    budget = Budget(1)
    target = CallableTarget(lambda m, t: "ok")
    assert asyncio.run(target.send(_probe(), budget)).ok
    with pytest.raises(BudgetExhaustedError):
        asyncio.run(target.send(_probe(), budget))


def test_errored_requests_are_never_counted_as_safe(
    demo: tuple[str, DemoState], tmp_path: Path
) -> None:
    url, state = demo
    suite = load_default_suite()
    for v in suite.variants("jailbreak"):
        state.broken.update(f"{v.id}#{s}" for s in range(5))
    target = OpenAIChatTarget(
        base_url=url, model=DEMO_MODEL, policy=RetryPolicy(retries=1, backoff=0.001)
    )
    run_state = RunState.create(tmp_path, "err", {})
    result = asyncio.run(
        run_redteam(target, suite, run_state, options=RunOptions(samples=5, escalation_runs=0))
    )
    jb = next(c for c in result.categories if c.spec.id == "jailbreak")
    assert jb.errors == 25 and jb.trials == 0
    assert jb.estimate is not None and (jb.estimate.ci_low, jb.estimate.ci_high) == (0.0, 1.0)
    assert jb.verdict.value == "inconclusive"
    assert all(r.outcome is not Outcome.ERROR for r in jb.records)


def test_http_json_target(demo: tuple[str, DemoState]) -> None:
    url, _ = demo
    target = HttpJsonTarget(
        url=url + "/chat/completions",
        template={"model": DEMO_MODEL, "messages": [{"role": "user", "content": "{{prompt}}"}]},
        reply_path="$.choices.0.message.content",
    )
    reply = asyncio.run(_send_close(target, _probe("h#0"), Budget()))  # type: ignore[arg-type]
    assert reply.ok and "branches" in reply.text  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="placeholder"):
        HttpJsonTarget(url=url, template={"q": "x"}, reply_path="a")
    assert json_path({"a": [{"b": 3}]}, "a.0.b") == 3


def test_callable_target_failures_become_errors() -> None:
    def boom(messages: object, tools: object) -> str:
        raise RuntimeError("model crashed")

    reply = asyncio.run(CallableTarget(boom).send(_probe(), Budget()))
    assert not reply.ok and "model crashed" in (reply.error or "")


def test_unknown_canary_makes_category_untestable(tmp_path: Path) -> None:
    target = CallableTarget(lambda m, t: "Happy to help with your account.")
    result = asyncio.run(
        run_redteam(
            target,
            load_default_suite(),
            RunState.create(tmp_path, "u", {}),
            options=RunOptions(samples=2, escalation_runs=0),
            context=TargetContext(),
        )
    )
    sid = next(c for c in result.categories if c.spec.id == "sensitive-information")
    assert not sid.variants and "canary" in next(iter(sid.skipped_attacks.values()))


def test_request_budget_stops_the_run_and_says_so(
    demo: tuple[str, DemoState], tmp_path: Path
) -> None:
    from aisec.evaluation import DEMO_CANARY, DEMO_SYSTEM_PROMPT, Progress, run_campaign

    url, state = demo
    seen: list[Progress] = []
    report = run_campaign(
        OpenAIChatTarget(base_url=url, model=DEMO_MODEL),
        load_default_suite(),
        options=RunOptions(budget_requests=100, concurrency=8),
        context=TargetContext(DEMO_SYSTEM_PROMPT, (DEMO_CANARY,)),
        run_id="budget",
        states=tmp_path,
        progress=seen.append,
    )
    assert state.requests == 100 == report["run"]["requests"]
    assert report["run"]["status"] == "partial"
    assert "request budget of 100 spent" in report["run"]["budget_exhausted"]
    assert any("budget" in x for x in report["not_adequately_tested"])
    assert report["sequential"]["saved"] == 0  # a spent budget saves nothing, it leaves gaps
    assert report["sequential"]["requests_used"] == 100
    assert seen and seen[-1].requests == 100 and seen[-1].planned > 100
