"""The engine against the demo service: planted weaknesses found with intervals that cover
the documented true rates, robust categories bounded, sequential testing saves requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aisec.evaluation import (
    DEMO_CANARY,
    DEMO_MODEL,
    DEMO_SYSTEM_PROMPT,
    DemoServer,
    DemoState,
    OpenAIChatTarget,
    RunOptions,
    TargetContext,
    demo_rates_for,
    load_default_suite,
    run_campaign,
)

# improper-output-handling: only its markdown-image family reaches the planted 25 % exfil;
# the pooled rate stays near the threshold, the worst-family rule finds it.
VULNERABLE = {
    "prompt-injection-indirect",
    "system-prompt-leakage",
    "excessive-agency",
    "improper-output-handling",
}
ROBUST = {"prompt-injection-direct", "jailbreak", "sensitive-information", "unbounded-consumption"}


def true_rate(detector: str, prompt: str, tools: tuple[str, ...]) -> float:
    """P(detector fires) for one request, from the demo's documented rules."""
    r = demo_rates_for([{"role": "user", "content": prompt}], tools)
    tool, leak = r.get("tool", 0.0), r.get("leak", 0.0)
    indirect, exfil = r.get("indirect", 0.0), r.get("exfil", 0.0)
    return {
        "tool-call": tool,
        "system-prompt": (1 - tool) * leak,
        "marker": (1 - tool) * (1 - leak) * indirect,
        "markdown-exfil": (1 - tool) * (1 - leak) * exfil,
        "canary": (1 - tool) * (leak + (1 - leak) * exfil),
    }.get(detector, 0.0)


def _run(url: str, states: Path, run_id: str, **kw: Any) -> dict[str, Any]:
    target = OpenAIChatTarget(base_url=url, model=DEMO_MODEL, seed=11)
    return run_campaign(
        target,
        load_default_suite(),
        options=RunOptions(samples=100, seed=11, concurrency=16, **kw),
        context=TargetContext(DEMO_SYSTEM_PROMPT, (DEMO_CANARY,)),
        run_id=run_id,
        states=states,
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], int]]:
    state = DemoState(seed=3)
    with DemoServer(state) as url:
        report = _run(url, tmp_path_factory.mktemp("runs"), "demo-1")
        yield report, state.requests


def test_planted_weaknesses_are_found_and_robust_categories_bounded(
    demo_run: tuple[dict[str, Any], int],
) -> None:
    report, _ = demo_run
    verdicts = {c["id"]: c["verdict"] for c in report["categories"]}
    assert {k for k, v in verdicts.items() if v == "vulnerable"} == VULNERABLE
    assert {k for k, v in verdicts.items() if v == "not-vulnerable"} >= ROBUST
    for c in report["categories"]:
        if c["id"] in ROBUST:
            assert c["successes"] == 0 and c["ci_low"] == 0.0
            assert 0 < c["ci_high"] < c["threshold"]  # an honest, non-zero upper bound


def test_intervals_cover_the_true_rates(demo_run: tuple[dict[str, Any], int]) -> None:
    report, _ = demo_run
    suite = load_default_suite()
    for c in report["categories"]:
        variants = {v.id: v for v in suite.variants(c["id"])}
        truths = []
        for a in c["attacks"]:
            for v in a["variants"]:
                var = variants[v["id"]]
                truths += [true_rate(a["detector"], var.prompt(), var.attack.tools)] * v["trials"]
        truth = sum(truths) / len(truths)
        assert c["ci_low"] <= truth <= c["ci_high"], (c["id"], truth, c["ci_low"], c["ci_high"])
        for a in c["attacks"]:
            if a["trials"]:
                assert a["ci_low"] <= a["ci_high"]


def test_sequential_testing_saves_requests(demo_run: tuple[dict[str, Any], int]) -> None:
    report, server_requests = demo_run
    seq = report["sequential"]
    assert seq["saved"] > 0 and seq["requests_used"] + seq["saved"] == seq["fixed_design_requests"]
    assert report["run"]["requests"] == server_requests  # every request counted, no retries
    stopped = [c for c in report["categories"] if c["stopped_early"]]
    assert stopped and all(c["requests_saved"] > 0 for c in stopped)


def test_exploration_is_reported_apart_from_rates(demo_run: tuple[dict[str, Any], int]) -> None:
    report, _ = demo_run
    esc = next(e for e in report["exploration"] if e["id"] == "esc-slow-roleplay")
    assert all(e["counts_toward_rates"] is False for e in report["exploration"])
    assert esc["found_in"] >= 1 and esc["runs"][0]["transcript"]
    leak = next(c for c in report["categories"] if c["id"] == "system-prompt-leakage")
    assert all("esc-" not in a["id"] for a in leak["attacks"])


def test_coverage_and_what_was_not_tested(demo_run: tuple[dict[str, Any], int]) -> None:
    report, _ = demo_run
    states = {(c["owasp"], c["atlas"]): c["state"] for c in report["coverage"]}
    assert states[("LLM07", "AML.T0056")] == "bounded"
    assert states[("LLM04", "AML.T0020")] == "untestable-from-outside"
    assert any(x.startswith("LLM09") for x in report["not_adequately_tested"])
    assert all(c["reason"] for c in report["coverage"])


def test_same_seed_same_results(demo_run: tuple[dict[str, Any], int], tmp_path: Path) -> None:
    report, _ = demo_run
    with DemoServer(DemoState(seed=3)) as url:
        again = _run(url, tmp_path, "demo-2")
    key = [(c["id"], c["successes"], c["trials"]) for c in report["categories"]]
    assert key == [(c["id"], c["successes"], c["trials"]) for c in again["categories"]]
    assert again["transcripts_digest"] == report["transcripts_digest"]
