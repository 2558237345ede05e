"""The model registry (MLflow REST API or its JSON export, or a plain CSV) and SaaS lists."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Observation, RegistryEntry

__all__ = ["load_registry", "scan_saas"]

_MLFLOW_SEARCH = "/api/2.0/mlflow/registered-models/search"
_MAX_PAGES = 1000
_MAX_FIELD = 1 << 20
_MAX_JSON = 256 << 20  # a registry export this large is not one; refuse, don't exhaust memory


def _tags(items: object) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    if isinstance(items, list):
        for t in items:
            if isinstance(t, dict) and "key" in t:
                out[str(t["key"])] = str(t.get("value", ""))
    return out


def _from_mlflow(model: Mapping[str, Any], source: str) -> RegistryEntry:
    name = str(model.get("name") or "").strip()
    if not name:
        raise FormatError("registered model without a name", path=source)
    tags = _tags(model.get("tags"))
    versions = tuple(
        {k: v.get(k) for k in ("version", "source", "run_id", "current_stage", "status")}
        for v in model.get("latest_versions") or []
        if isinstance(v, dict)
    )
    return RegistryEntry(
        id=f"mlflow:{name}",
        name=name,
        owner=tags.get("owner") or model.get("user_id") or None,
        endpoint=tags.get("endpoint") or tags.get("provider") or None,
        kind=tags.get("kind") or None,
        description=str(model.get("description") or "")[:500],
        source=source,
        versions=versions,
    )


def _mlflow_http(url: str, *, token: str | None) -> list[RegistryEntry]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out: list[RegistryEntry] = []
    page: str | None = None
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30.0) as client:
        for _ in range(_MAX_PAGES):
            params: dict[str, str | int] = {"max_results": 1000}
            if page:
                params["page_token"] = page
            try:
                resp = client.get(_MLFLOW_SEARCH, params=params)
                resp.raise_for_status()
                body = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise InputError(f"MLflow registry {url}: {exc}") from exc
            if not isinstance(body, dict):
                raise FormatError(f"MLflow registry {url}: unexpected reply")
            out += [_from_mlflow(m, url) for m in body.get("registered_models") or []]
            page = body.get("next_page_token") or None
            if not page:
                break
    return out


def _read_json(path: Path) -> list[RegistryEntry]:
    if path.stat().st_size > _MAX_JSON:
        raise FormatError(f"registry JSON larger than {_MAX_JSON >> 20} MiB", path=path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"not a registry JSON export: {exc}", path=path) from exc
    models = data.get("registered_models") if isinstance(data, dict) else data
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise FormatError("registry JSON must hold a list of models", path=path)
    return [_from_mlflow(m, str(path)) for m in models]


def _read_csv(path: Path) -> list[RegistryEntry]:
    out = []
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for row in csv.DictReader(fh):
                low = {
                    str(k).strip().lower(): (v or "").strip()[:_MAX_FIELD] for k, v in row.items()
                }
                if not low.get("name"):
                    continue
                out.append(
                    RegistryEntry(
                        id=low.get("id") or f"csv:{low['name']}",
                        name=low["name"],
                        owner=low.get("owner") or None,
                        endpoint=low.get("endpoint") or low.get("provider") or None,
                        kind=low.get("kind") or None,
                        description=low.get("description", "")[:500],
                        source=str(path),
                    )
                )
    except (OSError, csv.Error) as exc:
        raise FormatError(f"cannot read registry CSV: {exc}", path=path) from exc
    return out


def load_registry(source: str, *, token: str | None = None) -> list[RegistryEntry]:
    """Registry entries from an MLflow URL (``http(s)://…``), a JSON export or a CSV file."""
    if source.startswith(("http://", "https://")):
        return _mlflow_http(source, token=token)
    from aisec.monitoring._detect import detect_format

    path = Path(source)
    if not path.is_file():
        raise InputError("registry not found", path=path)
    fmt = detect_format(path)
    if fmt == "registry-json":
        return _read_json(path)
    if fmt == "registry-csv":
        return _read_csv(path)
    raise FormatError(f"not a model registry (looks like {fmt})", path=path)


def scan_saas(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    """SaaS subscriptions whose vendor or description the catalogue knows as AI."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                low = {
                    str(k).strip().lower(): (v or "").strip()[:_MAX_FIELD] for k, v in row.items()
                }
                vendor = low.get("vendor", "")
                text = " ".join(low.get(k, "") for k in ("product", "description"))
                hit = catalog.match_saas(vendor, text)
                if hit is None:
                    continue
                key = hit.id if hit.vendors else f"saas:{vendor.lower()}"
                name = hit.name if hit.vendors else (low.get("product") or vendor)
                cost = low.get("annual_cost") or low.get("cost") or "0"
                try:
                    value = float(cost.replace(",", ""))
                except ValueError:
                    value = 0.0
                yield Observation(
                    key=key,
                    name=name,
                    kind=hit.kind,
                    provider=hit.id,
                    source="saas",
                    file=str(path),
                    location=f"row {n}",
                    owner=low.get("owner") or None,
                    cost_centre=low.get("department") or low.get("cost_center") or None,
                    first_seen=low.get("start_date") or None,
                    cost=value,
                    identifiers=(vendor.lower(), name.lower()),
                    detail=text.strip()[:200],
                )
    except (OSError, csv.Error) as exc:
        raise FormatError(f"cannot read SaaS list: {exc}", path=path) from exc
