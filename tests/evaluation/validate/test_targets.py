"""Targets that never unpickle: ONNX, skops with allowed types only, HTTP endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aisec.core.errors import FormatError, InputError
from aisec.evaluation.validate._targets import HttpTarget, OnnxTarget, SkopsTarget

from .conftest import to_onnx

D = "sha256:" + "cd" * 32


def test_onnx_target_matches_the_model(cancer: dict[str, Any], tmp_path: Path) -> None:
    model = cancer["fair"]
    path = to_onnx(model, cancer["x"].shape[1], tmp_path / "m.onnx")
    t = OnnxTarget(path)
    x = cancer["x"][:50]
    assert np.allclose(t.predict_proba(x), model.predict_proba(x), atol=1e-4)
    assert t.queries == 50 and t.digest.startswith("sha256:")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08not onnx")
    with pytest.raises(FormatError, match="not a loadable ONNX"):
        OnnxTarget(bad)


def test_skops_loads_allowed_types_and_refuses_others(
    cancer: dict[str, Any], tmp_path: Path
) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer  # type: ignore[import-untyped]

    path = tmp_path / "m.skops"
    sio.dump(cancer["fair"], path)
    t = SkopsTarget(path)
    assert np.allclose(
        t.predict_proba(cancer["x"][:5]), cancer["fair"].predict_proba(cancer["x"][:5])
    )
    marker = tmp_path / "marker"
    hostile = tmp_path / "hostile.skops"
    sio.dump(FunctionTransformer(func=eval, kw_args={"x": f"open({str(marker)!r}, 'w')"}), hostile)
    with pytest.raises(FormatError, match=r"not allowed: builtins\.eval"):
        SkopsTarget(hostile)
    with pytest.raises(InputError, match="cannot be trusted"):
        SkopsTarget(hostile, trusted=("builtins.eval",))
    assert not marker.exists()


class _Server(BaseHTTPRequestHandler):
    model: Any = None

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/garbage":
            reply = b"<html>"
        elif self.path.startswith("/v2/models/"):
            t = body["inputs"][0]
            x = np.asarray(t["data"]).reshape(t["shape"])
            p = self.model.predict_proba(x)
            out = {
                "name": "probabilities",
                "shape": list(p.shape),
                "datatype": "FP64",
                "data": p.reshape(-1).tolist(),
            }
            reply = json.dumps({"model_name": "m", "outputs": [out]}).encode()
        else:
            x = np.asarray(body["req"]["rows"])
            reply = json.dumps({"out": {"scores": self.model.predict_proba(x).tolist()}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture
def server(cancer: dict[str, Any]) -> Iterator[str]:
    handler = type("H", (_Server,), {"model": cancer["fair"]})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_http_json_and_kserve_v2(server: str, cancer: dict[str, Any]) -> None:
    x = cancer["x"][:30]
    want = cancer["fair"].predict_proba(x)
    generic = HttpTarget(
        f"{server}/predict", D, input_path="req.rows", output_path="out.scores", batch=7
    )
    assert np.allclose(generic.predict_proba(x), want) and generic.queries == 30
    kserve = HttpTarget(server, D, protocol="kserve-v2", model_name="m")
    assert np.allclose(kserve.predict_proba(x), want)
    with pytest.raises(FormatError, match="not JSON"):
        HttpTarget(f"{server}/garbage", D).predict_proba(x)
    with pytest.raises(FormatError, match="has no 'nope'"):
        HttpTarget(f"{server}/predict", D, input_path="req.rows", output_path="nope").predict_proba(
            x
        )
    with pytest.raises(InputError):
        HttpTarget(server, "not-a-digest")
    for t in (generic, kserve):
        t.close()
