"""Output hardening as pure functions, degrade actions, and properties of redaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tests.inference.conftest import auth, chat, running

from aisec.inference import RouteConfig, harden_response, luhn_ok, redact


def _luhn_reference(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_matches_reference(number: str) -> None:
    assert luhn_ok(number) == _luhn_reference(number)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15), st.text(max_size=40))
def test_redaction_leaves_no_valid_card_number(body: str, noise: str) -> None:
    check = next(d for d in "0123456789" if _luhn_reference(body + d))
    card = body + check
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    text, kinds = redact(f"{noise} card {spaced} end")
    assert spaced not in text and card not in text.replace(" ", "")
    assert "card-number" in kinds


def test_classifier_hardening_list_of_dicts_and_degrade() -> None:
    route = RouteConfig.model_validate(
        {"path": "/c", "kind": "classifier", "scores": "predictions.0",
         "hardening": {"round-decimals": 3}}
    )  # fmt: skip
    data = {"predictions": [[{"label": "a", "score": 0.123456}, {"label": "b", "score": 0.876544}]]}
    harden_response(data, route)
    assert data["predictions"][0] == [
        {"label": "a", "score": 0.123},
        {"label": "b", "score": 0.877},
    ]
    harden_response(data, route, degrade=True, degrade_decimals=1)
    assert data["predictions"][0] == [{"label": "b", "score": 0.9}]


def test_degrade_action_coarsens_outputs_for_the_flagged_account(tmp_path: Path) -> None:
    det = {"min-queries": 20, "logit-probes": 5,
           "actions": {"logit-probing": ["log", "degrade"], "*": ["log"]}}  # fmt: skip
    routes = [
        {"path": "/v1/chat/completions", "kind": "openai-chat"},
        {"path": "/classify", "kind": "classifier", "scores": "scores", "labels": "labels"},
    ]

    async def go() -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
        async with running(tmp_path, detectors=det, routes=routes) as (_, gw, http):
            for i in range(6):
                async with http.post(
                    gw.url + "/v1/chat/completions",
                    json=chat(f"word {i}", logit_bias={str(i): 100}, logprobs=True),
                    headers=auth("mallory"),
                ):
                    pass
            await gw.gateway.pipeline.drain()
            out = []
            for name in ("mallory", "alice"):
                async with http.post(
                    gw.url + "/classify", json={"text": "good bad nice"}, headers=auth(name)
                ) as r:
                    assert r.status == 200
                    out.append(await r.json())
            async with http.post(
                gw.url + "/v1/chat/completions", json=chat("hi there", logprobs=True),
                headers=auth("mallory"),
            ) as r:  # fmt: skip
                assert r.headers["x-aisec-action"] == "degrade"
                out.append(await r.json())
            return out[0], out[1], out[2]

    degraded, normal, chat_reply = asyncio.run(go())
    assert degraded["labels"] == ["positive"] and len(degraded["scores"]) == 1  # type: ignore[arg-type]
    assert degraded["scores"] == [round(degraded["scores"][0], 1)]  # type: ignore[index]
    assert len(normal["scores"]) == 2  # type: ignore[arg-type]
    assert chat_reply["choices"][0]["logprobs"] is None  # type: ignore[index]


def _classifier(**extra: object) -> RouteConfig:
    return RouteConfig.model_validate(
        {"path": "/c", "kind": "classifier", "scores": "scores", "labels": "labels",
         "hardening": {"round-decimals": 2, "top-k": 1}, **extra}
    )  # fmt: skip


def test_every_number_of_a_classifier_reply_is_rounded_by_default() -> None:
    data = {
        "labels": ["neg", "pos"], "scores": [0.123456, 0.876544],
        "probabilities": {"neg": 0.123456, "pos": 0.876544}, "logits": [-1.961234, 1.961234],
        "batch": [{"confidence": 0.8765432, "raw": [0.11111, 0.88889]}], "id": 7,
    }  # fmt: skip
    harden_response(data, _classifier())
    assert data["scores"] == [0.88] and data["labels"] == ["pos"]
    assert data["probabilities"] == {"neg": 0.12, "pos": 0.88}
    assert data["logits"] == [-1.96, 1.96]  # rounded; top-k only on the paths a route names
    assert data["batch"] == [{"confidence": 0.88, "raw": [0.11, 0.89]}]
    assert data["id"] == 7


def test_named_score_fields_with_wildcards_get_rounding_and_top_k() -> None:
    route = _classifier(**{"score-fields": ["results.*.logits", "results.*.p"]})
    data = {
        "labels": ["a", "b"], "scores": [0.3, 0.7],
        "results": [{"logits": [0.1234, 2.5678, 1.0101], "p": 0.55555, "other": 0.123456}],
    }  # fmt: skip
    harden_response(data, route)
    assert data["results"][0]["logits"] == [0, 2.57, 0]  # top-1 kept, in place
    assert data["results"][0]["p"] == 0.56
    assert data["results"][0]["other"] == 0.123456  # not named, and '**' was replaced


def test_score_field_walk_is_bounded_on_deep_replies() -> None:
    deep: object = 0.123456
    for _ in range(5000):
        deep = [deep]
    data = {"labels": ["a"], "scores": [0.5], "deep": deep}
    harden_response(data, _classifier())  # no RecursionError
    inner = data["deep"]
    while isinstance(inner, list):
        inner = inner[0]
    assert inner == 0.12
