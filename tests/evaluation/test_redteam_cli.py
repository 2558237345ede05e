"""``aisec redteam run``: formats, exit codes, the signed attestation, no execution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aisec.cli import main
from aisec.core.digest import digest_bytes, digest_path
from aisec.core.evidence import EvidenceStore, generate_keypair
from aisec.evaluation import DEMO_SYSTEM_PROMPT, REDTEAM_PREDICATE

pytestmark = pytest.mark.usefixtures("redteam_cli")
SARIF_SCHEMA = Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json"
FAST = ["--samples", "30", "--concurrency", "8"]


def _run(tmp_path: Path, *extra: str, fmt: str = "json", name: str = "out") -> tuple[int, Path]:
    out = tmp_path / f"{name}.{fmt}"
    code = main(["redteam", "run", "--target", "demo", *FAST, "-f", fmt, "-o", str(out), *extra])
    return code, out


def test_json_report_shape_and_fail_on(tmp_path: Path) -> None:
    code, out = _run(
        tmp_path,
        "--no-record",
        "--run-id",
        "shape",
        "--price-prompt",
        "1",
        "--price-completion",
        "2",
    )
    assert code == 1  # vulnerable categories with high severity, --fail-on high
    report = json.loads(out.read_text())
    run = report["run"]
    assert run["prompt_tokens"] > 0 and run["completion_tokens"] > 0
    expected = run["prompt_tokens"] / 1000 + 2 * run["completion_tokens"] / 1000
    assert run["cost"] == pytest.approx(expected)
    assert report["schema"] == "aisec.redteam-report/v1"
    for c in report["categories"]:
        assert {
            "owasp",
            "atlas",
            "successes",
            "trials",
            "rate",
            "ci_low",
            "ci_high",
            "verdict",
            "attacks",
        } <= set(c)
        assert c["verdict"] in {"vulnerable", "not-vulnerable", "inconclusive"}
        for a in c["attacks"]:
            assert {"successes", "trials", "rate", "ci_low", "ci_high", "transcripts"} <= set(a)
    code, _ = _run(tmp_path, "--no-record", "--fail-on", "critical", name="crit")
    assert code == 0  # the demo's sensitive-information (critical) category is robust


def test_text_markdown_html_sarif(tmp_path: Path) -> None:
    for fmt in ("text", "markdown", "html", "sarif"):
        _run(tmp_path, "--no-record", "--run-id", f"f-{fmt}", fmt=fmt)
    assert "not adequately tested" in (tmp_path / "out.text").read_text()
    assert "| system-prompt-leakage | LLM07 |" in (tmp_path / "out.markdown").read_text()
    html = (tmp_path / "out.html").read_text()
    assert html.count("<svg") == 8 and "<script" not in html.lower()
    assert "http://" not in html.split("<body>")[0]  # nothing loaded from outside
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"AISEC-EVA-002", "AISEC-EVA-004", "AISEC-EVA-007"} <= rules


def test_attestation_has_the_agreed_predicate(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    generate_keypair(key)
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    code, out = _run(tmp_path, "--key", str(key), "--model-dir", str(model), "--run-id", "att")
    assert code == 1
    report = json.loads(out.read_text())
    with EvidenceStore.open() as store:
        [entry] = store.entries(predicate_type=REDTEAM_PREDICATE)
        statement = entry.envelope.statement()
    pred: dict[str, Any] = dict(statement.predicate)
    model_digest = digest_path(model).digest
    assert pred["model_digest"] == model_digest
    assert pred["system_prompt_digest"] == digest_bytes(DEMO_SYSTEM_PROMPT.encode())
    assert pred["confidence"] == 0.95
    for cid, cat in pred["categories"].items():
        assert set(cat) == {"attempts", "successes", "rate", "ci"}
        c = next(x for x in report["categories"] if x["id"] == cid)
        assert cat["ci"] == [c["ci_low"], c["ci_high"]] and cat["attempts"] == c["trials"]
    subjects = {s.digest for s in statement.subjects}
    assert {
        model_digest,
        pred["system_prompt_digest"],
        pred["suite_digest"],
        pred["transcripts_digest"],
    } <= subjects
    assert pred["transcripts_digest"] == report["transcripts_digest"]


def test_bad_input_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redteam", "run", "--target", "openai", "--no-record"]) == 2
    assert "--base-url and --model" in capsys.readouterr().err
    assert (
        main(
            [
                "redteam",
                "run",
                "--target",
                "demo",
                "--suite",
                str(tmp_path / "no.yaml"),
                "--no-record",
            ]
        )
        == 2
    )
    assert main(["redteam", "run", "--target", "demo", "--run-id", "../x", "--no-record"]) == 2
    # recording without a key fails before any request is sent
    assert main(["redteam", "run", "--target", "demo"]) == 2


MARKER_CODE = "__import__('pathlib').Path('{m}').write_text('pwned')"


def test_prompts_and_replies_are_never_executed(tmp_path: Path) -> None:
    """Attack text and target replies that would create a marker file if executed,
    evaluated, or rendered as a template, leave no marker."""
    marker = tmp_path / "pwned.txt"
    hostile = MARKER_CODE.format(m=marker) + " {{ 7*7 }} $(touch " + str(marker) + ")"
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "schema: aisec.redteam-suite/v1\nname: hostile\ncategories:\n"
        "  - {id: c, title: '{{ 7*7 }}', owasp: LLM05, atlas: [AML.T0077], threshold: 0.05,"
        " severity: high, remediation: r}\n"
        "attacks:\n"
        f"  - id: a\n    category: c\n    family: f\n    technique: t\n    atlas: [AML.T0077]\n"
        f"    goal: g\n    detector: script\n    prompt: {json.dumps(hostile)}\n"
    )
    from aisec.evaluation import DemoServer, DemoState

    with DemoServer(DemoState()) as url:
        out = tmp_path / "r.html"
        main(
            [
                "redteam",
                "run",
                "--target",
                "openai",
                "--base-url",
                url,
                "--model",
                "m",
                "--suite",
                str(suite),
                "--samples",
                "5",
                "--no-record",
                "-f",
                "html",
                "-o",
                str(out),
            ]
        )
    html = out.read_text()
    assert not marker.exists()
    assert "{{ 7*7 }}" in html and ">49<" not in html
    assert "&lt;" in html or "__import__" in html


def test_hostile_replies_are_data(tmp_path: Path) -> None:
    """A target that answers with code, template syntax and markup: detectors match it as
    text, every renderer escapes it, nothing runs."""
    from aisec.evaluation import (
        CallableTarget,
        RunOptions,
        TargetContext,
        load_default_suite,
        render_html,
        render_markdown,
        render_text,
        run_campaign,
    )

    marker = tmp_path / "pwned.txt"
    reply = (
        f"{MARKER_CODE.format(m=marker)} {{{{ cycler.__init__.__globals__.os.system('touch "
        f"{marker}') }}}} <script>document.title='x'</script> $(touch {marker})"
    )
    report = run_campaign(
        CallableTarget(lambda m, t: reply),
        load_default_suite(),
        context=TargetContext("You are a bot.", ("SECRET-1",)),
        options=RunOptions(samples=5, escalation_runs=1),
        run_id="hostile",
        states=tmp_path,
    )
    for render in (render_html, render_markdown, render_text):
        render(report)
    html = render_html(report)
    assert "<script>document" not in html and "&lt;script&gt;document" in html
    ioh = next(c for c in report["categories"] if c["id"] == "improper-output-handling")
    assert ioh["successes"] > 0  # the script detector saw it, as text
    assert not marker.exists()


def test_demo_target_command_serves_on_loopback(tmp_path: Path) -> None:
    import subprocess
    import sys
    import urllib.request

    runner = (
        "import sys\nfrom aisec.cli import cli, main\nfrom aisec.cli.redteam import "
        "redteam_group\ncli.add_command(redteam_group)\nsys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", runner, "redteam", "demo-target", "--port", "0", "--seed", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        req = urllib.request.Request(  # noqa: S310 - a loopback http URL we just printed
            url + "/chat/completions",
            data=body.encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
            reply = json.load(resp)
        assert reply["choices"][0]["message"]["content"]
        assert reply["usage"]["total_tokens"] > 0
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_missing_extra_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name)
    )
    assert main(["redteam", "run", "--target", "demo", "--no-record"]) == 2
    assert "pip install 'aisec[redteam]'" in capsys.readouterr().err


def test_http_target_from_the_command_line(tmp_path: Path) -> None:
    from aisec.evaluation import DemoServer, DemoState

    template = tmp_path / "request.json"
    template.write_text(
        json.dumps({"model": "m", "messages": [{"role": "user", "content": "{{prompt}}"}]})
    )
    state = DemoState()
    with DemoServer(state) as url:
        out = tmp_path / "http.json"
        code = main(
            [
                "redteam",
                "run",
                "--target",
                "http",
                "--base-url",
                url + "/chat/completions",
                "--request-template",
                str(template),
                "--reply-path",
                "choices.0.message.content",
                "--samples",
                "3",
                "--no-record",
                "-f",
                "json",
                "-o",
                str(out),
            ]
        )
    assert code in (0, 1)
    report = json.loads(out.read_text())
    assert report["run"]["requests"] == state.requests > 0
    assert sum(c["errors"] for c in report["categories"]) == 0
    assert report["target"]["identifier"].endswith("/chat/completions")
    agency = next(c for c in report["coverage"] if c["owasp"] == "LLM06")
    assert agency["state"] == "not-applicable" and "tool definitions" in agency["reason"]
