"""A real training loop (a small torch model on CPU) records checkpoints; verify catches
tampering, deletion, an unrecorded checkpoint and a rollback, through the API and the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.training import (
    CHECKPOINT_PREDICATE,
    CheckpointLedger,
    load_records,
    save_checkpoint,
    state_dict_digest,
    verify_checkpoints,
)

torch = pytest.importorskip("torch")

RUN = "fraud-v3"


def train(ledger: CheckpointLedger, folder: Path, *, steps: int = 40, every: int = 10) -> None:
    """Fit y = 3x + 1 with a tiny MLP and save a checkpoint every ``every`` steps."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x + 1
    folder.mkdir(parents=True, exist_ok=True)
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if step % every == 0:
            save_checkpoint(
                ledger,
                {"model": model.state_dict(), "opt": opt.state_dict(), "step": step},
                folder / f"step-{step:04d}.pt",
                step=step,
                metrics={"loss": loss.item()},
            )
    ledger.flush()


@pytest.fixture
def trained(tmp_path: Path, sqlite_url: str, key: SigningKey) -> tuple[Path, str]:
    folder = tmp_path / "ckpt"
    with CheckpointLedger(RUN, store=sqlite_url, key=key, root=folder, interval="4h") as ledger:
        train(ledger, folder)
    return folder, sqlite_url


def _verify(folder: Path, url: str, **kw: object) -> tuple[dict[str, str], set[str]]:
    with EvidenceStore.open(url) as store:
        result = verify_checkpoints(folder, RUN, store=store, **kw)  # type: ignore[arg-type]
    return {c.path: c.status for c in result.checkpoints}, {f.id for f in result.findings}


def test_loop_records_a_signed_chain(trained: tuple[Path, str]) -> None:
    folder, url = trained
    with EvidenceStore.open(url) as store:
        records = load_records(store, RUN)
        assert store.verify().ok
        entries = store.entries(predicate_type=CHECKPOINT_PREDICATE)
    assert [r.step for r in records] == [10, 20, 30, 40]
    assert [r.sequence for r in records] == [0, 1, 2, 3]
    assert records[0].previous is None
    assert [r.previous for r in records[1:]] == [r.digest for r in records[:-1]]
    assert all(r.signed and r.host and "loss" in r.metrics for r in records)
    from aisec.core.digest import digest_file

    assert records[2].digest == digest_file(folder / "step-0030.pt")
    predicate = entries[0].statement.predicate
    assert predicate["run"] == {"id": RUN, "status": "running"}
    assert predicate["final"] is False
    assert predicate["interval_seconds"] == 4 * 3600


def test_clean_folder_verifies(trained: tuple[Path, str]) -> None:
    statuses, ids = _verify(*trained)
    assert set(statuses.values()) == {"ok"} and len(statuses) == 4
    assert ids == set()


def test_tampered_checkpoint_is_caught(trained: tuple[Path, str]) -> None:
    folder, url = trained
    state = torch.load(folder / "step-0020.pt", weights_only=True)
    state["model"]["0.weight"][0, 0] += 0.5  # a backdoor-sized nudge
    torch.save(state, folder / "step-0020.pt")
    statuses, ids = _verify(folder, url)
    assert statuses["step-0020.pt"] == "modified"
    assert ids == {"AISEC-TRN-001"}


def test_deleted_checkpoint_is_caught(trained: tuple[Path, str]) -> None:
    folder, url = trained
    (folder / "step-0030.pt").unlink()
    statuses, ids = _verify(folder, url)
    assert statuses["step-0030.pt"] == "missing"
    assert ids == {"AISEC-TRN-002"}
    with EvidenceStore.open(url) as store:
        rotated = verify_checkpoints(folder, RUN, store=store, allow_deleted=True)
    assert {f.severity.value for f in rotated.findings} == {"info"}


def test_unrecorded_checkpoint_is_caught(trained: tuple[Path, str]) -> None:
    folder, url = trained
    torch.save({"model": {"w": torch.ones(3)}}, folder / "step-0050.pt")
    statuses, ids = _verify(folder, url)
    assert statuses["step-0050.pt"] == "unrecorded"
    assert ids == {"AISEC-TRN-003"}


def test_rolled_back_checkpoint_is_caught(trained: tuple[Path, str]) -> None:
    folder, url = trained
    shutil.copyfile(folder / "step-0010.pt", folder / "step-0040.pt")
    statuses, ids = _verify(folder, url)
    assert statuses["step-0040.pt"] == "rolled-back"
    assert ids == {"AISEC-TRN-004"}


def test_gap_longer_than_interval(tmp_path: Path, sqlite_url: str, key: SigningKey) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    times = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in (0, 3, 9))
    with CheckpointLedger(
        RUN, store=sqlite_url, key=key, root=folder, interval="4h", clock=lambda: next(times)
    ) as ledger:
        for step in (1, 2, 3):
            (folder / f"c{step}.bin").write_bytes(bytes([step]) * 10)
        ledger.record(folder / "c1.bin", step=1)
        ledger.record(folder / "c2.bin", step=2)
        ledger.finish(folder / "c3.bin", step=3)
    statuses, ids = _verify(folder, sqlite_url)
    assert set(statuses.values()) == {"ok"}
    assert ids == {"AISEC-TRN-005"}  # 3h fine, 6h over 4h; finished so no open gap


