"""The model registry (MLflow REST API or its JSON export, or a plain CSV) and SaaS lists."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Decision, Observation, RegistryEntry

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
    rid = tags.get("registry_id") or tags.get("id")
    versions = tuple(
        {k: v.get(k) for k in ("version", "source", "run_id", "current_stage", "status")}
        for v in model.get("latest_versions") or []
        if isinstance(v, dict)
    )
    version = next((str(v.get("version")) for v in versions if v.get("version")), "")
    return RegistryEntry(
        id=rid or f"mlflow:{name}",
        name=name,
        owner=tags.get("owner") or model.get("user_id") or None,
        endpoint=tags.get("endpoint") or None,
        kind=tags.get("kind") or None,
        team=tags.get("team") or None,
        provider=tags.get("provider") or None,
        model=tags.get("model") or f"{name} v{version}".strip(),
        aliases=(f"mlflow:{name}", name) if rid else (),
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
                        owner=low.get("owner") or low.get("owner_email") or None,
                        endpoint=low.get("endpoint") or None,
                        kind=low.get("kind") or None,
                        team=low.get("team") or low.get("department") or None,
                        provider=low.get("provider") or None,
                        model=low.get("model") or None,
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


_INACTIVE = re.compile(r"cancel|expired|ended|terminated|inactive|churn|lapsed|suspended|retired")
_NEGATED = re.compile(
    r"\b(disabled|not (?:purchased|licen[cs]ed|enabled|bought|active|included)|unlicen[cs]ed|"
    r"turned off|switched off|opted out|off|none|no)\b"
)
_ENABLED = re.compile(
    r"\b(enabled|(?<!-)on|active|licen[cs]ed|licen[cs]es?|seats?|purchased|included|yes|"
    r"in use|live)\b"
)


def _status_ok(status: str) -> tuple[bool, str]:
    s = status.strip().lower()
    if not s:
        return True, "no status column"
    if _INACTIVE.search(s):
        return False, f"subscription {s}"
    return True, s


def scan_saas(
    path: Path, catalog: AiCatalog, decisions: list[Decision] | None = None
) -> Iterator[Observation]:
    """SaaS subscriptions that are AI systems, by the catalogue's product facts.

    A row counts when the product bought is an AI product (or names its AI add-on), or when
    the row states an AI feature enabled; and when the subscription is active or an active
    trial. A vendor's API bought on a card is evidence for that provider's API use, not a
    new system. Every row rejected although it looked like AI is a :class:`Decision`.
    """
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                low = {
                    str(k).strip().lower(): (v or "").strip()[:_MAX_FIELD] for k, v in row.items()
                }
                obs = _saas_row(path, n, low, catalog, decisions)
                if obs is not None:
                    yield obs
    except (OSError, csv.Error) as exc:
        raise FormatError(f"cannot read SaaS list: {exc}", path=path) from exc


def _saas_row(
    path: Path,
    n: int,
    low: dict[str, str],
    catalog: AiCatalog,
    decisions: list[Decision] | None,
) -> Observation | None:
    vendor = low.get("vendor") or low.get("publisher") or low.get("supplier") or ""
    product = (
        low.get("product") or low.get("application") or low.get("app") or low.get("name") or ""
    )
    features = (
        low.get("ai_features")
        or low.get("ai_feature")
        or low.get("ai_status")
        or low.get("ai")
        or ""
    ).lower()
    billing = (low.get("billing_method") or low.get("payment_method") or "").lower()
    team = (
        low.get("department")
        or low.get("team")
        or low.get("business_unit")
        or low.get("cost_center")
        or None
    )
    if "status" not in low:
        low["status"] = low.get("state") or low.get("subscription_status") or ""
    subject = f"{vendor} {product}".strip()
    # "not licensed" is off, "enabled, no training on our data" is on: the first word decides
    neg, pos = _NEGATED.search(features), _ENABLED.search(features)
    feature_off = neg is not None and (pos is None or neg.start() <= pos.start())
    feature_on = pos is not None and not feature_off
    ok, status = _status_ok(low.get("status", ""))
    hit = catalog.match_saas(vendor, product)
    api_like = re.search(r"\b(api|credits?|platform|tokens?)\b", product.lower()) is not None
    api = catalog.lookup_id(vendor) if api_like or ("card" in billing and hit is None) else None
    provider = catalog.providers.get(api or "") if api else None
    looks_ai = (
        hit is not None
        or feature_on
        or provider is not None
        or bool(re.search(r"(?<![a-z])ai(?![a-z])|\.ai\b|^ai", f"{vendor} {product}".lower()))
    )

    def reject(reason: str) -> None:
        if decisions is not None and looks_ai:
            decisions.append(Decision(subject, reason, str(path), f"row {n}"))

    if not ok:
        reject(f"{status}: not in use")
        return None
    cost = low.get("annual_cost") or low.get("cost") or "0"
    try:
        value = float(cost.replace(",", ""))
    except ValueError:
        value = 0.0
    base: dict[str, Any] = {
        "source": "saas",
        "file": str(path),
        "location": f"row {n}",
        "owner": low.get("owner_email") or low.get("owner") or None,
        "team": team,
        "first_seen": low.get("contract_start") or low.get("start_date") or None,
        "cost": value,
        "detail": f"{product} ({status}; AI features: {features or 'not stated'})"[:200],
    }
    if provider is not None and ("card" in billing or not hit):
        # API credits: evidence for the hosted API the team calls, never a SaaS system
        return Observation(
            key=f"prov:{provider.id}",
            name=provider.name,
            kind=provider.kind,
            provider=provider.id,
            identifiers=(product, vendor),
            soft=(f"prov:{provider.id}",),
            **base,
        )
    if hit is not None:
        if feature_off:
            reject(f"{hit.name}: the AI feature is stated off ({features})")
            return None
        named = any(
            re.search(rf"(?<![a-z0-9]){re.escape(f)}(?![a-z0-9])", product.lower())
            for f in (*hit.features, *hit.products)
        )
        if hit.ai_product or named or feature_on:
            return Observation(
                key=f"saas:{hit.id}",
                name=product or hit.name,
                kind=hit.kind,
                provider=hit.id,
                identifiers=(product, vendor, hit.name),
                keys=(f"saas:{hit.id}",),
                **base,
            )
        reject(
            f"{hit.name} is not bought with this subscription "
            f"(no add-on named, AI features: {features or 'not stated'})"
        )
        return None
    if feature_on:
        pid = re.sub(r"[^a-z0-9]+", "-", f"{vendor} {product}".lower()).strip("-")
        return Observation(
            key=f"saas:{pid}",
            name=product or vendor,
            kind="saas-ai-feature",
            provider=pid,
            identifiers=(product, vendor),
            keys=(f"saas:{pid}",),
            **base,
        )
    reject("AI only in the name, domain or marketing copy: no AI product or enabled AI feature")
    return None
