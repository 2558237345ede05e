"""Shared helpers of the tests that replay evaluation days (the dev day and the generated one)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from aisec.inference import GuardConfig, load_config
from aisec.inference.replay import replay_detail
from aisec.inference.tune import load_truth, score

REPO = Path(__file__).resolve().parents[2]


def eval_dir() -> Path:
    """``$AISEC_EVAL_DIR``, else ``<repo>/../shared/eval``, else ``/work/shared/eval``."""
    for cand in (os.environ.get("AISEC_EVAL_DIR"), REPO.parent / "shared" / "eval",
                 Path("/work/shared/eval")):  # fmt: skip
        if cand and Path(cand).is_dir():
            return Path(cand)
    pytest.skip("evaluation data not found: set AISEC_EVAL_DIR (see the eval README)")


def write_guard(tmp: Path, traffic: Path, routes: list[dict[str, Any]]) -> GuardConfig:
    """A config naming every key of ``traffic`` as an account (``acct-NNN``)."""
    keys: dict[str, None] = {}
    with traffic.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                keys.setdefault(str(json.loads(line)["api_key"]), None)
    with (tmp / "accounts.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "api_key"])
        for n, k in enumerate(keys):
            w.writerow([f"acct-{n:03d}", k])
    import yaml

    cfg = {"upstream": "http://127.0.0.1:9", "routes": routes, "accounts-file": "accounts.csv"}
    (tmp / "guard.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(tmp / "guard.yaml")[0]


def replay_and_score(traffic: Path, truth: Path, cfg: GuardConfig) -> dict[str, Any]:
    from aisec.inference.accounts import Account, AccountTable

    result = asyncio.run(replay_detail(traffic, cfg))
    table = AccountTable(Account(a.name, a.key_hash()) for a in cfg.accounts)
    return score(result.order, result.alerts, load_truth(truth, table))


def assert_goals(report: dict[str, Any], fast: tuple[str, ...], within: int = 100) -> None:
    """Every class detected; the ``fast`` classes within ``within`` of their own queries;
    at most 1 % of the benign accounts flagged."""
    missed = [c for c, e in report["classes"].items() if not e["detected"]]
    assert not missed, f"classes not detected: {missed}"
    for c in fast:
        q = report["classes"][c]["first_alert_query"]
        assert q <= within, f"class {c} first alerted at its query {q}"
    b = report["benign"]
    assert b["rate"] <= 0.01, f"benign accounts flagged: {b['flagged']}"
