"""``aisec train watch``: new and changed checkpoints are recorded, half-written ones wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.training import (
    CheckpointLedger,
    guess_step,
    load_records,
    parse_interval,
    watch_checkpoints,
)

RUN = "watch-run"


def test_watch_once_then_verify(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "checkpoint-100").mkdir()
    (folder / "checkpoint-100" / "model.safetensors").write_bytes(b"w100")
    (folder / "checkpoint-200").mkdir()
    (folder / "checkpoint-200" / "model.safetensors").write_bytes(b"w200")
    (folder / "runs").mkdir()  # tensorboard logs, not a checkpoint
    common = ["--run", RUN, "--key", str(key_file), "--pattern", "checkpoint-*"]
    watch = ["train", "watch", str(folder), *common, "--once", "--settle", "0", "--interval", "4h"]
    assert main(watch) == 0
    out = capsys.readouterr().out
    assert out.count("recorded") == 2 and "step      100" in out
    assert main(watch) == 0  # nothing new: nothing recorded twice
    assert capsys.readouterr().out == ""
    (folder / "checkpoint-300").mkdir()
    (folder / "checkpoint-300" / "model.safetensors").write_bytes(b"w300")
    assert main(watch) == 0
    assert "checkpoint-300" in capsys.readouterr().out
    verify = ["train", "verify", str(folder), "--run", RUN, "--pattern", "checkpoint-*"]
    assert main([*verify, "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in doc["checkpoints"]] == ["ok"] * 3
    (folder / "checkpoint-200" / "model.safetensors").write_bytes(b"evil")
    assert main(verify) == 1
    assert "AISEC-TRN-001" in capsys.readouterr().out


def test_watch_records_changed_file_and_skips_half_written(
    tmp_path: Path, sqlite_url: str, signing_key: SigningKey
) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "last.ckpt").write_bytes(b"a")
    growing = folder / "epoch=1-step=50.ckpt"
    growing.write_bytes(b"part")

    def still_writing(_seconds: float) -> None:
        with growing.open("ab") as fh:
            fh.write(b"more")

    with CheckpointLedger(RUN, store=sqlite_url, key=signing_key, root=folder) as ledger:
        events = list(watch_checkpoints(folder, ledger, once=True, sleep=still_writing))
        assert [(e.path, e.action) for e in events] == [
            ("epoch=1-step=50.ckpt", "unstable"),
            ("last.ckpt", "recorded"),
        ]
        (folder / "last.ckpt").write_bytes(b"b")
        events = list(watch_checkpoints(folder, ledger, once=True, sleep=lambda _s: None))
        assert sorted((e.path, e.action, e.step) for e in events) == [
            ("epoch=1-step=50.ckpt", "recorded", 50),
            ("last.ckpt", "changed", 51),
        ]
    with EvidenceStore.open(sqlite_url) as store:
        assert [r.sequence for r in load_records(store, RUN)] == [0, 1, 2]


def test_guess_step_and_interval() -> None:
    assert guess_step("checkpoint-500") == 500
    assert guess_step("epoch=3-step=1200.ckpt") == 1200
    assert guess_step("model_07.pt") == 7
    assert guess_step("last.ckpt") is None
    assert parse_interval("4h").total_seconds() == 14400  # type: ignore[union-attr]
    assert parse_interval("90").total_seconds() == 90  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["soon", "-1h", "0"])
def test_bad_interval_is_one_line_error(
    bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], train_cli: None, key_file: Path
) -> None:
    code = main(
        [
            "train",
            "watch",
            str(tmp_path),
            "--run",
            RUN,
            "--key",
            str(key_file),
            "--once",
            "--interval",
            bad,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aisec: error: interval")


def test_watch_missing_folder_is_one_line_error(
    capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    assert main(["train", "watch", "nowhere", "--run", RUN, "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_watch_polls_until_a_checkpoint_is_stable(
    tmp_path: Path, sqlite_url: str, signing_key: SigningKey
) -> None:
    import itertools

    folder = tmp_path / "ckpt"
    folder.mkdir()
    ckpt = folder / "step-10.pt"
    ckpt.write_bytes(b"part")
    polls = []

    def sleep(_seconds: float) -> None:
        polls.append(1)
        if len(polls) == 1:
            with ckpt.open("ab") as fh:  # still being written at the second look
                fh.write(b"rest")
        if len(polls) == 3:
            (folder / "step-20.pt").write_bytes(b"second")

    with CheckpointLedger(RUN, store=sqlite_url, key=signing_key, root=folder) as ledger:
        watcher = watch_checkpoints(folder, ledger, poll=0.0, sleep=sleep)
        events = list(itertools.islice(watcher, 2))
    assert [(e.path, e.action, e.step) for e in events] == [
        ("step-10.pt", "recorded", 10),
        ("step-20.pt", "recorded", 20),
    ]
    assert len(polls) == 4  # step-10 stable at poll 3, step-20 seen at 4 and stable at 5
    with EvidenceStore.open(sqlite_url) as store:
        (first, second) = load_records(store, RUN)
    from aisec.core.digest import digest_bytes

    assert first.digest == digest_bytes(b"partrest")
    assert second.previous == first.digest
