"""Each campaign detector against the benign pattern it must tell apart, and ``guard tune``."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest
from tests.inference.conftest import chat, write_config

from aisec.cli import main
from aisec.inference import DetectorsConfig, QueryEvent
from aisec.inference.campaign import Campaigns, Shape, request_shape
from aisec.inference.config import RouteConfig
from aisec.inference.detect import Detection
from aisec.inference.embed import Embedder, normalise
from aisec.inference.state import MemoryState

CHAT = RouteConfig.model_validate({"path": "/c", "kind": "openai-chat"})
EMB = RouteConfig.model_validate({"path": "/e", "kind": "openai-embeddings"})
_SYL = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pu", "do", "fe", "gi", "ho", "ja")
WORDS = [a + b + c for a in _SYL for b in _SYL for c in _SYL]  # 3,375 made-up words


def _run(events: list[tuple[str, dict[str, Any], RouteConfig]]) -> dict[str, set[str]]:
    det = Detection(DetectorsConfig(), MemoryState(), hash_prompts=True)

    async def go() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for i, (acct, body, route) in enumerate(events):
            ev = QueryEvent(acct, float(i), "", str(i), shape=request_shape(body, route),
                            logit_bias=_bias(body))  # fmt: skip
            for a in await det.observe(ev):
                out.setdefault(a.account, set()).add(a.detector)
        return out

    return asyncio.run(go())


def _bias(body: dict[str, Any]) -> tuple[str, ...] | None:
    from aisec.inference.harden import logit_probe

    return logit_probe(body)


def _sentence(rng: random.Random, n: int = 7) -> str:
    return " ".join(rng.sample(WORDS, n))


def test_embedding_rewords_survive_typos_and_case() -> None:
    e = Embedder()
    texts = ["Can I get a refund for my annual plan?", "can i get a REFUND for my anual plan",
             "What time does the museum open on Sundays?"]  # fmt: skip
    for i, t in enumerate(texts):
        e.learn(f"a{i}", normalise(t))
    v = [e.embed(normalise(t)) for t in texts]
    assert v[0] is not None and v[1] is not None and v[2] is not None
    assert float(v[0] @ v[1]) > 0.6 > float(v[0] @ v[2])


def test_distillation_harvest_versus_evaluation_harness() -> None:
    rng = random.Random(1)  # noqa: S311 -- reproducible test data
    long_lp = {"max_tokens": 800, "logprobs": True, "top_logprobs": 5}
    suite = [_sentence(rng, 60) for _ in range(80)]
    events = [("harvester", chat(_sentence(rng, 60), **long_lp), CHAT) for _ in range(260)]
    events += [("harness", chat(p, **long_lp), CHAT) for p in suite * 4]  # repeats its set
    events += [("benchmark", chat(_sentence(rng, 60), max_tokens=1, logprobs=True,
                                  top_logprobs=4), CHAT) for _ in range(300)]  # fmt: skip
    found = _run(events)
    assert "distillation-harvest" in found.get("harvester", set())
    assert "harness" not in found and "benchmark" not in found


def test_embedding_theft_versus_chunked_indexer() -> None:
    rng = random.Random(2)  # noqa: S311 -- reproducible test data
    events = [("thief", {"input": _sentence(rng, 6)}, EMB) for _ in range(520)]
    doc = [_sentence(rng, 12) for _ in range(2000)]
    # long chunks, each overlapping the one before
    events += [("indexer", {"input": " ".join(doc[d : d + 6])}, EMB) for d in range(0, 2000, 4)]
    found = _run(events)
    assert found.get("thief") == {"embedding-theft"}
    assert "indexer" not in found


def test_logit_bias_sweep_versus_fixed_grader_and_ban_list() -> None:
    events = []
    for i in range(40):
        events.append(("prober", chat("Hi", max_tokens=1, logprobs=True,
                                      logit_bias={str(500 + i): 100}), CHAT))  # fmt: skip
        events.append(
            (
                "grader",
                chat(
                    f"Passage {i}: relevant? Yes or No.",
                    max_tokens=1,
                    logprobs=True,
                    logit_bias={"9": 100, "8": 100},
                ),
                CHAT,
            )
        )
        events.append(("kids", chat(f"why is question {i} fun", logit_bias={"7": -100}), CHAT))
    found = _run(events)
    assert found == {"prober": {"logit-probing"}}


def test_widget_forwarding_end_users_versus_one_key_rewording() -> None:
    rng = random.Random(3)  # noqa: S311 -- reproducible test data
    opens = ["hi", "hello there", "good morning", "hey", "excuse me", "sorry to bother"]
    core = ["how do i reset my password", "password reset link please",
            "i forgot my password how to reset it", "reset password steps"]  # fmt: skip
    events = []
    for i in range(60):
        text = f"{rng.choice(opens)}, {rng.choice(core)} {rng.choice(['', '?', ' thanks'])}"
        events.append(("widget", chat(text, user=f"u{i}"), CHAT))
        events.append(("extractor", chat(f"{text} {rng.choice(WORDS)}"), CHAT))
    found = _run(events)
    assert "paraphrase-concentration" in found.get("extractor", set())
    assert "widget" not in found


def test_campaigns_treat_hostile_text_as_data(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}') {{{{7*7}}}} $(touch {marker})"
    c = Campaigns(DetectorsConfig(), sample=lambda s: s)
    for i in range(30):
        c.observe("a", float(i), Shape("openai-chat", payload + str(i)), None, None)
        c.observe("a", float(i), Shape("classifier", payload + " x" * i), None, None)
    assert not marker.exists()


def test_tune_cli_reports_and_rejects_bad_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], guard_cli: None
) -> None:
    key_a, key_b = "sk-tune-attacker-0123456789", "sk-tune-benign-0123456789ab"
    lines = []
    for i in range(35):
        body = chat("Hi", max_tokens=1, logprobs=True, logit_bias={str(900 + i): 100})
        lines.append({"t": float(i), "api_key": key_a, "route": "/c", "body": body})
        lines.append({"t": float(i), "api_key": key_b, "route": "/c", "body": chat(f"q {i}")})
    traffic = tmp_path / "t.jsonl"
    traffic.write_text("".join(json.dumps(x) + "\n" for x in lines))
    accounts = [{"name": "a", "api-key": key_a}, {"name": "b", "api-key": key_b}]
    routes = [{"path": "/c", "kind": "openai-chat"}]
    cfg = write_config(
        tmp_path / "g.yaml",
        {"upstream": "http://127.0.0.1:9", "routes": routes, "accounts": accounts},
    )
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"accounts": {key_a: {"label": "attacker", "class": "X"},
                                              key_b: {"label": "benign"}}}))  # fmt: skip
    code = main(["guard", "tune", str(traffic), "--config", str(cfg), "--truth", str(truth),
                 "-f", "json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["classes"]["X"] == {
        "accounts": 1,
        "flagged": 1,
        "detected": True,
        "first_alert_query": 20,
        "detector": "logit-probing",
    }
    assert report["benign"]["flagged"] == []
    sweep = report["detectors"]["logit-probing"]["thresholds"]
    assert sweep["x1"]["attackers"] == 1 and sweep["x2"]["attackers"] == 0
    truth.write_text("[1, 2]")
    code = main(["guard", "tune", str(traffic), "--config", str(cfg), "--truth", str(truth)])
    out, err = capsys.readouterr()
    assert code == 2 and "truth" in err and "Traceback" not in err
