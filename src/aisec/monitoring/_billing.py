"""Billing evidence: AWS Cost and Usage Reports (legacy and 2.0 columns), GCP billing export.

Only the few columns that name a service, a resource, an instance type, a cost centre, a
date and a cost are read (Polars streaming), grouped per resource before matching.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from aisec.core.errors import FormatError
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Observation

__all__ = ["scan_billing"]

_AWS = {
    "product": ("lineitem/productcode", "line_item_product_code"),
    "resource": ("lineitem/resourceid", "line_item_resource_id"),
    "instance": ("product/instancetype", "product_instance_type"),
    "cost": ("lineitem/unblendedcost", "line_item_unblended_cost"),
    "date": ("lineitem/usagestartdate", "line_item_usage_start_date"),
    "centre": (
        "resourcetags/user:costcenter",
        "resourcetags/user:cost-center",
        "resource_tags_user_cost_center",
        "resourcetags/user:team",
        "resource_tags_user_team",
    ),
    "project": ("resourcetags/user:project", "resource_tags_user_project"),
    "owner": ("resourcetags/user:owner", "resource_tags_user_owner"),
}
_GCP = {
    "product": ("service.description", "service_description"),
    "sku": ("sku.description", "sku_description"),
    "resource": ("project.id", "project_id"),
    "cost": ("cost",),
    "date": ("usage_start_time", "usage_start_date"),
    "centre": ("labels.cost_center", "labels.cost-center", "labels.team", "label_team"),
    "owner": ("labels.owner", "label_owner"),
}


def _columns(names: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    lower = {n.lower(): n for n in names}
    return {role: next((lower[a] for a in alts if a in lower), None) for role, alts in spec.items()}


def _read(path: Path, spec: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    try:
        lf = pl.scan_csv(
            path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
        )
        cols = _columns(lf.collect_schema().names(), spec)
        if cols["product"] is None:
            raise FormatError("billing file without a service/product column", path=path)
        exprs = [
            (pl.col(c) if c else pl.lit(None, pl.String)).alias(role) for role, c in cols.items()
        ]
        keys = [r for r in cols if r not in ("cost", "date")]
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


def _obs(path: Path, fmt: str, row: dict[str, Any], **kw: Any) -> Observation:
    return Observation(
        source="billing",
        file=str(path),
        location=fmt,
        count=int(row["count"]),
        cost_centre=row.get("centre") or None,
        owner=row.get("owner") or None,
        first_seen=row.get("first") or None,
        last_seen=row.get("last") or None,
        cost=float(row["cost"] or 0.0),
        **kw,
    )


def _aws(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    for row in _read(path, _AWS).iter_rows(named=True):
        product = row["product"] or ""
        resource = row["resource"] or ""
        group = row["project"] or row["centre"] or resource or "account"
        service = catalog.cloud_service("aws", product)
        if service is not None:
            key, name, idents = service.id, _name(catalog, service.id), [product]
            if service.id == "aws-sagemaker":
                tail = resource.rsplit("/", 1)[-1] if "/" in resource else group
                key, name = f"aws-sagemaker:{tail}", tail
                idents += [tail, resource]
            yield _obs(
                path,
                "aws-cur",
                row,
                key=key,
                name=name,
                kind=service.kind,
                provider=service.id,
                detail=f"{product} {resource}".strip(),
                identifiers=tuple(i for i in idents if i),
            )
        elif row["instance"] and catalog.is_gpu_instance("aws", row["instance"]):
            yield _obs(
                path,
                "aws-cur",
                row,
                key=f"aws-gpu:{group}",
                name=f"GPU compute ({group})",
                kind="self-hosted-model",
                provider="aws-ec2-gpu",
                detail=f"{row['instance']} {resource}".strip(),
                identifiers=(group, resource),
            )


def _gcp(path: Path, catalog: AiCatalog) -> Iterator[Observation]:
    for row in _read(path, _GCP).iter_rows(named=True):
        product = row["product"] or ""
        sku = row["sku"] or ""
        project = row["resource"] or "billing-account"
        service = catalog.cloud_service("gcp", product)
        if service is not None:
            yield _obs(
                path,
                "gcp-billing",
                row,
                key=f"{service.id}:{project}",
                name=f"{_name(catalog, service.id)} ({project})",
                kind=service.kind,
                provider=service.id,
                detail=f"{product}: {sku}",
                identifiers=(project, product),
            )
        elif product.lower() == "compute engine" and catalog.is_gpu_sku(sku):
            yield _obs(
                path,
                "gcp-billing",
                row,
                key=f"gcp-gpu:{project}",
                name=f"GPU compute ({project})",
                kind="self-hosted-model",
                provider="gcp-compute-gpu",
                detail=sku,
                identifiers=(project,),
            )


def _name(catalog: AiCatalog, service_id: str) -> str:
    p = catalog.providers.get(service_id)
    return p.name if p else service_id


def scan_billing(path: Path, fmt: str, catalog: AiCatalog) -> Iterator[Observation]:
    """Observations of AI services and GPU compute in one billing export."""
    if fmt == "aws-cur":
        return _aws(path, catalog)
    if fmt == "gcp-billing":
        return _gcp(path, catalog)
    raise FormatError(f"not a billing export ({fmt})", path=path)
