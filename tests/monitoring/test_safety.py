"""Untrusted input stays data: code is parsed, never run; hostile files become findings."""

from __future__ import annotations

import datetime
import json
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aisec.cli import main
from aisec.core.errors import InputError
from aisec.core.frameworks import load_catalog
from aisec.monitoring import RULES, discover, load_ai_catalog, load_registry
from aisec.monitoring._code import scan_code

CAT = load_ai_catalog()


def test_code_scan_never_imports_or_executes(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    payload = f"open({str(marker)!r}, 'w').write('x')"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "evil.py").write_text(
        f"import anthropic\n{payload}\n__import__('os').system('touch {marker}')\n"
        "from transformers import AutoModel\nAutoModel.from_pretrained('org/model-a')\n"
    )
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": [f"!touch {marker}\n", f"{payload}\n", "import cohere\n"],
            }
        ]
    }
    (repo / "evil.ipynb").write_text(json.dumps(nb))
    (repo / "conftest.py").write_text(payload)
    (repo / "setup.py").write_text(payload)
    (repo / "broken.py").write_text("def (:\n")
    obs, skipped = scan_code(repo, sorted(repo.iterdir()), CAT, git=False)
    assert not marker.exists()
    assert sorted({o.provider for o in obs}) == ["anthropic", "cohere", "self-hosted"]
    assert any("model:modela" in o.keys for o in obs)  # the model the code loads
    assert [s.reason.split(":")[0:2] for s in skipped] == [["cannot parse python", " SyntaxError"]]


def test_model_files_by_magic_bytes(tmp_path: Path) -> None:
    (tmp_path / "weights.dat").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    (tmp_path / "x.bin").write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 4)
    (tmp_path / "notes.txt").write_text("GGUF is a format")  # text: not read as a model
    (tmp_path / "random.pt").write_bytes(b"\x13\x37" * 100)
    obs, _ = scan_code(tmp_path, sorted(tmp_path.iterdir()), CAT, git=False)
    got = sorted(o.detail.split(" ", 3)[:3] for o in obs)
    assert got == [["gguf", "model", "file"], ["safetensors", "model", "file"]]
    # a pickle of plain objects is data; one of an ML library's classes is a model
    (tmp_path / "cal.pkl").write_bytes(pickle.dumps(datetime.date(2024, 12, 25), protocol=4))
    # built by hand (never unpickled): a GLOBAL naming an ML library's class
    (tmp_path / "m.pkl").write_bytes(
        b"\x80\x02csklearn.linear_model\nLogisticRegression\nq\x00)\x81q\x01."
    )
    decisions: list = []
    obs, _ = scan_code(tmp_path, sorted(tmp_path.iterdir()), CAT, git=False, decisions=decisions)
    assert sum("pickle" in o.detail for o in obs) == 1
    assert any("cal.pkl" in d.subject and "non-ML" in d.reason for d in decisions)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe" * 100_000,  # binary garbage
        b"#separator \\x09\n#path\tdns\n#fields\tts\tquery\n"
        + b"A" * 3_000_000
        + b"\n",  # huge line
        b"#separator \\x09\n#path\tdns\n",  # Zeek without #fields
        b"vendor,description\n" + b'"unterminated\n' * 10,
        b'{"id.orig_h": "1", "query": "api.openai.com"}\n' + b"{" * 100_000 + b"\n",
        b"lineItem/ProductCode,lineItem/UnblendedCost\nAmazonBedrock,NaN-ish\n" + b'"x\n' * 50,
        b"service.description,sku.description,cost\n" + b"\xff\xfe,\x01\x02,1\n" * 100,
    ],
)
def test_hostile_inputs_become_findings(tmp_path: Path, content: bytes) -> None:
    reg = tmp_path / "reg.csv"
    reg.write_text("name,owner\nm,o\n")
    bad = tmp_path / "bad.log"
    bad.write_bytes(content)
    inv = discover(registry=str(reg), logs=[bad], git=False)
    ids = {f.id for f in inv.findings}
    assert ids <= {"AISEC-MON-006", "AISEC-MON-001"}
    assert inv.skipped or "AISEC-MON-001" in ids or not ids


