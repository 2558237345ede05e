"""Config validation, the CLI's one-line errors, the catalog contract and the public API."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.inference.conftest import KEYS, config_dict, write_config

from aisec.cli import main
from aisec.core.frameworks import load_catalog
from aisec.inference import DETECTORS, hash_api_key, load_config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("aisec: error: ") and "Traceback" not in err
    return lines[0]


def _replay(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any) -> tuple[int, str]:
    cfg = write_config(tmp_path / "guard.yaml", data) if isinstance(data, dict) else data
    traffic = tmp_path / "t.jsonl"
    traffic.write_text("")
    code, _, err = run(capsys, "guard", "replay", str(traffic), "--config", str(cfg))
    return code, err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"limits": {"requests": "lots"}}, "limits.requests: rate 'lots'"),
        ({"accounts": []}, "at least one account"),
        ({"upstream": "ftp://x"}, "upstream: 'ftp://x' is not an http(s) URL"),
        ({"redis": "http://x"}, "redis: 'http://x' is not a redis:// URL"),
        ({"routes": [{"path": "/c", "kind": "classifier"}]}, "needs 'scores'"),
        (
            {
                "routes": [
                    {"path": "/c", "kind": "openai-chat", "hardening": {"deny-patterns": ["("]}}
                ]
            },
            "is not a regular expression",
        ),
        ({"accounts": [{"name": "a", "api-key": "short"}]}, "accounts.0.api-key"),
        ({"detectors": {"paraphrase-density": 2}}, "detectors.paraphrase-density"),
        ({"header-timeout": 0}, "header-timeout"),
        ({"max-connections-per-client": 0}, "max-connections-per-client"),
        (
            {
                "routes": [
                    {"path": "/v", "kind": "openai-chat", "hardening": {"unknown-fields": "maybe"}}
                ]
            },
            "routes.0.hardening.unknown-fields",
        ),
    ],
)
def test_bad_config_is_one_line_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    guard_cli: None,
    change: dict[str, Any],
    expected: str,
) -> None:
    code, err = _replay(tmp_path, capsys, config_dict("http://127.0.0.1:9") | change)
    assert code == 2
    assert expected in one_line(err)


def test_yaml_payload_is_not_executed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], guard_cli: None
) -> None:
    marker = tmp_path / "pwned"
    cfg = tmp_path / "guard.yaml"
    cfg.write_text(f'upstream: !!python/object/apply:os.system ["touch {marker}"]\n')
    code, err = _replay(tmp_path, capsys, cfg)
    assert code == 2 and "not valid YAML" in one_line(err)
    assert not marker.exists()


def test_accounts_csv_and_hashed_keys(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("name,api_key\ncarol,sk-carol-0123456789abcdef\n")
    data = config_dict("http://127.0.0.1:9") | {"accounts-file": "accounts.csv"}
    data["accounts"] = [{"name": "dave", "key-sha256": hash_api_key("sk-dave-0123456789abcdef")}]
    cfg, digest = load_config(write_config(tmp_path / "guard.yaml", data))
    assert [a.name for a in cfg.accounts] == ["dave", "carol"]
    assert digest.startswith("sha256:")
    assert "sk-carol" not in repr(cfg)  # keys are hidden from reprs


def test_hash_key_command(
    capsys: pytest.CaptureFixture[str], guard_cli: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(KEYS["alice"] + "\n"))
    code, out, _ = run(capsys, "guard", "hash-key")
    assert code == 0 and out.strip() == hash_api_key(KEYS["alice"])
    assert re.fullmatch(r"[0-9a-f]{64}", out.strip())


def test_replay_cli_prints_one_alert_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], guard_cli: None
) -> None:
    data = config_dict("http://127.0.0.1:9", detectors={"min-queries": 20})
    cfg = write_config(tmp_path / "guard.yaml", data)
    lines = [
        {
            "t": f"2026-01-01T00:00:{i:02d}+00:00",
            "account": "mallory",
            "route": "/v1/chat/completions",
            "body": {
                "messages": [{"role": "user", "content": f"Say one word {i}."}],
                "logit_bias": {str(i): 100},
                "logprobs": True,
            },
        }
        for i in range(30)
    ]
    traffic = tmp_path / "t.jsonl"
    traffic.write_text("\n".join(json.dumps(x) for x in lines))
    code, out, _ = run(capsys, "guard", "replay", str(traffic), "--config", str(cfg), "-f", "json")
    assert code == 0
    alerts = [json.loads(x) for x in out.splitlines()]
    assert {a["detector"] for a in alerts} >= {"logit-probing"}
    assert all({"account", "i", "t", "detector", "score"} <= a.keys() for a in alerts)
    first = next(a for a in alerts if a["detector"] == "logit-probing")
    assert first["i"] == 19  # the 20th distinct logit_bias variation


def test_every_detector_maps_to_catalog_ids() -> None:
    catalog = load_catalog()
    ids = set()
    for spec in DETECTORS:
        rule = spec.rule
        assert re.fullmatch(r"AISEC-INF-\d{3}", rule.id)
        assert rule.title and rule.remediation and rule.mappings.atlas and rule.mappings.owasp_llm
        catalog.check_refs(atlas=rule.mappings.atlas, owasp=rule.mappings.owasp_llm)
        ids.add(rule.id)
    assert len(ids) == len(DETECTORS)
    assert catalog.resolve("AML.T0024.002").name == "Extract AI Model"


def test_inference_all_is_exact() -> None:
    module = importlib.import_module("aisec.inference")
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__)
    for member in exported:
        assert hasattr(module, member)
    for member, obj in vars(module).items():
        if member.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "").startswith("aisec.inference"):
            assert member in exported, member


def test_the_shipped_example_config_loads() -> None:
    """examples/guard.yaml, which the README serves, is a valid config with every setting."""
    from aisec.inference import load_config

    example = Path(__file__).parents[2] / "examples" / "guard.yaml"
    cfg, _ = load_config(example)
    chat = cfg.routes[0].hardening
    assert chat.unknown_fields == "strip" and chat.allow_fields == ("guided_json",)
    assert cfg.header_timeout == 10 and cfg.max_connections_per_client == 256
