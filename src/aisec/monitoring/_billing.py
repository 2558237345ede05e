"""Billing and cloud-audit evidence: AWS CUR (CSV or Parquet, legacy and 2.0 columns), GCP
billing export, Azure cost-management export, AWS CloudTrail.

Billing files are read with Polars (only the columns that name a service, a resource, an
account, a region, tags, a date and a cost), grouped per resource before matching. Every
tagged or named resource becomes an observation: an AI service's as ``ai`` evidence, GPU
compute as ``support`` (a GPU is AI only when other evidence shows a model on it) and any
other resource as ``resource`` (evidence only for a registry entry that names it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from aisec.core.errors import FormatError
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Decision, Observation

__all__ = ["scan_billing", "scan_cloudtrail"]

_TEAM_TAGS = (
    "team",
    "owner_team",
    "owner-team",
    "department",
    "costcenter",
    "cost-center",
    "cost_center",
)
_PROJECT_TAGS = ("project", "application", "app", "workload", "service")
_AWS = {
    "product": ("lineitem/productcode", "line_item_product_code"),
    "resource": ("lineitem/resourceid", "line_item_resource_id"),
    "instance": ("product/instancetype", "product_instance_type"),
    "usage": ("lineitem/usagetype", "line_item_usage_type"),
    "account": ("lineitem/usageaccountid", "line_item_usage_account_id"),
    "region": ("product/region", "product_region_code", "product/regioncode"),
    "cost": ("lineitem/unblendedcost", "line_item_unblended_cost"),
    "date": ("lineitem/usagestartdate", "line_item_usage_start_date"),
}
_GCP = {
    "product": ("service.description", "service_description"),
    "sku": ("sku.description", "sku_description"),
    "project": ("project.id", "project_id"),
    "labels": ("labels",),
    "plabels": ("project.labels", "project_labels"),
    "resource": ("resource.name", "resource_name"),
    "region": ("location.region", "location_region"),
    "cost": ("cost",),
    "date": ("usage_start_time", "usage_start_date"),
}
_AZURE = {
    "product": ("metercategory", "meter_category"),
    "sub": ("metersubcategory", "meter_sub_category"),
    "consumed": ("consumedservice", "consumed_service"),
    "pname": ("productname", "product_name", "product"),
    "meter": ("metername", "meter_name"),
    "subscription": ("subscriptionname", "subscription_name", "subscriptionid", "subscription_id"),
    "group": ("resourcegroup", "resource_group", "resourcegroupname"),
    "resource": ("resourcename", "resource_name"),
    "rid": ("resourceid", "resource_id", "instanceid", "instance_id"),
    "region": ("resourcelocation", "resource_location", "location"),
    "tags": ("tags",),
    "centre": ("costcenter", "cost_center"),
    "cost": ("costinbillingcurrency", "cost_in_billing_currency", "pretaxcost", "cost"),
    "date": ("date", "usagedatetime", "usage_date"),
}
_AWS_REGION_PREFIX = {
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "EU": "eu-west-1",
    "EUW1": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "EUC1": "eu-central-1",
    "EUN1": "eu-north-1",
    "EUS1": "eu-south-1",
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "CAN1": "ca-central-1",
    "SAE1": "sa-east-1",
    "UGW1": "us-gov-west-1",
}  # the public usage-type region codes AWS documents for CUR


def _columns(names: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    lower = {n.lower(): n for n in names}
    return {role: next((lower[a] for a in alts if a in lower), None) for role, alts in spec.items()}


def _scan(path: Path) -> pl.LazyFrame:
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)


def _read(
    path: Path, spec: dict[str, tuple[str, ...]], extra: tuple[str, ...] = ()
) -> pl.DataFrame:
    """The rows of a billing file grouped by every column but cost and date."""
    try:
        lf = _scan(path)
        names = lf.collect_schema().names()
        cols = _columns(names, spec)
        if cols["product"] is None:
            raise FormatError("billing file without a service/product column", path=path)
        tag_cols = [
            n
            for n in names
            if n.lower().startswith(
                ("resourcetags/", "resource_tags", "labels.", "project.labels.", "tags.", "tag_")
            )
            and n.lower() not in ("labels", "project.labels", "tags")
        ]
        tag_cols += [n for n in names if n in extra]
        exprs = [
            (pl.col(c).cast(pl.String) if c else pl.lit(None, pl.String)).alias(role)
            for role, c in cols.items()
        ]
        exprs += [pl.col(c).cast(pl.String).alias(f"tag:{c}") for c in tag_cols]
        keys = [r for r in cols if r not in ("cost", "date")] + [f"tag:{c}" for c in tag_cols]
        return (
            lf.select(exprs)
            .with_columns(pl.col("cost").cast(pl.Float64, strict=False).fill_null(0.0))
            .group_by(keys)
            .agg(
                pl.len().alias("count"),
                pl.col("cost").sum(),
                pl.col("date").min().alias("first"),
                pl.col("date").max().alias("last"),
            )
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise FormatError(f"cannot parse billing file: {msg}", path=path) from exc


def _tags_of(row: dict[str, Any]) -> dict[str, str]:
    """AWS ``resourceTags/user:team`` columns (and 2.0's map column) as {tag: value}."""
    out: dict[str, str] = {}
    for k, v in row.items():
        if k.startswith("tag:") and v:
            name = k[4:].split(":", 1)[-1].split("/", 1)[-1]
            name = re.sub(r"^(resource_tags_(user_)?|(project\.)?labels\.|tags\.|tag_)", "", name)
            if v.startswith("{"):
                out.update(_json_tags(v))
            else:
                out[name.lower()] = v
    return out


def _json_tags(text: str | None) -> dict[str, str]:
    """Tags or labels as JSON: ``{"k": "v"}`` or ``[{"key": k, "value": v}]``."""
    if not text:
        return {}
    body = text.strip()
    if body and body[0] not in "{[":
        body = "{" + body + "}"  # older Azure exports: "k": "v", "k2": "v2" without braces
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return {}
    if isinstance(data, dict):
        return {str(k).lower(): str(v) for k, v in data.items()}
    if isinstance(data, list):
        return {
            str(d.get("key")).lower(): str(d.get("value"))
            for d in data
            if isinstance(d, dict) and "key" in d
        }
    return {}


def _pick(tags: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((tags[n] for n in names if tags.get(n)), None)


def _obs(path: Path, fmt: str, row: dict[str, Any], **kw: Any) -> Observation:
    return Observation(
        source="billing",
        file=str(path),
        location=fmt,
        count=int(row["count"]),
        first_seen=row.get("first") or None,
        last_seen=row.get("last") or None,
        cost=float(row["cost"] or 0.0),
        **kw,
    )


def _aws_region(row: dict[str, Any], resource: str) -> str | None:
    if row.get("region"):
        return str(row["region"])
    m = re.match(r"arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):", resource)
    if m and m.group(1):
        return m.group(1)
    prefix = str(row.get("usage") or "").split("-", 1)[0]
    return _AWS_REGION_PREFIX.get(prefix)


def _aws(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    for row in _read(path, _AWS).iter_rows(named=True):
        product = row["product"] or ""
        resource = row["resource"] or ""
        account = row["account"] or ""
        tags = _tags_of(row)
        team = _pick(tags, _TEAM_TAGS)
        project = _pick(tags, _PROJECT_TAGS)
        name_tag = tags.get("name")
        region = _aws_region(row, resource)
        names = tuple(x for x in (resource, name_tag, project) if x)
        tag_keys = tuple(f"tag:{x.lower()}" for x in (name_tag, project) if x)
        if name_tag:  # an instance's Name tag is the host name other evidence uses
            tag_keys += (f"host:{name_tag.lower()}",)
        service = catalog.cloud_service("aws", product)
        base = {"team": team, "owner": tags.get("owner"), "identifiers": names}
        if service is not None:
            sid = service.id
            keys: list[str] = [f"aws:{sid}:{account}:{region}"]
            if sid == "aws-sagemaker" and "/" in resource:
                keys = [f"aws-endpoint:{resource.rsplit('/', 1)[-1].lower()}"]
            yield _obs(
                path,
                "aws-cur",
                row,
                key=keys[0],
                name=catalog.service_name(sid),
                kind=catalog.providers[sid].kind if sid in catalog.providers else "hosted-api-use",
                provider=sid,
                detail=f"{product} {row['usage'] or ''} {resource}".strip(),
                keys=(*keys, *tag_keys),
                soft=(f"region:{sid}:{region}", f"prov:{sid}") if region else (f"prov:{sid}",),
                **{**base, "identifiers": (*names, f"{product}", str(row["usage"] or ""))},
            )
        elif row["instance"] and catalog.is_gpu_instance("aws", row["instance"]):
            yield _obs(
                path,
                "aws-cur",
                row,
                key=(tag_keys or (f"aws-resource:{resource}",))[0],
                name=f"GPU compute ({name_tag or project or resource})",
                kind="self-hosted-model",
                provider="aws-ec2-gpu",
                detail=f"{row['instance']} {resource}".strip(),
                keys=tag_keys,
                role="support",
                **base,
            )
        elif tag_keys or name_tag:
            yield _obs(
                path,
                "aws-cur",
                row,
                key=tag_keys[0] if tag_keys else f"aws-resource:{resource}",
                name=name_tag or project or resource,
                kind="registered-internal",
                provider=product,
                detail=f"{product} {row['instance'] or ''} {resource}".strip(),
                keys=tag_keys,
                role="resource",
                **base,
            )


def _gcp(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    for row in _read(path, _GCP).iter_rows(named=True):
        product = row["product"] or ""
        sku = row["sku"] or ""
        project = row["project"] or "billing-account"
        labels = {
            **_json_tags(row.get("plabels")),
            **_json_tags(row.get("labels")),
            **_tags_of(row),
        }
        team = _pick(labels, _TEAM_TAGS)
        service = catalog.cloud_service("gcp", product)
        base = {"team": team, "owner": labels.get("owner")}
        if service is not None:
            sid = service.id
            yield _obs(
                path,
                "gcp-billing",
                row,
                key=f"gcp:{sid}:{project}",
                name=f"{catalog.service_name(sid)} ({project})",
                kind=catalog.providers[sid].kind if sid in catalog.providers else "hosted-api-use",
                provider=sid,
                detail=f"{product}: {sku}",
                identifiers=(project, product),
                keys=(f"gcp:{sid}:{project}", f"tag:{project.lower()}"),
                soft=(f"prov:{sid}",),
                **base,
            )
        elif catalog.is_gpu_sku(sku) and product.lower() in ("compute engine", "kubernetes engine"):
            yield _obs(
                path,
                "gcp-billing",
                row,
                key=f"tag:{project.lower()}",
                name=f"GPU compute ({project})",
                kind="self-hosted-model",
                provider="gcp-compute-gpu",
                detail=sku,
                identifiers=(project,),
                keys=(f"tag:{project.lower()}",),
                role="support",
                **base,
            )
        else:
            yield _obs(
                path,
                "gcp-billing",
                row,
                key=f"tag:{project.lower()}",
                name=project,
                kind="registered-internal",
                provider=product,
                detail=f"{product}: {sku}",
                identifiers=(project,),
                keys=(f"tag:{project.lower()}",),
                role="resource",
                **base,
            )


def _azure(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    for row in _read(path, _AZURE).iter_rows(named=True):
        texts = [row.get(k) or "" for k in ("sub", "product", "consumed", "pname")]
        service = next((s for t in texts if (s := catalog.cloud_service("azure", t))), None)
        tags = {**_json_tags(row.get("tags")), **_tags_of(row)}
        team = _pick(tags, _TEAM_TAGS) or row.get("centre") or None
        resource = row.get("resource") or str(row.get("rid") or "").rsplit("/", 1)[-1]
        project = _pick(tags, _PROJECT_TAGS)
        names = tuple(x for x in (resource, row.get("rid"), project, row.get("group")) if x)
        tag_keys = tuple(f"tag:{x.lower()}" for x in (resource, project) if x)
        base = {"team": team, "owner": tags.get("owner"), "identifiers": names}
        what = f"{row.get('product') or ''}/{row.get('sub') or ''} {row.get('meter') or ''}".strip()
        if service is not None:
            sid = service.id
            yield _obs(
                path,
                "azure-cost",
                row,
                key=f"res:{sid}:{resource.lower()}",
                name=f"{catalog.service_name(sid)} ({resource})",
                kind=catalog.providers[sid].kind if sid in catalog.providers else "hosted-api-use",
                provider=sid,
                detail=f"{what} in {row.get('subscription') or '?'} / {row.get('group') or '?'}",
                keys=(f"res:{sid}:{resource.lower()}", *tag_keys),
                soft=(f"prov:{sid}",),
                **base,
            )
        elif catalog.is_gpu_instance("azure", str(row.get("meter") or "").replace(" ", "_")):
            yield _obs(
                path,
                "azure-cost",
                row,
                key=tag_keys[0] if tag_keys else f"azure:{resource}",
                name=f"GPU compute ({resource})",
                kind="self-hosted-model",
                provider="azure-gpu",
                detail=what,
                keys=tag_keys,
                role="support",
                **base,
            )
        elif resource:
            yield _obs(
                path,
                "azure-cost",
                row,
                key=tag_keys[0] if tag_keys else f"azure:{resource}",
                name=resource,
                kind="registered-internal",
                provider=str(row.get("product") or ""),
                detail=what,
                keys=tag_keys,
                role="resource",
                **base,
            )


def scan_billing(path: Path, fmt: str, catalog: AiCatalog) -> Iterator[Observation]:
    """Observations of AI services, GPU compute and named resources in one billing export."""
    if fmt == "aws-cur":
        return _aws(path, catalog)
    if fmt == "gcp-billing":
        return _gcp(path, catalog)
    if fmt == "azure-cost":
        return _azure(path, catalog)
    raise FormatError(f"not a billing export ({fmt})", path=path)


_MAX_TRAIL = 256 << 20
_MANAGEMENT = re.compile(r"^(List|Get|Describe|Search|Head|Check|Validate)[A-Z]")


def scan_cloudtrail(
    path: Path, catalog: AiCatalog, decisions: list[Decision] | None = None
) -> Iterator[Observation]:
    """AI service API calls in one CloudTrail file (``{"Records": [...]}``, optionally gzip).

    Invocations become observations; read-only management calls (``List*``, ``Get*``,
    ``Describe*``) are recorded as decisions: they show an inventory tool, not AI use.
    """
    import gzip

    if path.stat().st_size > _MAX_TRAIL:
        raise FormatError(f"CloudTrail file larger than {_MAX_TRAIL >> 20} MiB", path=path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:  # bounded: a gzip bomb stops at the limit instead of filling memory
            with gzip.open(path, "rb") as fh:
                raw = fh.read(_MAX_TRAIL + 1)
        except (OSError, EOFError) as exc:
            raise FormatError(f"not a gzip CloudTrail file: {exc}", path=path) from exc
        if len(raw) > _MAX_TRAIL:
            raise FormatError(f"CloudTrail file inflates past {_MAX_TRAIL >> 20} MiB", path=path)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise FormatError(f"not a CloudTrail JSON file: {exc}", path=path) from exc
    records = data.get("Records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise FormatError("CloudTrail file without a Records list", path=path)
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    mgmt: dict[tuple[str, str], set[str]] = {}
    for r in records:
        if not isinstance(r, dict):
            continue
        service = catalog.event_service(str(r.get("eventSource") or ""))
        if service is None:
            continue
        event = str(r.get("eventName") or "")
        ui = r.get("userIdentity")
        ident: dict[str, Any] = ui if isinstance(ui, dict) else {}
        principal = str(ident.get("arn") or ident.get("principalId") or "")
        if _MANAGEMENT.match(event) or r.get("readOnly") is True:
            mgmt.setdefault((service.id, principal), set()).add(event)
            continue
        rp = r.get("requestParameters")
        params: dict[str, Any] = rp if isinstance(rp, dict) else {}
        account = str(r.get("recipientAccountId") or ident.get("accountId") or "")
        region = str(r.get("awsRegion") or "")
        target = str(params.get("endpointName") or params.get("modelId") or "")
        key = (service.id, account, region, target, str(r.get("sourceIPAddress") or ""), principal)
        g = groups.setdefault(key, {"count": 0, "events": set(), "first": None, "last": None})
        g["count"] += 1
        g["events"].add(event)
        t = str(r.get("eventTime") or "") or None
        if t:
            g["first"] = min(g["first"] or t, t)
            g["last"] = max(g["last"] or t, t)
    for (sid, account, region, target, ip, principal), g in groups.items():
        keys = [f"aws:{sid}:{account}:{region}"]
        if sid == "aws-sagemaker" and target:
            keys = [f"aws-endpoint:{target.lower()}"]
        role = principal.rsplit("/", 2)[-2] if principal.count("/") >= 2 else principal
        yield Observation(
            key=keys[0],
            name=catalog.service_name(sid),
            kind=catalog.providers[sid].kind if sid in catalog.providers else "hosted-api-use",
            provider=sid,
            source="cloudtrail",
            file=str(path),
            location=f"cloudtrail {', '.join(sorted(g['events']))}",
            count=g["count"],
            client=ip if re.match(r"^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)", ip) else None,
            user=role or None,
            first_seen=g["first"],
            last_seen=g["last"],
            identifiers=tuple(x for x in (target, principal, account) if x),
            keys=tuple(keys),
            soft=(f"region:{sid}:{region}", f"prov:{sid}"),
            detail=f"{sid} {target} in account {account} {region} by {principal}".strip(),
        )
    if decisions is not None:
        for (sid, principal), events in mgmt.items():
            decisions.append(
                Decision(
                    f"{sid} <- {principal}",
                    "read-only management calls only ("
                    + ", ".join(sorted(events)[:5])
                    + "): an inventory or audit tool, no model invocation",
                    str(path),
                    "cloudtrail",
                )
            )
