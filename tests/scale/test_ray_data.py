"""The data audit and the log discovery give the same results on Ray Data as in process."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from aisec.data import audit_dataset
from aisec.data._table import ExpectedSchema
from aisec.scale import ray_file_map, ray_row_pass
from aisec.scale.data_audit import plan_slices

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from _data_factory import base, hospital_scenario, make_frame, write


def _pii_dups(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """Breast cancer with PII, exact and near duplicates, missing values and schema breaks."""
    x, y, cols = base("breast_cancer")
    frame = make_frame(x, y, cols, ["a" if i % 3 else "b" for i in range(len(y))])
    notes = ["ok"] * len(y)
    for i, text in {3: "mail jane.doe@example.org", 90: "call 555-123-4567 today",
                    200: "ssn 123-45-6789", 310: "card 4111 1111 1111 1111",
                    311: "card 4111 1111 1111 1112", 500: "from 10.0.0.7"}.items():  # fmt: skip
        notes[i] = text
    frame = frame.with_columns(pl.Series("note", notes))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col("f05")).alias("f05")
    )
    dup = frame[20:30].with_columns(pl.Series("id", [f"d{i}" for i in range(10)]))
    near = frame[400:405].with_columns(
        pl.col("f00") * 1.0001, pl.Series("id", [f"n{i}" for i in range(5)])
    )
    path = write(pl.concat([frame, dup, near]), tmp_path / "pii.csv")
    schema = ExpectedSchema.model_validate(
        {"columns": {"f01": {"type": "float", "max": 20}, "f05": {"type": "float",
                     "nullable": False}, "label": {"type": "int", "allowed": [0, 1]}}}
    )  # fmt: skip
    return path, {"label": "label", "id_column": "id", "source_column": "source",
                  "schema": schema}  # fmt: skip


def test_slices_cover_every_row_once() -> None:
    for n, cpus, chunk in ((1, 2, 10), (7, 2, 10), (1797, 2, 500), (10, 8, 3)):
        s = plan_slices(n, cpus, chunk)
        assert s[0][0] == 0 and s[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(s))
        assert all(hi - lo <= max(chunk, 1) for lo, hi in s)


def test_audit_on_ray_gives_the_same_report(
    tmp_path: Path, ray_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    hosp = write(hospital_scenario().frame, tmp_path / "hosp.parquet")
    cases = [
        # poisoning (a backdoor trigger), label issues, provenance; a sample of 900 rows
        (
            hosp,
            {
                "label": "label",
                "id_column": "id",
                "source_column": "source",
                "sample_cap": 900,
                "seed": 3,
            },
        ),
        _pii_dups(tmp_path),
    ]
    on_ray = ray_row_pass(chunk_rows=400)  # several slices per worker, so merges are tested
    for path, kw in cases:
        local = audit_dataset(path, **kw)
        remote = audit_dataset(path, **kw, row_pass=on_ray)
        assert remote == local  # every key: findings (ids, counts), flagged rows, pairs
    # the command line, on the same cluster: the same findings
    from aisec.cli import main

    schema = tmp_path / "schema.yaml"
    schema.write_text(json.dumps(kw["schema"].model_dump(exclude_none=True)))  # JSON is YAML
    args = ["data", "audit", str(path), "--label", "label", "--id-column", "id",
            "--source-column", "source", "--schema", str(schema), "--no-record",
            "-f", "json"]  # fmt: skip
    assert main([*args, "--engine", "ray"]) == 1
    assert json.loads(capsys.readouterr().out)["findings"] == local["findings"]
    ids = {f["id"] for f in local["findings"]}
    assert {"AISEC-DAT-001", "AISEC-DAT-002", "AISEC-DAT-003", "AISEC-DAT-009"} <= ids
    assert len(local["pii"]) == 5 and len(local["duplicates"]) == 15


def test_discover_on_ray_gives_the_same_inventory(tmp_path: Path, ray_cluster: Any) -> None:
    from aisec.monitoring import discover, synth_enterprise

    truth = synth_enterprise(tmp_path / "acme", seed=3, noise=200)
    logs = tmp_path / "acme" / "logs"
    formats = {p.suffix for p in logs.rglob("*") if p.is_file()}
    assert len(formats) >= 3, formats
    root = truth.root
    kw: dict[str, Any] = {"registry": str(root / "registry.json"), "logs": [logs],
                          "billing": [root / "billing"], "saas": [root / "saas"]}  # fmt: skip
    local = discover(**kw).to_json()
    remote = discover(**kw, file_map=ray_file_map()).to_json()
    local.pop("generated_at"), remote.pop("generated_at")
    assert json.dumps(remote, sort_keys=True) == json.dumps(local, sort_keys=True)
    assert local["summary"]["shadow"] > 0 and len(local["inputs"]) > 5


@pytest.mark.parametrize("command", [["data", "audit"], ["inventory", "discover"]])
def test_engine_option_is_documented(command: list[str]) -> None:
    from click.testing import CliRunner

    from aisec.cli import cli

    out = CliRunner().invoke(cli, [*command, "--help"]).output
    assert "--engine [local|ray]" in out and "--address" in out


_NO_RAY = """
import sys
from aisec.cli import main
code = main(sys.argv[1:])
sys.exit(3 if "ray" in sys.modules else code)
"""


@pytest.mark.parametrize("engine_args", [[], ["--engine", "local"]])
def test_local_engine_never_imports_ray(tmp_path: Path, engine_args: list[str]) -> None:
    import subprocess

    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(60))
    (tmp_path / "t.csv").write_text("a,b,label\n" + rows)
    (tmp_path / "reg.csv").write_text("name,owner\nchat,ann\n")
    (tmp_path / "proxy.csv").write_text("ts,host,user\n1,api.openai.com,ann\n")
    for args in (
        ["data", "audit", "t.csv", "--label", "label", "--no-record", *engine_args],
        ["inventory", "discover", "--registry", "reg.csv", "--logs", "proxy.csv", *engine_args],
    ):
        run = subprocess.run(
            [sys.executable, "-c", _NO_RAY, *args],
            capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode in (0, 1), (args, run.returncode, run.stderr[-500:])