def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, inventory_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "reg.csv"
    reg.write_text("name,owner\nm,o\n")
    for argv in (
        ["--registry", str(tmp_path / "missing.csv")],
        ["--registry", str(reg), "--logs", str(tmp_path / "nope")],
        ["--registry", str(reg), "--log-columns", "bogus"],
        ["--registry", str(tmp_path)],
    ):
        assert main(["inventory", "discover", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("aisec: error:") and err.count("\n") == 1, err


class _FakeMlflow(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, Any]] = {
        "": {
            "registered_models": [
                {
                    "name": "bot",
                    "tags": [{"key": "endpoint", "value": "api.openai.com"}],
                    "user_id": "alice",
                }
            ],
            "next_page_token": "p2",
        },
        "p2": {"registered_models": [{"name": "ranker", "latest_versions": [{"version": "2"}]}]},
    }

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlparse

        url = urlparse(self.path)
        if url.path != "/api/2.0/mlflow/registered-models/search":
            self.send_error(404)
            return
        token = parse_qs(url.query).get("page_token", [""])[0]
        body = json.dumps(self.pages[token]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mlflow_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeMlflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_mlflow_rest_registry_with_paging(mlflow_url: str) -> None:
    entries = load_registry(mlflow_url)
    assert [(e.name, e.owner, e.endpoint) for e in entries] == [
        ("bot", "alice", "api.openai.com"),
        ("ranker", None, None),
    ]
    with pytest.raises(InputError):
        load_registry(mlflow_url + "/missing")


def test_discover_against_mlflow(mlflow_url: str, tmp_path: Path) -> None:
    log = tmp_path / "proxy.csv"
    log.write_text("ts,user,url\n2026-01-01,ann,https://api.openai.com/v1/chat\n")
    doc = discover(registry=mlflow_url, logs=[log], git=False).to_json()
    assert doc["summary"] == {
        "systems": 2,
        "registered": 2,
        "shadow": 0,
        "by_kind": {"hosted-api-use": 1, "registered-internal": 1},
    }
    assert [i["role"] for i in doc["inputs"]] == ["logs"]  # a URL registry has no file digest


def test_every_rule_maps_to_catalog_ids() -> None:
    cat = load_catalog()
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        m = r.mappings
        cat.check_refs(
            atlas=m.atlas, owasp=m.owasp_llm, saif=m.saif, nist=m.nist_ai_rmf, iso=m.iso_42001
        )
        assert m.saif and m.nist_ai_rmf and m.iso_42001, r.id


def test_public_api() -> None:
    import aisec.monitoring as mon

    assert sorted(mon.__all__) == sorted(
        n
        for n in dir(mon)
        if not n.startswith("_")
        and n != "annotations"
        and not isinstance(getattr(mon, n), type(mon))
    )


def test_missing_extra_prints_the_install_line(
    inventory_cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    for name in [m for m in sys.modules if m.startswith("aisec.monitoring")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars now fails
    assert main(["inventory", "list"]) == 2
    assert "pip install 'aisec[inventory]'" in capsys.readouterr().err


def test_hostile_trail_conf_and_assets_are_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from aisec.core.errors import FormatError
    from aisec.monitoring import _billing, discover
    from aisec.monitoring._assets import load_assets

    monkeypatch.setattr(_billing, "_MAX_TRAIL", 4096)
    bomb = tmp_path / "logs" / "t.json.gz"
    bomb.parent.mkdir()
    bomb.write_bytes(gzip.compress(b'{"Records": [' + b" " * 100_000 + b"]}"))
    (tmp_path / "logs" / "squid.conf").write_text("logformat x %{ %% %[ %>\naccess_log a x\n")
    (tmp_path / "logs" / "access.log").write_text("\x00\x01 not squid\n")
    reg = tmp_path / "reg.csv"
    reg.write_text("id,name,endpoint\n")
    inv = discover(registry=str(reg), logs=[tmp_path / "logs"])
    reasons = " | ".join(s.reason for s in inv.skipped)
    assert "inflates past" in reasons and inv.systems == ()
    assert all("\n" not in s.reason for s in inv.skipped)
    bad = tmp_path / "assets.csv"
    bad.write_text("who,what\n1,2\n")
    with pytest.raises(FormatError, match="team column"):
        load_assets(bad)
