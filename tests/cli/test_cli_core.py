"""The command line: exit codes, one-line errors, keys, evidence, demo."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aisec.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("aisec: error: ")
    assert "Traceback" not in err


def test_help_lists_every_stage_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for group in (
        "data",
        "train",
        "redteam",
        "model",
        "guard",
        "inventory",
        "frameworks",
        "lifecycle",
        "evidence",
        "keys",
        "demo",
    ):
        assert group in out


def test_unknown_command_and_option_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "nonsense")
    assert code == 2
    assert_one_line_error(err)
    code, _, err = run(capsys, "evidence", "list", "--bogus")
    assert code == 2
    assert_one_line_error(err)


def test_keys_generate_and_show(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    code, out, _ = run(capsys, "keys", "generate", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    priv = Path(doc["private_key"])
    assert priv == isolated_home / "keys" / "aisec.key"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    code, _, err = run(capsys, "keys", "generate")
    assert code == 2 and "already exists" in err
    code, out, _ = run(capsys, "keys", "show", "-f", "json")
    assert json.loads(out)["keyid"] == doc["keyid"]
    code, out, _ = run(capsys, "keys", "generate", "--out", "ed.key", "--type", "ed25519")
    assert code == 0 and "ed25519" in out


def test_passphrase_key_from_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AISEC_KEY_PASSPHRASE", "s3cret")
    assert run(capsys, "keys", "generate", "--passphrase")[0] == 0
    (tmp_path / "a.txt").write_text("a")
    assert run(capsys, "evidence", "add", "a.txt")[0] == 0
    monkeypatch.setenv("AISEC_KEY_PASSPHRASE", "wrong")
    code, _, err = run(capsys, "evidence", "add", "a.txt")
    assert code == 2
    assert_one_line_error(err)
    assert "wrong passphrase" in err


def _setup_log(capsys: pytest.CaptureFixture[str], tmp_path: Path, n: int = 3) -> Path:
    assert run(capsys, "keys", "generate")[0] == 0
    for i in range(n):
        (tmp_path / f"f{i}.txt").write_text(f"content {i}")
        code, _, err = run(capsys, "evidence", "add", f"f{i}.txt", "--stage", "data")
        assert code == 0, err
    return tmp_path / ".aisec" / "evidence.db"


def test_evidence_add_list_show_verify(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _setup_log(capsys, tmp_path)
    pub = ".aisec/keys/aisec.pub"
    code, out, _ = run(capsys, "evidence", "list", "-f", "json")
    entries = json.loads(out)["entries"]
    assert [e["index"] for e in entries] == [0, 1, 2] and entries[0]["stage"] == "data"
    code, out, _ = run(capsys, "evidence", "show", "1", "-f", "json")
    assert json.loads(out)["inclusion"]["verified"] is True
    code, out, _ = run(capsys, "evidence", "verify", "--trust", pub)
    assert code == 0 and "verified" in out
    code, out, _ = run(capsys, "evidence", "verify", "--trust", pub, "-f", "json")
    assert json.loads(out)["ok"] is True
    code, out, _ = run(capsys, "evidence", "consistency", "1", "3")
    assert code == 0 and json.loads(out)["verified"] is True
    code, out, _ = run(capsys, "evidence", "show", "9")
    assert code == 2


def test_verify_names_tampered_entry_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = _setup_log(capsys, tmp_path)
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE aisec_entries SET envelope = replace(envelope, 'payloadType', "
        "'payloadTypf') WHERE idx = 1"
    )
    con.commit()
    con.close()
    code, out, _ = run(capsys, "evidence", "verify", "--trust", ".aisec/keys/aisec.pub")
    assert code == 1
    assert "TAMPERED" in out and "entry #1 was changed" in out


def test_verify_with_a_different_key_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup_log(capsys, tmp_path, n=2)
    assert run(capsys, "keys", "generate", "--out", "other.key")[0] == 0
    code, out, _ = run(capsys, "evidence", "verify", "--trust", "other.pub", "-f", "json")
    assert code == 1
    assert {p["kind"] for p in json.loads(out)["problems"]} == {"bad-signature", "tree-head"}


def test_corrupted_database_exit_2_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = _setup_log(capsys, tmp_path)
    raw = bytearray(db.read_bytes())
    raw[:16] = b"garbage garbage!"
    db.write_bytes(bytes(raw))
    for args in (("evidence", "verify"), ("evidence", "list"), ("evidence", "add", "f0.txt")):
        code, _, err = run(capsys, *args)
        assert code == 2
        assert_one_line_error(err)
    assert db.read_bytes() == bytes(raw)


def test_bad_key_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _setup_log(capsys, tmp_path, n=1)
    before = (tmp_path / ".aisec" / "evidence.db").read_bytes()
    (tmp_path / "junk.key").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    for args in (
        ("evidence", "add", "f0.txt", "--key", "junk.key"),
        ("evidence", "add", "f0.txt", "--key", "absent.key"),
        ("evidence", "verify", "--trust", "junk.key"),
    ):
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert_one_line_error(err)
    assert (tmp_path / ".aisec" / "evidence.db").read_bytes() == before


def test_export_then_verify_offline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _setup_log(capsys, tmp_path)
    assert run(capsys, "evidence", "export", "-o", "log.jsonl")[0] == 0
    code, out, _ = run(
        capsys, "evidence", "verify", "--export", "log.jsonl", "--trust", ".aisec/keys/aisec.pub"
    )
    assert code == 0, out
    (tmp_path / "bad.jsonl").write_text(
        '{"schema": "aisec.evidence-export/v1", "log_id": "x"}\n'
        '{"entry": {"index": 0, "envelope": 5}}\n'
    )
    code, _, err = run(capsys, "evidence", "verify", "--export", "bad.jsonl")
    assert code == 2
    assert_one_line_error(err)


def test_witness_file_catches_rollback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = _setup_log(capsys, tmp_path, n=2)
    assert run(capsys, "evidence", "head", "-o", "head.json")[0] == 0
    backup = db.read_bytes()
    (tmp_path / "f9.txt").write_text("later")
    run(capsys, "evidence", "add", "f9.txt")
    assert run(capsys, "evidence", "head", "-o", "later.json")[0] == 0
    db.write_bytes(backup)  # roll the database back
    code, out, _ = run(capsys, "evidence", "verify", "--witness", "later.json")
    assert code == 1 and "truncated" in out


def test_findings_sarif_from_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _setup_log(capsys, tmp_path, n=1)
    code, out, _ = run(capsys, "evidence", "findings", "-f", "sarif")
    assert code == 0 and json.loads(out)["version"] == "2.1.0"


def test_demo_runs_in_a_fresh_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "demo", "--dir", "d", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True
    stages = {s["stage"]: s for s in doc["stages"]}
    assert stages["evidence"]["facts"]["ok"] is True
    assert stages["evidence"]["facts"]["tamper_caught"] is True
    assert stages["data"]["facts"]["ranking"][:2] in (["forum", "vendor"], ["vendor", "forum"])
    assert stages["monitoring"]["facts"] == {"systems": 16, "shadow": 9}
    gate = next(s for s in doc["stages"] if "release" in s["facts"])
    assert (gate["facts"]["candidate"], gate["facts"]["release"]) == ("deny", "allow")
    assert gate["facts"]["payload_ran"] is False
    assert not (tmp_path / "aisec-demo-payload-ran").exists()
    assert (tmp_path / "d" / ".aisec" / "evidence.db").exists()
    assert not (tmp_path / "d" / ".aisec" / "tamper-demo.db").exists()
    # a second run extends the same log, which still verifies
    code, out, _ = run(capsys, "demo", "--dir", "d", "-f", "json")
    again = {s["stage"]: s for s in json.loads(out)["stages"]}
    assert code == 0
    assert again["evidence"]["facts"]["entries"] > stages["evidence"]["facts"]["entries"]


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aisec", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and "aisec" in proc.stdout


BAD_INPUTS = [
    ["model", "scan", "absent.pt"],
    ["model", "convert", "junk.bin", "--to", "safetensors", "-o", "o.safetensors", "--no-record"],
    ["redteam", "run", "--target", "demo", "--suite", "bad.yaml", "--no-record"],
    ["data", "audit", "t.csv", "--label", "missing", "--no-record"],
    ["data", "audit", "junk.bin", "--label", "a", "--no-record"],
    ["train", "infra-check", "bad.yaml"],
    ["gate", "check", ".", "--policy", "bad.yaml"],
    ["guard", "serve", "--config", "bad.yaml"],
    ["inventory", "discover", "--registry", "junk.bin"],
    ["frameworks", "import", "bad.yaml"],
    ["lifecycle", "stage9"],
    ["keys", "show", "junk.bin"],
    ["dashboard", "--db", "junk.bin"],
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=lambda a: " ".join(a[:2]))
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01garbage\xff")
    (tmp_path / "bad.yaml").write_text("not: [yaml\n")
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert_one_line_error(err)


def test_unusable_demo_folder_and_busy_port_are_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import socket

    from aisec.core.evidence import EvidenceStore

    assert main(["demo", "--dir", "/proc/aisec-demo-here"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dir /proc/aisec-demo-here" in err
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}"):
        pass
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["dashboard", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'e.db'}"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pick another --port" in err
