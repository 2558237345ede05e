"""Prediction targets that never unpickle: ONNX (onnxruntime), an HTTP endpoint, skops.

Every target answers ``predict_proba(x) -> (n, classes)`` and counts the rows it was asked
about (the query budget an attacker pays). Its ``digest`` is what the validation is bound to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from aisec.core.digest import digest_file, parse_digest
from aisec.core.errors import FormatError, InputError

__all__ = [
    "CallableTarget",
    "HttpTarget",
    "OnnxTarget",
    "SkopsTarget",
    "Target",
    "as_probabilities",
]

Array = NDArray[np.float64]
HttpProtocol = Literal["json", "kserve-v2", "mlflow"]
_MAX_RESPONSE = 64 * 1024 * 1024
#: skops loads only types it trusts by default plus these (never arbitrary callables)
_SKOPS_EXTRA_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")


class Target(Protocol):
    name: str
    kind: str
    digest: str
    queries: int

    def predict_proba(self, x: Array) -> Array: ...


def as_probabilities(raw: Any, n: int) -> Array:
    """Scores as an ``(n, classes)`` array; one column (or a flat vector) is P(positive)."""
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"the model's scores are not numbers: {exc}") from None
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        arr = arr.reshape(-1)
        arr = np.stack([1.0 - arr, arr], axis=1)
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 2:
        raise FormatError(f"the model returned scores of shape {arr.shape} for {n} rows")
    if not np.all(np.isfinite(arr)):
        raise FormatError("the model returned scores that are not finite")
    return arr


@dataclass
class CallableTarget:
    """A Python callable (tests, benches, models already in memory) with a digest given."""

    fn: Any
    digest: str
    name: str = "in-memory model"
    kind: str = "callable"
    queries: int = 0

    def predict_proba(self, x: Array) -> Array:
        self.queries += len(x)
        return as_probabilities(self.fn(np.asarray(x)), len(x))


@dataclass
class OnnxTarget:
    """An ONNX model run by onnxruntime (no Python code in the file runs)."""

    path: Path
    name: str = ""
    kind: str = "onnx"
    digest: str = ""
    queries: int = 0
    _session: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import onnxruntime as ort

        if not self.path.is_file():
            raise InputError(f"{self.path}: no such ONNX file", path=self.path)
        self.name = self.name or self.path.name
        self.digest = digest_file(self.path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(self.path), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise FormatError(f"{self.path}: not a loadable ONNX model: {exc}") from None

    def predict_proba(self, x: Array) -> Array:
        self.queries += len(x)
        sess = self._session
        feed = {sess.get_inputs()[0].name: np.asarray(x, dtype=np.float32)}
        outputs = sess.run(None, feed)
        for meta, out in zip(sess.get_outputs(), outputs, strict=True):
            if isinstance(out, list) and out and isinstance(out[0], dict):  # skl2onnx ZipMap
                keys = sorted(out[0])
                return as_probabilities([[row[k] for k in keys] for row in out], len(x))
            arr = np.asarray(out)
            if arr.dtype.kind == "f" and "prob" in meta.name.lower():
                return as_probabilities(arr, len(x))
        floats = [np.asarray(o) for o in outputs if np.asarray(o).dtype.kind == "f"]
        if not floats:
            raise FormatError(f"{self.path}: the ONNX model has no score output")
        return as_probabilities(floats[-1], len(x))


def _dotted(data: Any, path: str) -> Any:
    cur = data
    for part in path.split(".") if path else ():
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            raise FormatError(f"the endpoint's reply has no {path!r}")
    return cur


@dataclass
class HttpTarget:
    """A prediction endpoint: generic JSON (configurable paths), KServe v2 / OIP, MLflow."""

    url: str
    digest: str
    protocol: HttpProtocol = "json"
    input_path: str = "instances"
    output_path: str = "predictions"
    model_name: str = "model"
    batch: int = 256
    timeout: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    kind: str = "http"
    queries: int = 0
    _client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import httpx

        if not self.url.startswith(("http://", "https://")):
            raise InputError(f"{self.url}: the endpoint must be an http(s) URL")
        self.digest = parse_digest(self.digest)
        self.name = self.name or self.url
        self._client = httpx.Client(timeout=self.timeout, headers=self.headers)

    def close(self) -> None:
        self._client.close()

    def _body(self, rows: Array) -> tuple[str, dict[str, Any]]:
        if self.protocol == "kserve-v2":
            url = self.url.rstrip("/")
            if "/v2/models/" not in url:
                url = f"{url}/v2/models/{self.model_name}/infer"
            tensor = {
                "name": "input-0",
                "shape": list(rows.shape),
                "datatype": "FP64",
                "data": rows.reshape(-1).tolist(),
            }
            return url, {"inputs": [tensor]}
        if self.protocol == "mlflow":
            url = self.url.rstrip("/")
            url = url if url.endswith("/invocations") else url + "/invocations"
            return url, {"inputs": rows.tolist()}
        body: dict[str, Any] = {}
        cur = body
        parts = self.input_path.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = rows.tolist()
        return self.url, body

    def _scores(self, data: Any, n: int) -> Any:
        if self.protocol == "kserve-v2":
            outs = _dotted(data, "outputs")
            if not isinstance(outs, list) or not outs:
                raise FormatError("the KServe v2 reply has no outputs")
            chosen = next(
                (o for o in outs if isinstance(o, dict) and "prob" in str(o.get("name", ""))),
                outs[-1],
            )
            shape = chosen.get("shape") if isinstance(chosen, dict) else None
            flat = np.asarray(_dotted(chosen, "data"), dtype=np.float64)
            return flat.reshape(shape) if isinstance(shape, list) else flat.reshape(n, -1)
        path = "predictions" if self.protocol == "mlflow" else self.output_path
        return _dotted(data, path)

    def predict_proba(self, x: Array) -> Array:
        import httpx

        rows = np.asarray(x, dtype=np.float64)
        parts = []
        for start in range(0, len(rows), self.batch):
            chunk = rows[start : start + self.batch]
            url, body = self._body(chunk)
            self.queries += len(chunk)
            try:
                resp = self._client.post(url, json=body)
            except httpx.HTTPError as exc:
                raise InputError(f"{url}: the endpoint did not answer: {exc}") from None
            if resp.status_code != 200:
                raise InputError(f"{url}: the endpoint answered HTTP {resp.status_code}")
            if len(resp.content) > _MAX_RESPONSE:
                raise FormatError(f"{url}: the reply is larger than {_MAX_RESPONSE} bytes")
            try:
                data = json.loads(resp.content)
            except ValueError:
                raise FormatError(f"{url}: the reply is not JSON") from None
            parts.append(as_probabilities(self._scores(data, len(chunk)), len(chunk)))
        return np.concatenate(parts) if parts else np.zeros((0, 2))


def skops_untrusted(path: Path, trusted: Sequence[str] = ()) -> list[str]:
    """The types in a skops file that neither skops' defaults nor ``trusted`` allow."""
    import skops.io as sio

    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise FormatError(f"{path}: not a readable skops file: {exc}") from None
    return [t for t in found if t not in trusted]


