"""The recorded dev day, replayed offline: every attacker class detected, the fast classes
within 100 of their own queries, at most 1 % of the benign accounts flagged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.inference._eval import assert_goals, eval_dir, replay_and_score, write_guard

ROUTES = [
    {"path": "/v1/chat/completions", "kind": "openai-chat"},
    {"path": "/v1/classify", "kind": "classifier", "scores": "scores"},
]


def test_dev_day_meets_the_goals(tmp_path: Path) -> None:
    day = eval_dir() / "extraction-dev"
    truth = json.loads((day / "TRUTH.json").read_text(encoding="utf-8"))
    # the classes that must be caught fast are the ones the truth file gives a query budget
    fast = tuple(c for c, info in truth["attack_classes"].items() if info.get("goal_max_queries"))
    cfg = write_guard(tmp_path, day / "traffic.jsonl", ROUTES)
    report = replay_and_score(day / "traffic.jsonl", day / "TRUTH.json", cfg)
    assert_goals(report, fast, within=100)
    assert set(report["classes"]) == set(truth["attack_classes"])
