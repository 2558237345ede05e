"""Tell an input's format from its first bytes, never from its name alone."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from aisec.core.errors import InputError

__all__ = ["FORMATS", "detect_format", "iter_files", "sniff_header"]

#: Formats ``detect_format`` can return.
FORMATS: tuple[str, ...] = (
    "zeek-tsv",
    "zeek-json",
    "squid",
    "proxy-csv",
    "proxy-jsonl",
    "aws-cur",
    "gcp-billing",
    "azure-cost",
    "cloudtrail",
    "squid-conf",
    "saas-csv",
    "registry-csv",
    "registry-json",
    "binary",
    "unknown",
)

_HEAD = 65536
_SQUID = re.compile(rb"^\s*\d{9,11}(?:\.\d+)?\s+-?\d+\s+\S+\s+[A-Z_]+/\d{3}\s+\d+\s+[A-Z]+\s+\S+")
_HOST_COLS = ("host", "dest_host", "domain", "url", "server_name", "query", "dst_host", "sni")


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Each regular file of ``paths`` (folders walked in sorted order, hidden entries skipped)."""
    for p in map(Path, paths):
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                rel = child.relative_to(p).parts
                if any(part.startswith(".") for part in rel) or not child.is_file():
                    continue
                yield child
        elif p.is_file():
            yield p
        else:
            raise InputError("no such file or folder", path=p)


def sniff_header(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(_HEAD)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _csv_header(text: str) -> list[str]:
    try:
        row = next(csv.reader(io.StringIO(_first_line(text))))
    except (csv.Error, StopIteration):
        return []
    return [c.strip().lower() for c in row]


def _parquet_kind(path: Path) -> str:
    """``aws-cur`` / ``gcp-billing`` / ``azure-cost`` for a Parquet billing export."""
    import polars as pl

    try:
        names = [n.lower() for n in pl.read_parquet_schema(path)]
    except Exception:
        return "binary"
    joined = ",".join(names)
    if "line_item_product_code" in joined or "lineitem/productcode" in joined:
        return "aws-cur"
    if "service.description" in names or "service_description" in names:
        return "gcp-billing"
    if "metercategory" in names or "meter_category" in names:
        return "azure-cost"
    return "binary"


def detect_format(path: str | os.PathLike[str]) -> str:
    """One of :data:`FORMATS`, from the content of the first 64 KiB."""
    path = Path(path)
    head = sniff_header(path)
    if not head.strip():
        return "unknown"
    if head[:4] == b"PAR1":
        return _parquet_kind(path)
    if head[:2] == b"\x1f\x8b" and path.name.lower().endswith(".json.gz"):
        return "cloudtrail"
    if b"\x00" in head[:4096]:
        return "binary"
    text = head.decode("utf-8", errors="replace")
    if text.startswith("#separator") or "\n#fields\t" in text[:4096]:
        return "zeek-tsv"
    first = _first_line(text)
    if re.search(r'^\s*\{\s*"Records"\s*:', text[:4096]) and '"eventSource"' in text:
        return "cloudtrail"
    if re.search(
        r"^\s*(logformat|access_log|http_port)\s", text[:65536], re.M
    ) and not first.startswith("{"):
        return "squid-conf"
    if first.startswith("{") and '"registered_models"' in text[:4096]:
        return "registry-json"
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            if "registered_models" in obj:
                return "registry-json"
            if "id.orig_h" in obj or "_path" in obj:
                return "zeek-json"
            if any(k.lower() in _HOST_COLS for k in obj):
                return "proxy-jsonl"
        return "unknown"
    if first.startswith("[") and '"name"' in text[:4096]:
        return "registry-json"
    if _SQUID.match(first.encode()):
        return "squid"
    cols = _csv_header(text)
    if len(cols) < 2:
        return "unknown"
    joined = ",".join(cols)
    if "lineitem/productcode" in joined or "line_item_product_code" in joined:
        return "aws-cur"
    if ("service.description" in cols or "service_description" in cols) and (
        "sku.description" in cols or "sku_description" in cols
    ):
        return "gcp-billing"
    if ("metercategory" in cols or "meter_category" in cols) and any(
        c in cols
        for c in ("costinbillingcurrency", "cost_in_billing_currency", "pretaxcost", "cost")
    ):
        return "azure-cost"
    if any(c in cols for c in ("vendor", "publisher", "supplier")) and any(
        c in cols for c in ("description", "product", "application", "app")
    ):
        return "saas-csv"
    if "name" in cols and any(c in cols for c in ("owner", "endpoint", "version", "model")):
        return "registry-csv"
    if any(c in _HOST_COLS for c in cols):
        return "proxy-csv"
    return "unknown"