@dataclass
class SkopsTarget:
    """A skops file loaded only when every type in it is allowed (nothing is unpickled)."""

    path: Path
    trusted: tuple[str, ...] = ()
    name: str = ""
    kind: str = "skops"
    digest: str = ""
    queries: int = 0
    _model: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import skops.io as sio

        if not self.path.is_file():
            raise InputError(f"{self.path}: no such skops file", path=self.path)
        for t in self.trusted:
            if not t.startswith(_SKOPS_EXTRA_PREFIXES):
                raise InputError(
                    f"type {t!r} cannot be trusted: only {', '.join(_SKOPS_EXTRA_PREFIXES)} types"
                )
        self.name = self.name or self.path.name
        self.digest = digest_file(self.path)
        bad = skops_untrusted(self.path, self.trusted)
        if bad:
            raise FormatError(
                f"{self.path}: refusing to load types that are not allowed: {', '.join(bad)}"
            )
        try:
            self._model = sio.load(self.path, trusted=list(self.trusted) or None)
        except Exception as exc:
            raise FormatError(f"{self.path}: the skops file does not load: {exc}") from None
        if not hasattr(self._model, "predict_proba"):
            raise FormatError(f"{self.path}: the model has no predict_proba")

    def predict_proba(self, x: Array) -> Array:
        self.queries += len(x)
        return as_probabilities(self._model.predict_proba(np.asarray(x)), len(x))
