"""Network evidence: Zeek (TSV and JSON), Squid and generic CSV/JSON-lines proxy logs.

Logs are scanned with Polars' streaming engine: each file is read in bounded chunks and
reduced to one row per (host, client) pair, so memory follows the number of distinct
pairs, not the size of the log. Only those pairs are matched against the catalogue.

Fields are cut out of a line only when the raw line can name an AI host: it must hold a
catalogue needle (``AiCatalog.host_needles``) and match :func:`_edge_pattern`, one regex that
also wants a host edge around the domain. Both are single vectorised passes over whole lines,
so look-alikes such as ``api.openai.com.example.net`` and the ``s3.amazonaws.com`` lines that
contain the needle of ``bedrock.*.amazonaws.com`` never reach the field parsers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import polars as pl

from aisec.core.errors import FormatError, InputError
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Observation, to_iso

__all__ = ["scan_network_log"]

#: Clients listed one by one per AI host; the rest are summed into one evidence row.
TOP_CLIENTS = 10
_NUMERIC_TS = ("zeek-tsv", "zeek-json", "squid")
_ZEEK_HOST = {"dns": "query", "http": "host", "ssl": "server_name", "quic": "server_name"}
_HOST_FROM_URL = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/]*@)?([^/:?#\s]+)"
_SQUID_RE = r"^\s*(\d+(?:\.\d+)?)\s+-?\d+\s+(\S+)\s+\S+\s+\d+\s+\S+\s+(\S+)\s+(\S+)"
#: Default column names for generic proxy logs (first present wins).
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "host": ("host", "dest_host", "dst_host", "domain", "server_name", "sni", "query", "url"),
    "user": ("user", "username", "src_user", "client", "client_ip", "src_ip", "src", "id.orig_h"),
    "ts": ("ts", "timestamp", "time", "datetime", "date", "@timestamp"),
}


#: A character no host name holds. Once a host is cut out of a line, what stood before and
#: after it is one of these (tab, space, quote, ``/``, ``:``, ``@``, ...) or the line's end.
_EDGE = r"[^A-Za-z0-9_.\-]"


@cache
def _edge_pattern(domains: tuple[str, ...], *, escapes: bool) -> str | None:
    """A regex matched by every line that can yield a host ``match_host`` accepts, or ``None``.

    Exact domains share one branch: an edge (or the line start), the domain matched
    ASCII-case-insensitively, any trailing dots (``match_host`` drops them), an edge (or the
    line end). Each wildcard pattern is a branch of its literal parts joined by ``.*``, with an
    edge on a side only where the pattern has no ``*``. A line with a non-ASCII character is
    always kept (Unicode lower-casing and white space could turn it into a match), and so is,
    when ``escapes`` (JSON), a line with a backslash, since an escape can hide any character.

    The regex is a superset of the exact match, never a subset: it only spares the field
    parsers the look-alikes. ``None`` (no second filter) when a pattern also uses ``?`` or
    ``[`` or is all ``*``, or when the regex does not compile.
    """
    exact = [re.escape(d) for d in domains if "*" not in d]
    branches = [rf"(?:^|{_EDGE})(?i-u:{'|'.join(exact)})\.*(?:{_EDGE}|$)"] if exact else []
    for d in (d for d in domains if "*" in d):
        parts = [p for p in d.split("*") if p]
        if "?" in d or "[" in d or not parts:
            return None
        left = "" if d.startswith("*") else f"(?:^|{_EDGE})"
        right = "" if d.endswith("*") else rf"\.*(?:{_EDGE}|$)"
        body = ".*".join(f"(?i-u:{re.escape(p)})" for p in parts)
        branches.append(f"{left}{body}{right}")
    branches.append(r"[^\x00-\x7F]")
    if escapes:
        branches.append(r"\\")
    pattern = "|".join(f"(?:{b})" for b in branches)
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.PolarsError:  # e.g. over the regex size limit with a huge catalogue
        return None
    return pattern


def _catalog_domains(catalog: AiCatalog) -> tuple[str, ...]:
    domains = [d for p in catalog.providers.values() for d in p.domains]
    domains += [d for s in catalog.saas.values() for d in s.domains]
    return tuple(sorted({d.lower() for d in domains}))


def _candidates(lf: pl.LazyFrame, needles: list[str], edge: str | None) -> pl.LazyFrame:
    """Lines that hold a needle and, if given, match ``edge``.

    The regex runs first; the needle test then sees only the lines it kept (``when``/``then``
    leaves the others null, which ``filter`` drops), so most lines are scanned once.
    """
    line = pl.col("line")
    if edge is None:
        return lf.filter(line.str.contains_any(needles, ascii_case_insensitive=True))
    kept = pl.when(line.str.contains(edge)).then(line)
    return lf.filter(kept.str.contains_any(needles, ascii_case_insensitive=True))


def _scan_lines(path: Path) -> pl.LazyFrame:
    """The file as one text column ``line`` (no quoting, undecodable bytes replaced)."""
    return pl.scan_csv(
        path,
        separator="\x1f",
        has_header=False,
        new_columns=["line"],
        quote_char=None,
        infer_schema=False,
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
    ).with_row_index("ln", offset=1)


def _zeek_meta(path: Path) -> tuple[str, list[str]]:
    kind, fields = "", []
    with path.open("rb") as fh:
        for _ in range(16):
            raw = fh.readline(65536)
            if not raw.startswith(b"#"):
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("#path\t"):
                kind = line.split("\t", 1)[1]
            elif line.startswith("#fields\t"):
                fields = line.split("\t")[1:]
    if not fields:
        raise FormatError("Zeek log without a #fields header", path=path)
    return kind, fields


def _aggregate(lf: pl.LazyFrame, path: Path, *, numeric_ts: bool) -> pl.DataFrame:
    """One row per host that passed the prefilter: totals, first/last seen, busiest clients.

    The prefilter is a superset (``api.openai.com.example.net`` contains a needle); the
    exact catalogue match runs afterwards, once per distinct host.
    """
    ts = pl.col("ts").cast(pl.Float64, strict=False) if numeric_ts else pl.col("ts")
    try:
        pairs = (
            lf.filter(pl.col("host").is_not_null())  # a malformed row names no host
            .with_columns(pl.col("host").str.to_lowercase())
            .group_by("host", "user")
            .agg(
                pl.len().alias("count"),
                ts.min().alias("first"),
                ts.max().alias("last"),
                pl.col("ln").min().alias("line"),
            )
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise FormatError(f"cannot parse log: {msg}", path=path) from exc
    top = pl.col("count").head(TOP_CLIENTS)
    return (
        pairs.sort("count", "user", descending=[True, False], nulls_last=True)
        .group_by("host", maintain_order=True)
        .agg(
            pl.col("count").sum().alias("total"),
            pl.len().alias("clients"),
            pl.col("user").head(TOP_CLIENTS).alias("users"),
            top.alias("counts"),
            pl.col("first").head(TOP_CLIENTS).alias("firsts"),
            pl.col("last").head(TOP_CLIENTS).alias("lasts"),
            pl.col("line").head(TOP_CLIENTS).alias("lines"),
            pl.col("line").min().alias("line"),
            pl.col("first").min().alias("first"),
            pl.col("last").max().alias("last"),
        )
    )


def _frame(
    path: Path,
    fmt: str,
    columns: Mapping[str, str] | None,
    needles: list[str],
    edge: str | None = None,
) -> pl.LazyFrame:
    """Rows of (host, user, ts), prefiltered to those that may name an AI host."""
    s = pl.col
    if fmt == "zeek-tsv":
        kind, fields = _zeek_meta(path)
        host_col = _ZEEK_HOST.get(kind) or next(
            (f for f in ("server_name", "query", "host") if f in fields), None
        )
        if host_col is None:
            raise FormatError(f"Zeek {kind or 'log'} has no host field", path=path)
        # read whole lines and split only those that may name an AI host: a literal
        # prefilter is far cheaper than parsing every column of every row
        lines = _candidates(_scan_lines(path), needles, edge).filter(
            ~pl.col("line").str.starts_with("#")
        )
        parts = s("line").str.split("\t")

        def field(name: str) -> pl.Expr:
            if name not in fields:
                return pl.lit(None, pl.String)
            return parts.list.get(fields.index(name), null_on_oob=True)

        return lines.select(
            field(host_col).alias("host"),
            field("id.orig_h").alias("user"),
            field("ts").alias("ts"),
            "ln",
        )
    if fmt in ("proxy-csv", "proxy-jsonl"):
        return _generic(path, fmt, columns or {}, needles, edge)
    lf = _candidates(_scan_lines(path), needles, edge)
    line = s("line")
    if fmt == "squid":
        g = line.str.extract_groups(_SQUID_RE)
        return lf.select(
            g.struct.field("3").str.extract(_HOST_FROM_URL, 1).alias("host"),
            pl.when(g.struct.field("4") != "-")
            .then(g.struct.field("4"))
            .otherwise(g.struct.field("2"))
            .alias("user"),
            g.struct.field("1").alias("ts"),
            "ln",
        )
    if fmt == "zeek-json":
        host = pl.coalesce(
            line.str.json_path_match("$.query"),
            line.str.json_path_match("$.host"),
            line.str.json_path_match("$.server_name"),
        )
        return lf.select(
            host.alias("host"),
            line.str.json_path_match("$['id.orig_h']").alias("user"),
            line.str.json_path_match("$.ts").alias("ts"),
            "ln",
        )
    raise FormatError(f"not a network log ({fmt})", path=path)


def _pick(available: list[str], role: str, columns: Mapping[str, str]) -> str | None:
    if role in columns:
        if columns[role] not in available:
            raise InputError(f"column {columns[role]!r} ({role}) not in the log")
        return columns[role]
    lower = {c.lower(): c for c in available}
    return next((lower[c] for c in DEFAULT_COLUMNS[role] if c in lower), None)


def _generic(
    path: Path, fmt: str, columns: Mapping[str, str], needles: list[str], edge: str | None
) -> pl.LazyFrame:
    if fmt == "proxy-csv":
        lf = pl.scan_csv(
            path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
        ).with_row_index("ln", offset=2)
        names = lf.collect_schema().names()
        cols = {r: _pick(names, r, columns) for r in ("host", "user", "ts")}
        if cols["host"] is None:
            raise FormatError("proxy log without a host/url column (use --log-columns)", path=path)
        return (
            lf.select(
                *(
                    (pl.col(c) if c else pl.lit(None, pl.String)).alias(role)
                    for role, c in cols.items()
                ),
                "ln",
            )
            .filter(pl.col("host").str.contains_any(needles, ascii_case_insensitive=True))
            .with_columns(pl.col("host").str.extract(_HOST_FROM_URL, 1))
        )
    lf = _candidates(_scan_lines(path), needles, edge)
    line = pl.col("line")

    def get(role: str) -> pl.Expr:
        names = (columns[role],) if role in columns else DEFAULT_COLUMNS[role]
        return pl.coalesce(*(line.str.json_path_match(f"$['{n}']") for n in names))

    return lf.select(
        get("host").str.extract(_HOST_FROM_URL, 1).alias("host"),
        get("user").alias("user"),
        get("ts").alias("ts"),
        "ln",
    )


def scan_network_log(
    path: Path,
    fmt: str,
    catalog: AiCatalog,
    *,
    columns: Mapping[str, str] | None = None,
) -> Iterator[Observation]:
    """Observations of catalogued AI hosts in one log file of format ``fmt``."""
    # proxy-csv filters its host column after a full CSV parse: no line-level regex there
    edge = None
    if fmt != "proxy-csv":
        json = fmt in ("zeek-json", "proxy-jsonl")
        edge = _edge_pattern(_catalog_domains(catalog), escapes=json)
    try:
        frame = _frame(path, fmt, columns, catalog.host_needles(), edge)
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise FormatError(f"cannot parse log: {msg}", path=path) from exc
    df = _aggregate(frame, path, numeric_ts=fmt in _NUMERIC_TS)
    for row in df.iter_rows(named=True):
        host = row["host"]
        hit = catalog.match_host(host)
        if hit is None:
            continue
        sid, name, kind = hit
        base = {
            "key": sid,
            "name": name,
            "kind": kind,
            "provider": sid,
            "source": "network",
            "file": str(path),
            "host": host,
            "identifiers": (host,),
        }
        for user, count, first, last, ln in zip(
            row["users"], row["counts"], row["firsts"], row["lasts"], row["lines"], strict=True
        ):
            yield Observation(
                **base,
                count=int(count),
                user=user,
                location=f"{fmt}, first at line {ln}",
                first_seen=to_iso(first),
                last_seen=to_iso(last),
            )
        rest = int(row["total"]) - sum(row["counts"])
        if rest:
            yield Observation(
                **base,
                count=rest,
                location=f"{fmt}, other clients",
                first_seen=to_iso(row["first"]),
                last_seen=to_iso(row["last"]),
                detail=f"{row['clients'] - len(row['users'])} more clients",
            )
