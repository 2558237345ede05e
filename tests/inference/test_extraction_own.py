"""The generated second day (another company, other wording and attacker shapes), replayed
offline with the same goals as the dev day. What it does not reach yet is a strict xfail, so
the gap stays visible and the test starts failing the day it is closed without being updated."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import pytest

from aisec.inference.simulate import run_simulation

FAST = ("P", "M", "L")  # classes with a budget of 100 of their own queries


@cache
def _report() -> dict[str, Any]:
    return asyncio.run(run_simulation(seed=11, individuals=120, live=False)).report


def test_fast_classes_within_100_queries() -> None:
    classes = _report()["classes"]
    for c in FAST:
        assert classes[c]["detected"], c
        assert classes[c]["first_alert_query"] <= 100, (c, classes[c])


def test_distillation_and_embedding_theft_detected() -> None:
    classes = _report()["classes"]
    assert classes["H"]["detected"] and classes["T"]["detected"]
    assert classes["T"]["detector"] == "embedding-theft"


def test_no_fixed_logit_bias_user_or_indexer_flagged() -> None:
    kinds = {f["kind"] for f in _report()["benign"]["flagged"]}
    assert not kinds & {"yes_no_grader", "ban_list_app", "two_feature_bias_app",
                        "document_indexer", "semantic_search", "support_widget",
                        "claims_extraction_batch", "localisation_job", "forum_moderation",
                        "headline_copywriter", "classifier_developer", "traveller"}  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason="known gap: slow-and-low S and the six-key K campaign reword their questions with "
    "few shared words, which a lexical n-gram embedding does not join into one topic; an "
    "evaluation suite and a multiple-choice benchmark built from one template are flagged",
)
def test_every_class_and_at_most_one_percent_benign() -> None:
    report = _report()
    assert all(e["detected"] for e in report["classes"].values())
    assert report["benign"]["rate"] <= 0.01
