"""`aisec model validate` end to end: ONNX and skops files, JSON, SARIF, HTML, --fail-on,
evidence bound to the digest, and the deploy gate's ``validation:`` section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aisec.cli import main
from aisec.core.digest import digest_file
from aisec.core.evidence import EvidenceStore, generate_keypair
from aisec.core.predicates.evaluation import ValidationPredicate
from aisec.deployment.gate import check_deployment
from aisec.deployment.gate_policy import load_policy

from .conftest import to_onnx, write_csv


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(cancer: dict[str, Any], tmp_path: Path) -> dict[str, Path]:
    y, g = cancer["y"], cancer["g"]
    tr, te = cancer["train"], cancer["test"]
    folder = tmp_path / "model"
    folder.mkdir()
    model = cancer["biased"]
    # the planted model reads the group as its last feature: keep it a feature column
    xs = cancer["x"]
    onnx = to_onnx(model, xs.shape[1], folder / "model.onnx")
    return {
        "onnx": onnx,
        "folder": folder,
        "data": write_csv(tmp_path / "data.csv", xs[te], y[te], {"group_copy": g[te]}),
        "members": write_csv(tmp_path / "members.csv", xs[tr], y[tr], {"group_copy": g[tr]}),
        "root": tmp_path,
    }


FAST = ("--evasion-rows", "4", "--harden", "raw", "--harden", "top1")


def test_validate_onnx_json_sarif_html_and_gate(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = files["root"]
    generate_keypair(root / "keys" / "ev.key")
    db = f"sqlite:///{root / 'e.db'}"
    html = root / "report.html"
    gw = root / "hardening.yaml"
    base = [
        "model",
        "validate",
        str(files["onnx"]),
        "--data",
        str(files["data"]),
        "--label",
        "label",
        "--members",
        str(files["members"]),
        "--drop",
        "group_copy",
        "--sensitive",
        "group_copy",
        *FAST,
    ]
    code, out, err = run(
        capsys,
        *base,
        "-f",
        "json",
        "--db",
        db,
        "--key",
        str(root / "keys" / "ev.key"),
        "--html",
        str(html),
        "--serve",
        "top1",
        "--gateway-config",
        str(gw),
        "--fail-on",
        "critical",
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["model_digest"] == digest_file(files["onnx"])
    assert body["metrics"]["fairness.group_copy.demographic_parity_difference"]["status"] == "fail"
    assert [o["option"] for o in body["extraction"]["options"]] == ["raw", "top1"]
    assert "recorded entry #" in err
    assert gw.read_text().strip() == "hardening:\n  top-k: 1"
    page = html.read_text()
    assert "<svg" in page and "Membership ROC" in page and "Selection rate by group" in page
    # the planted disparity is a medium finding: --fail-on medium fails the run
    code, out, _ = run(
        capsys, *base, "--checks", "fairness", "-f", "sarif", "--no-record", "--fail-on", "medium"
    )
    assert code == 1
    sarif = json.loads(out)
    assert "AISEC-EVA-104" in {r["ruleId"] for r in sarif["runs"][0]["results"]}

    with EvidenceStore.open(db) as store:
        (entry,) = store.entries(predicate_type=ValidationPredicate.predicate_type())
        pred = ValidationPredicate.from_statement(entry.statement)
        assert pred.served == "top1" and pred.hardening == {"top-k": 1}
        policy = root / "policy.yaml"
        for limit, allowed in (("0.95", True), ("0.01", False)):
            policy.write_text(
                "version: 1\nformats: {allow: [onnx]}\nvalidation:\n"
                f"  max: {{fairness.group_copy.equalized_odds_difference: {limit}}}\n"
                "  required-checks: [membership, fairness, extraction]\n"
                "evidence: {trusted-keys: [keys/ev.pub]}\n"
            )
            decision = check_deployment(files["folder"], load_policy(policy), store)
            assert decision.allow is allowed, [r.message for r in decision.reasons]
        (files["folder"] / "model.onnx").write_bytes(b"\x08changed")
        decision = check_deployment(files["folder"], load_policy(policy), store)
        assert not decision.allow
        assert any("no evaluation/model-validation" in r.message for r in decision.failures)


def test_skops_file_and_bad_input_exit_2(
    cancer: dict[str, Any], files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import skops.io as sio

    sk = files["root"] / "m.skops"
    sio.dump(cancer["biased"], sk)
    args = [
        "model",
        "validate",
        str(sk),
        "--data",
        str(files["data"]),
        "--label",
        "label",
        "--drop",
        "group_copy",
        "--checks",
        "extraction",
        "--no-record",
        "-f",
        "json",
        "--harden",
        "raw",
    ]
    code, out, _ = run(capsys, *args)
    assert code == 0 and json.loads(out)["target"]["kind"] == "skops"
    pkl = files["root"] / "m.pkl"
    pkl.write_bytes(b"\x80\x04N.")
    cases = [
        ([str(pkl)], "pickle and joblib models are not loaded"),
        (["--label", "nope"], "no column 'nope'"),
        (["--checks", "vibes"], "unknown check 'vibes'"),
        (["--harden", "round:99"], "hardening option"),
        (["--limit", "membership.auc"], "KEY=VALUE"),
    ]
    for extra, message in cases:
        argv = list(args)
        if extra[0] == str(pkl):
            argv[2] = str(pkl)
        else:
            argv += extra
        code, _, err = run(capsys, *argv)
        assert code == 2, (extra, err)
        assert message in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "model",
        "validate",
        "http://127.0.0.1:9/x",
        "--data",
        str(files["data"]),
        "--label",
        "label",
        "--no-record",
    )
    assert code == 2 and "--model-digest" in err


def test_gate_policy_validation_section_is_checked(tmp_path: Path) -> None:
    from aisec.core.errors import FormatError as PolicyError

    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nvalidation: {}\nevidence: {trusted-keys: [k.pub]}\n")
    with pytest.raises(PolicyError, match="validation needs max, min or required-checks"):
        load_policy(policy)
    policy.write_text("version: 1\nvalidation: {max: {membership.auc: 0.6}}\n")
    with pytest.raises(PolicyError, match="evidence"):
        load_policy(policy)


def test_all_four_checks_on_a_kserve_endpoint(
    cancer: dict[str, Any], files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from .test_targets import _Server

    handler = type("H", (_Server,), {"model": cancer["biased"]})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    digest = "sha256:" + "ef" * 32
    try:
        code, out, err = run(
            capsys, "model", "validate", f"http://127.0.0.1:{srv.server_address[1]}",
            "--protocol", "kserve-v2", "--model-name", "m", "--model-digest", digest,
            "--data", str(files["data"]), "--label", "label", "--members", str(files["members"]),
            "--drop", "group_copy", "--sensitive", "group_copy", *FAST, "--no-record",
            "-f", "json", "--fail-on", "critical",
        )  # fmt: skip
    finally:
        srv.shutdown()
        srv.server_close()
    assert code == 0, err
    body = json.loads(out)
    assert body["model_digest"] == digest and body["target"]["kind"] == "http"
    assert not body["skipped"] and body["membership"] and body["evasion"] and body["fairness"]
    assert body["metrics"]["fairness.group_copy.demographic_parity_difference"]["status"] == "fail"