def test_reordered_steps_in_ledger(tmp_path: Path, sqlite_url: str, key: SigningKey) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    with CheckpointLedger(RUN, store=sqlite_url, key=key, root=folder) as ledger:
        for step, name in ((20, "a"), (10, "b")):
            (folder / name).write_bytes(name.encode())
            ledger.record(folder / name, step=step)
    _, ids = _verify(folder, sqlite_url)
    assert ids == {"AISEC-TRN-004"}


def test_reopened_ledger_continues_the_chain(
    tmp_path: Path, sqlite_url: str, key: SigningKey
) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for i in range(2):
        (folder / f"c{i}").write_bytes(b"x%d" % i)
        with CheckpointLedger(RUN, store=sqlite_url, key=key, root=folder) as ledger:
            ledger.record(folder / f"c{i}", step=i)
    _, ids = _verify(folder, sqlite_url)
    assert ids == set()


def test_finish_links_final_model_to_run(tmp_path: Path, sqlite_url: str, key: SigningKey) -> None:
    final = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, final)
    with CheckpointLedger(RUN, store=sqlite_url, key=key) as ledger:
        ledger.finish(final, step=99, metrics={"auc": 0.97})
    from aisec.core.digest import digest_path

    with EvidenceStore.open(sqlite_url) as store:
        (entry,) = store.entries(subject_digest=digest_path(final).digest)
        runs = store.runs()
    assert entry.statement.predicate["final"] is True
    assert entry.statement.predicate["run"] == {"id": RUN, "status": "finished"}
    assert runs[0]["run_id"] == RUN and runs[0]["status"] == "finished"


def test_state_dict_digest_is_canonical() -> None:
    a = {"b": torch.arange(4, dtype=torch.float32), "a": torch.ones(2, 2, dtype=torch.bfloat16)}
    b = {"a": a["a"].clone(), "b": a["b"].clone()}
    assert state_dict_digest(a) == state_dict_digest(b)  # order of insertion does not matter
    b["b"][1] = 7
    assert state_dict_digest(a) != state_dict_digest(b)
    c = {"a": a["a"].float(), "b": a["b"]}
    assert state_dict_digest(a) != state_dict_digest(c)  # dtype is part of the digest


def test_state_dict_record_is_hashed_before_return(sqlite_url: str, key: SigningKey) -> None:
    w = torch.zeros(3)
    with CheckpointLedger(RUN, store=sqlite_url, key=key) as ledger:
        ledger.record({"w": w}, step=1)
        w += 1  # training goes on mutating the tensor
        ledger.flush()
        with EvidenceStore.open(sqlite_url) as store:
            (rec,) = load_records(store, RUN)
    assert rec.digest == state_dict_digest({"w": torch.zeros(3)})
    assert rec.kind == "state_dict"


def test_missing_file_error_surfaces_on_flush(sqlite_url: str, key: SigningKey) -> None:
    from aisec.core.errors import InputError

    ledger = CheckpointLedger(RUN, store=sqlite_url, key=key)
    ledger.record(Path("nope.pt"), step=1)
    with pytest.raises(InputError):
        ledger.flush()
    ledger.close()


def test_cli_verify_catches_each_problem(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    folder, url = trained
    base = ["train", "verify", str(folder), "--run", RUN, "--db", url]
    assert main(base) == 0
    capsys.readouterr()
    (folder / "step-0030.pt").unlink()
    shutil.copyfile(folder / "step-0010.pt", folder / "step-0040.pt")
    (folder / "step-0020.pt").write_bytes(b"tampered")
    (folder / "extra.pt").write_bytes(b"unrecorded")
    assert main([*base, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "aisec.train-verify/v1"
    status = {c["path"]: c["status"] for c in doc["checkpoints"]}
    assert status == {
        "extra.pt": "unrecorded",
        "step-0010.pt": "ok",
        "step-0020.pt": "modified",
        "step-0030.pt": "missing",
        "step-0040.pt": "rolled-back",
    }
    ids = sorted(f["id"] for f in doc["findings"]["findings"])
    assert ids == ["AISEC-TRN-001", "AISEC-TRN-002", "AISEC-TRN-003", "AISEC-TRN-004"]
    assert main([*base, "--fail-on", "critical"]) == 1  # the modified one is critical
    out = capsys.readouterr().out
    assert "modified" in out and "AISEC-TRN-001" in out


def test_cli_verify_unknown_run_is_one_line_error(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    folder, url = trained
    assert main(["train", "verify", str(folder), "--run", "nope", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aisec: error: no checkpoint records")


def test_ledger_and_verify_on_both_backends(
    tmp_path: Path, store_url: str, signing_key: SigningKey
) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    with CheckpointLedger("both", store=store_url, key=signing_key, root=folder) as ledger:
        for step in (5, 10):
            (folder / f"c{step}").write_bytes(b"w%d" % step)
            ledger.record(folder / f"c{step}", step=step)
    (folder / "c5").write_bytes(b"changed")
    with EvidenceStore.open(store_url) as store:
        result = verify_checkpoints(folder, "both", store=store)
    assert {f.id for f in result.findings} == {"AISEC-TRN-001"}
