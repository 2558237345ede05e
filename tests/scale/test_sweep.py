"""A registry sweep gives the same verdicts in process and on Ray, and resumes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.evidence.recorder import NullRecorder, StoreRecorder
from aisec.core.predicates.deployment import ScanPredicate
from aisec.scale import plan_sweep, run_sweep

PAYLOAD = b"cos\nsystem\n(S'touch sweep-payload-ran'\ntR."


def _registry(root: Path, models: int = 8) -> Path:
    hub = root / "hub"
    for i in range(models):
        m = hub / f"org{i % 2}" / f"model-{i}"
        m.mkdir(parents=True)
        (m / "config.json").write_text(json.dumps({"i": i}))
        (m / "weights.pkl").write_bytes(
            PAYLOAD if i % 3 == 0 else pickle.dumps({"w": [i, i + 1]}, protocol=4)
        )
    return hub


def _verdicts(units: Any, **kw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    stream = _Lines()
    run_sweep(units, recorder=NullRecorder(), stream=stream, **kw)
    for line in stream.lines:
        row = json.loads(line)
        out[row["model"]] = row["verdict"]
    return out


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines += [x for x in text.splitlines() if x]
        return len(text)


def test_plan_groups_files_into_models(tmp_path: Path) -> None:
    hub = _registry(tmp_path)
    units = plan_sweep([hub], model_depth=2)
    assert len(units) == 8 and all(len(u.files) == 2 for u in units)
    assert units[0].name == "hub/org0/model-0"
    listing = tmp_path / "models.txt"
    listing.write_text("\n".join(str(p) for p in sorted(hub.rglob("*.pkl"))) + "\n# comment\n")
    assert len(plan_sweep([listing])) == 8
    assert len(plan_sweep([f"file://{hub}"], model_depth=2)) == 8


def test_ray_gives_the_same_verdicts_as_in_process(tmp_path: Path, ray_cluster: Any) -> None:
    units = plan_sweep([_registry(tmp_path)], model_depth=2)
    local = _verdicts(units, engine="local")
    on_ray = _verdicts(units, engine="ray")
    assert local == on_ray
    assert sum(v == "unsafe" for v in local.values()) == 3
    assert not (tmp_path / "sweep-payload-ran").exists()


def test_one_attestation_per_model_and_resume(tmp_path: Path, signing_key: SigningKey) -> None:
    hub = _registry(tmp_path, models=5)
    units = plan_sweep([hub], model_depth=2)
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        rec = StoreRecorder.for_store(store, signing_key)
        first = run_sweep(units[:3], recorder=rec, sweep_id="s1")
        assert first.models == 3 and len(first.entries) == 3
        # a killed sweep, resumed: only the models not yet recorded are scanned
        again = run_sweep(units, recorder=rec, sweep_id="s1", resume=True)
        assert (again.skipped, again.models) == (3, 2)
        scans = store.entries(predicate_type=ScanPredicate.predicate_type())
        assert len(scans) == 5
        assert all(len(ScanPredicate.from_statement(e.statement).files) == 2 for e in scans)
        # a changed model is swept again
        (hub / "org0" / "model-0" / "config.json").write_text("{}")
        changed = run_sweep(plan_sweep([hub], model_depth=2), recorder=rec, sweep_id="s1",
                            resume=True)  # fmt: skip
        assert changed.models == 1
        assert store.verify([signing_key.public]).ok


def test_bad_sources_are_one_clear_error(tmp_path: Path) -> None:
    from aisec.core.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        plan_sweep([tmp_path / "absent"])
    with pytest.raises(InputError, match="no sweep"):
        run_sweep([], recorder=NullRecorder(), sweep_id="nope", resume=True)


def test_sweep_command_records_one_attestation_per_model_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aisec.cli import main

    hub = _registry(tmp_path, models=6)
    assert main(["keys", "generate"]) == 0
    capsys.readouterr()
    code = main(["model", "sweep", str(hub), "--model-depth", "2", "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 1, err  # models 0 and 3 carry the payload (a critical finding)
    doc = json.loads(out)
    assert doc["models"] == 6 and len(doc["entries"]) == 6
    assert doc["verdicts"].get("unsafe") == 2
    assert not (tmp_path / "sweep-payload-ran").exists()
    again = main(["model", "sweep", str(hub), "--model-depth", "2", "--resume", doc["sweep"],
                  "-f", "json"])  # fmt: skip
    out, _ = capsys.readouterr()
    assert again == 0
    assert json.loads(out)["skipped"] == 6
    # a source that does not exist: one line, exit 2
    assert main(["model", "sweep", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_ray_chunks_bound_files_bytes_and_keep_every_cpu_busy() -> None:
    from aisec.scale import sweep as sw

    big = sw.RAY_CHUNK_BYTES // 2 + 1
    units = [
        sw.ModelUnit(f"m{i}", tuple(f"m{i}/f{j}" for j in range(4)), "s", (10, 10, 10, big))
        for i in range(400)
    ]
    files = [f for u in units for f in u.files]
    for cpus in (1, 2, 64):
        chunks = sw._ray_chunks(units, cpus)
        assert [f for c in chunks for f in c] == files  # every file once, in plan order
        assert max(map(len, chunks)) <= sw.RAY_CHUNK_FILES
        assert len(chunks) >= min(len(files), sw.RAY_TASKS_PER_CPU * cpus)
        size = {f: s for u in units for f, s in zip(u.files, u.sizes, strict=True)}
        for c in chunks:  # a file over half the bound never shares a chunk with another such
            assert len(c) == 1 or sum(size[f] for f in c) <= sw.RAY_CHUNK_BYTES
    # sizes unknown (object-store prefixes): bounded by count alone
    bare = [sw.ModelUnit("x", tuple(f"x/{j}" for j in range(1000)), "s")]
    assert [len(c) for c in sw._ray_chunks(bare, 2)] == [125] * 8


def test_a_task_whose_worker_dies_is_run_again(tmp_path: Path, ray_cluster: Any) -> None:
    from aisec.scale._ray import map_tasks

    def die_once(i: int, marker_dir: str) -> int:
        import os

        marker = Path(marker_dir) / f"{i}.died"
        if i == 2 and not marker.exists():
            marker.touch()
            os._exit(1)  # the worker process is lost mid-task, as on a node failure
        return i * i

    got = dict(map_tasks(ray_cluster, die_once, [(i,) for i in range(5)], shared=str(tmp_path)))
    assert got == {i: i * i for i in range(5)}
    assert (tmp_path / "2.died").exists()  # it did die once, and its retry gave the result


def test_rays_auth_enabled_notice_is_dropped_and_its_disabled_warning_kept() -> None:
    import logging

    from aisec.scale._ray import _DropAuthEnabledNotice

    keep = _DropAuthEnabledNotice()

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("ray", logging.WARNING, __file__, 1, msg, None, None)

    assert not keep.filter(record("Token authentication is enabled for this Ray cluster."))
    assert keep.filter(record("Token authentication is disabled for this Ray cluster. Anyone"))
