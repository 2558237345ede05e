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

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from aisec.core.errors import FormatError, InputError
from aisec.monitoring._catalog import AiCatalog, HostHit
from aisec.monitoring._model import Decision, Observation, to_iso

__all__ = [
    "SquidFormat",
    "dns_answers",
    "host_keys",
    "read_squid_conf",
    "scan_network_log",
    "short_host",
    "squid_logformat",
    "zeek_json_kind",
]

#: Clients listed one by one per AI host; the rest are summed into one evidence row.
TOP_CLIENTS = 10
_NUMERIC_TS = ("zeek-tsv", "zeek-json", "squid")
_ZEEK_HOST = {"dns": "query", "http": "host", "ssl": "server_name", "quic": "server_name"}
_HOST_FROM_URL = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/]*@)?([^/:?#\s]+)"
_SQUID_RE = r"^\s*(\d+(?:\.\d+)?)\s+-?\d+\s+(\S+)\s+(\S+)\s+\d+\s+\S+\s+(\S+)\s+(\S+)"
#: Default column names for generic proxy logs (first present wins).
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "host": ("host", "hostname", "dest_host", "dst_host", "domain", "server_name", "sni", "query"),
    "url": ("url", "uri", "request_url", "dest_url"),
    "client": ("src_ip", "client_ip", "source_ip", "src", "clientip", "c-ip", "id.orig_h"),
    "user": ("user", "username", "src_user", "user_name", "cs-username"),
    "ts": ("ts", "timestamp", "time", "datetime", "date", "@timestamp"),
    "status": ("http_status", "status", "status_code", "sc-status", "response_code"),
    "action": ("action", "verdict", "disposition", "decision"),
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
    return kind or _zeek_kind(fields), fields


def _zeek_kind(fields: list[str] | set[str]) -> str:
    """The Zeek log type from the fields it has (``#path`` may be missing, JSON has none)."""
    f = set(fields)
    if "query" in f:
        return "dns"
    if "server_name" in f:
        return "ssl"
    if "uri" in f or "method" in f:
        return "http"
    if "conn_state" in f or "orig_bytes" in f or "service" in f:
        return "conn"
    return ""


def zeek_json_kind(path: Path) -> str:
    """The Zeek type of a JSON-lines log, from ``_path`` or the fields of its first record."""
    with path.open("rb") as fh:
        for _ in range(50):  # the first record that parses; junk lines are skipped
            line = fh.readline(1 << 20)
            if not line:
                break
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict):
                return str(obj.get("_path") or "") or _zeek_kind(set(obj))
    return ""


_STATUS_BLOCKED = r"(?i)(DENIED|BLOCK|DENY|REJECT|^403$|^407$|/403$|/407$)"


def _aggregate(lf: pl.LazyFrame, path: Path, *, numeric_ts: bool) -> pl.DataFrame:
    """One row per (host, principal, blocked, path) that passed the prefilter.

    The principal is the user name when the log has one, else the client address (its
    lowest address is kept for the asset inventory). The prefilter is a superset
    (``api.openai.com.example.net`` contains a needle); the exact catalogue match runs
    afterwards, once per distinct row.
    """
    ts = pl.col("ts").cast(pl.Float64, strict=False) if numeric_ts else pl.col("ts")
    try:
        return (
            lf.filter(pl.col("host").is_not_null())  # a malformed row names no host
            .with_columns(
                pl.col("host").str.to_lowercase(),
                pl.col("status").fill_null("").str.contains(_STATUS_BLOCKED).alias("blocked"),
                pl.coalesce("user", "client").alias("principal"),
            )
            .group_by("host", "principal", "blocked", "path")
            .agg(
                pl.len().alias("count"),
                ts.min().alias("first"),
                ts.max().alias("last"),
                pl.col("ln").min().alias("line"),
                pl.col("client").min().alias("client"),
                pl.col("user").min().alias("user"),
            )
            .sort(["count", "principal"], descending=[True, False], nulls_last=True)
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise FormatError(f"cannot parse log: {msg}", path=path) from exc


_NULL = pl.lit(None, pl.String)


def _zeek_tsv(
    path: Path,
    needles: list[str],
    edge: str | None,
    dns_map: Mapping[str, str] | None,
    http_needles: list[str],
) -> tuple[str, pl.LazyFrame]:
    kind, fields = _zeek_meta(path)
    if kind == "conn":
        if not dns_map:
            return kind, pl.LazyFrame()
        needles, edge = sorted(dns_map), None
    elif kind == "http":
        edge, needles = None, [*needles, *http_needles]  # model-server API paths too
    host_col = _ZEEK_HOST.get(kind) or next(
        (f for f in ("server_name", "query", "host") if f in fields), None
    )
    if host_col is None and kind != "conn":
        raise FormatError(f"Zeek {kind or 'log'} has neither a host nor a conn field", path=path)
    # read whole lines and split only those that may name an AI host: a literal prefilter
    # is far cheaper than parsing every column of every row
    lines = _candidates(_scan_lines(path), needles, edge).filter(
        ~pl.col("line").str.starts_with("#")
    )
    parts = pl.col("line").str.split("\t")

    def field(name: str) -> pl.Expr:
        if name not in fields:
            return _NULL
        return parts.list.get(fields.index(name), null_on_oob=True)

    if kind == "conn":
        host = field("id.resp_h").replace_strict(dict(dns_map or {}), default=None)
    else:
        host = field(host_col or "host")
    return kind, lines.select(
        host.alias("host"),
        field("id.orig_h").alias("client"),
        _NULL.alias("user"),
        field("ts").alias("ts"),
        (field("status_code") if kind == "http" else field("conn_state")).alias("status"),
        (field("uri") if kind == "http" else _NULL).alias("path"),
        "ln",
    )


def _zeek_json(
    path: Path,
    needles: list[str],
    edge: str | None,
    dns_map: Mapping[str, str] | None,
    http_needles: list[str],
) -> tuple[str, pl.LazyFrame]:
    kind = zeek_json_kind(path)
    if kind == "conn":
        if not dns_map:
            return kind, pl.LazyFrame()
        needles, edge = sorted(dns_map), None
    elif kind == "http":
        edge, needles = None, [*needles, *http_needles]
    lf = _candidates(_scan_lines(path), needles, edge)
    line = pl.col("line")
    if kind == "conn":
        host = line.str.json_path_match("$['id.resp_h']").replace_strict(
            dict(dns_map or {}), default=None
        )
    else:
        host = pl.coalesce(
            line.str.json_path_match("$.query"),
            line.str.json_path_match("$.host"),
            line.str.json_path_match("$.server_name"),
        )
    return kind, lf.select(
        host.alias("host"),
        line.str.json_path_match("$['id.orig_h']").alias("client"),
        _NULL.alias("user"),
        line.str.json_path_match("$.ts").alias("ts"),
        pl.coalesce(
            line.str.json_path_match("$.status_code"), line.str.json_path_match("$.conn_state")
        ).alias("status"),
        line.str.json_path_match("$.uri").alias("path"),
        "ln",
    )


def _url_parts(url: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    host = url.str.extract(_HOST_FROM_URL, 1)
    path = url.str.extract(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/]*(/[^?#\s]*)", 1)
    return host, path


def _frame(
    path: Path,
    fmt: str,
    columns: Mapping[str, str] | None,
    needles: list[str],
    edge: str | None = None,
    *,
    squid_format: SquidFormat | None = None,
    dns_map: Mapping[str, str] | None = None,
    http_needles: list[str] | None = None,
) -> tuple[str, pl.LazyFrame]:
    """The log kind and rows of (host, client, user, ts, status, path), prefiltered."""
    if fmt == "zeek-tsv":
        return _zeek_tsv(path, needles, edge, dns_map, http_needles or [])
    if fmt == "zeek-json":
        return _zeek_json(path, needles, edge, dns_map, http_needles or [])
    if fmt in ("proxy-csv", "proxy-jsonl"):
        return "proxy", _generic(path, fmt, columns or {}, needles, edge)
    if fmt == "squid":
        lf = _candidates(_scan_lines(path), needles, edge)
        g = pl.col("line").str.extract_groups(_SQUID_RE)
        host, _ = _url_parts(g.struct.field("4"))
        return "squid", lf.select(
            host.alias("host"),
            g.struct.field("2").alias("client"),
            pl.when(g.struct.field("5") != "-").then(g.struct.field("5")).alias("user"),
            g.struct.field("1").alias("ts"),
            g.struct.field("3").alias("status"),
            _NULL.alias("path"),  # request paths matter only for internal servers (Zeek http)
            "ln",
        )
    if fmt == "squid-custom":
        if squid_format is None:
            raise FormatError("Squid log in a custom logformat, but no format given", path=path)
        lf = _candidates(_scan_lines(path), needles, edge)
        g = pl.col("line").str.extract_groups(squid_format.regex)
        names = squid_format.fields

        def get(role: str) -> pl.Expr:
            return g.struct.field(role) if role in names else _NULL

        url = get("url")
        host, _ = _url_parts(url)
        return "squid", lf.select(
            pl.coalesce(host, get("host")).alias("host"),
            get("client").alias("client"),
            pl.when(get("user") != "-").then(get("user")).alias("user"),
            get("ts").alias("ts"),
            get("status").alias("status"),
            _NULL.alias("path"),  # request paths matter only for internal servers (Zeek http)
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
    roles = ("host", "url", "client", "user", "ts", "status", "action")
    if fmt == "proxy-csv":
        lf = pl.scan_csv(
            path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
        ).with_row_index("ln", offset=2)
        names = lf.collect_schema().names()
        cols = {r: _pick(names, r, columns) for r in roles}
        if cols["host"] is None and cols["url"] is None:
            raise FormatError("proxy log without a host/url column (use --log-columns)", path=path)

        def col(role: str) -> pl.Expr:
            c = cols[role]
            return pl.col(c).cast(pl.String) if c else _NULL

        target = pl.coalesce(col("host"), col("url"))
        lf = lf.filter(target.str.contains_any(needles, ascii_case_insensitive=True))
        exprs = {r: col(r) for r in roles}
    else:
        lf = _candidates(_scan_lines(path), needles, edge)
        line = pl.col("line")

        def get(role: str) -> pl.Expr:
            names = (columns[role],) if role in columns else DEFAULT_COLUMNS[role]
            return pl.coalesce(*(line.str.json_path_match(f"$['{n}']") for n in names))

        exprs = {r: get(r) for r in roles}
    url_host, _ = _url_parts(exprs["url"])
    host_only = exprs["host"].str.extract(_HOST_FROM_URL, 1)
    return lf.select(
        pl.coalesce(host_only, url_host).alias("host"),
        exprs["client"].alias("client"),
        exprs["user"].alias("user"),
        exprs["ts"].alias("ts"),
        pl.concat_str(
            [exprs["action"].fill_null(""), exprs["status"].fill_null("")], separator="/"
        ).alias("status"),
        _NULL.alias("path"),
        "ln",
    )


_SQUID_CODES = (
    # (code, role) for the logformat codes whose values aisec reads; the rest are skipped
    ("ts", "ts"),
    ("tl", "ts"),
    ("tg", "ts"),
    (">a", "client"),
    ("[un", "user"),
    ("un", "user"),
    ("ul", "user"),
    ("ui", "user"),
    ("us", "user"),
    ("ue", "user"),
    (">Hs", "status"),
    ("Hs", "status"),
    ("Ss", "squid_status"),
    ("ru", "url"),
    (">ru", "url"),
    ("rd", "host"),
    ("rm", None),
)
_TOKEN = re.compile(r"%([-0-9.']*)(\{[^}]*\})?(\[?[<>]?[A-Za-z]{1,3}|\[un)")


@dataclass(frozen=True)
class SquidFormat:
    """A Squid ``logformat`` as a regular expression with named groups."""

    name: str
    spec: str
    regex: str
    fields: frozenset[str]


def squid_logformat(name: str, spec: str) -> SquidFormat:
    """Translate a Squid ``logformat`` spec (``%ts.%03tu %6tr %>a ...``) into a regex."""
    out: list[str] = []
    fields: set[str] = set()
    pos = 0
    for m in _TOKEN.finditer(spec):
        lit = spec[pos : m.start()]
        out.append(r"\s+".join(re.escape(p) for p in re.split(r"\s+", lit)))
        pos = m.end()
        code = m.group(3)
        quoted = lit.endswith('"')
        role = next((r for c, r in _SQUID_CODES if code == c), None)
        if code.startswith("[") and role is None:
            role = "user" if code == "[un" else None
        follow = spec[m.end() : m.end() + 1]
        body = r'[^"]*' if quoted else r"\S+" if not follow or follow.isspace() else r"\S+?"
        if role is not None and role != "squid_status" and role not in fields:
            fields.add(role)
            out.append(f"(?P<{role}>{body})")
        else:
            out.append(body)
    tail = spec[pos:]
    out.append(r"\s+".join(re.escape(p) for p in re.split(r"\s+", tail)))
    regex = "^\\s*" + "".join(out)
    if "url" not in fields and "host" not in fields:
        raise FormatError(f"Squid logformat {name} names no URL (%ru) or host (%rd)")
    try:
        re.compile(regex)
    except re.error as exc:  # pragma: no cover - every piece is escaped or a fixed class
        raise FormatError(f"Squid logformat {name}: {exc}") from exc
    return SquidFormat(name, spec, regex, frozenset(fields))


def read_squid_conf(path: Path) -> dict[str, SquidFormat]:
    """The ``logformat`` definitions of a squid.conf, by name, plus ``""`` for the one
    ``access_log`` uses (when it names one)."""
    formats: dict[str, SquidFormat] = {}
    used = None
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    for raw in text.splitlines()[:100_000]:
        line = raw.strip()
        if line.startswith("logformat "):
            _, name, spec = [*line.split(None, 2), "", ""][:3]
            if name and spec:
                formats[name] = squid_logformat(name, spec)
        elif line.startswith("access_log "):
            parts = line.split()
            if len(parts) >= 3 and not parts[2].startswith(("acl", "!")):
                used = parts[2]
    if used and used in formats:
        formats[""] = formats[used]
    return formats


def dns_answers(path: Path, fmt: str, catalog: AiCatalog) -> dict[str, str]:
    """Address -> AI host name from a Zeek dns log (to name ``conn.log`` connections)."""
    needles = catalog.host_needles()
    lf = _candidates(_scan_lines(path), needles, None)
    line = pl.col("line")
    if fmt == "zeek-tsv":
        _, fields = _zeek_meta(path)
        if "query" not in fields or "answers" not in fields:
            return {}
        parts = line.str.split("\t")
        q = parts.list.get(fields.index("query"), null_on_oob=True)
        a = parts.list.get(fields.index("answers"), null_on_oob=True)
        lf = lf.filter(~line.str.starts_with("#")).select(q.alias("q"), a.alias("a"))
    else:
        lf = lf.select(
            line.str.json_path_match("$.query").alias("q"),
            line.str.extract(r'"answers"\s*:\s*\[([^\]]*)\]', 1)
            .str.replace_all('"', "")
            .alias("a"),
        )
    out: dict[str, str] = {}
    try:
        df = lf.unique().collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise FormatError(f"cannot parse log: {str(exc).splitlines()[0][:200]}", path=path) from exc
    for q, a in df.iter_rows():
        if not q or not a or catalog.host_info(q) is None:
            continue
        for ip in re.split(r"[,\s]+", a):
            if re.fullmatch(r"[0-9a-fA-F:.]+", ip or "") and any(c.isdigit() for c in ip):
                out[ip] = q.lower().rstrip(".")
    return out


def host_keys(hit: HostHit) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (strong, soft) join keys an AI host gives its sightings."""
    if hit.category == "saas":
        return (f"saas:{hit.id}",), ()
    if hit.tenant:
        return (f"res:{hit.id}:{hit.tenant}",), (f"prov:{hit.id}",)
    if hit.region:
        return (), (f"region:{hit.id}:{hit.region}", f"prov:{hit.id}")
    return (), (f"prov:{hit.id}",)


def _is_internal(host: str) -> bool:
    if re.fullmatch(r"[0-9.]+", host):
        return (
            host.startswith(("10.", "192.168."))
            or re.match(r"172\.(1[6-9]|2\d|3[01])\.", host) is not None
        )
    return "." not in host or host.endswith(
        (
            ".internal",
            ".local",
            ".lan",
            ".corp",
            ".intranet",
            ".home.arpa",
            ".svc",
            ".cluster.local",
        )
    )


def short_host(host: str) -> str:
    """An internal host name without port and domain (``llm-01.corp:8000`` -> ``llm-01``)."""
    h = host.strip().lower().rstrip(".")
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h if re.fullmatch(r"[0-9.]+", h) else h.split(".", 1)[0]


def scan_network_log(
    path: Path,
    fmt: str,
    catalog: AiCatalog,
    *,
    columns: Mapping[str, str] | None = None,
    squid_format: SquidFormat | None = None,
    dns_map: Mapping[str, str] | None = None,
    decisions: list[Decision] | None = None,
) -> Iterator[Observation]:
    """Observations of catalogued AI hosts (and model-server API paths) in one log file."""
    json_lines = fmt in ("zeek-json", "proxy-jsonl")
    edge = _edge_pattern(_catalog_domains(catalog), escapes=json_lines)
    needles = catalog.host_needles()
    http_needles = catalog.path_needles()  # model-server API paths: Zeek http logs only
    try:
        kind, frame = _frame(
            path,
            fmt,
            columns,
            needles,
            edge,
            squid_format=squid_format,
            dns_map=dns_map,
            http_needles=http_needles,
        )
        if not frame.collect_schema().names():
            return
    except pl.exceptions.PolarsError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise FormatError(f"cannot parse log: {msg}", path=path) from exc
    df = _aggregate(frame, path, numeric_ts=fmt in _NUMERIC_TS)
    label = f"{fmt}/{kind}" if fmt.startswith("zeek") else fmt
    dns_only: dict[str, set[str]] = {}
    blocked: dict[str, int] = {}
    shown: dict[tuple[str, str | None], int] = {}
    rest: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in df.iter_rows(named=True):
        host = row["host"]
        slot = (host, row["path"])
        if not row["blocked"]:
            shown[slot] = shown.get(slot, 0) + 1
            # every row of the host counts for first/last seen of the summary row
            r = rest.setdefault(
                slot, {"count": 0, "clients": 0, "first": [], "last": [], "row": row}
            )
            r["first"].append(row["first"])
            r["last"].append(row["last"])
            if shown[slot] > TOP_CLIENTS:
                r["count"] += int(row["count"])
                r["clients"] += 1
                continue
        hit = catalog.host_info(host)
        server = catalog.api_path_server(row["path"]) if row["path"] else None
        if hit is None and not (server and _is_internal(host.split(":", 1)[0])):
            continue
        if kind == "dns":
            # a lookup is no use of the service: it only supports a system other evidence shows
            dns_only.setdefault(host, set()).add(str(row["client"] or row["principal"]))
        if row["blocked"]:
            blocked[host] = blocked.get(host, 0) + int(row["count"])
            continue
        base: dict[str, Any] = {
            "source": "network",
            "file": str(path),
            "host": host,
            "client": row["client"] or None,
            "user": row["user"] or None,
            "count": int(row["count"]),
            "location": f"{label}, first at line {row['line']}",
            "first_seen": to_iso(row["first"]),
            "last_seen": to_iso(row["last"]),
        }
        if hit is None:  # an internal model server, by its API path
            srv = catalog.servers[str(server)]
            name = short_host(host)
            yield Observation(
                key=f"host:{name}",
                name=f"{srv.name} API on {name}",
                kind="self-hosted-model",
                provider="self-hosted",
                identifiers=(host, name),
                keys=(f"host:{name}",),
                detail=f"{row['path']} ({srv.name}-style API)",
                **base,
            )
            continue
        strong, soft = host_keys(hit)
        role = "support" if hit.category == "hub" or kind == "dns" else "ai"
        yield Observation(
            key=(strong or soft or (hit.id,))[0],
            name=hit.name,
            kind=hit.kind,
            provider=hit.id,
            identifiers=tuple(x for x in (host, hit.tenant) if x),
            keys=strong,
            soft=soft,
            role=role,
            detail=f"{row['path']}" if row["path"] and kind == "http" else "",
            **base,
        )
    for (host, _), r in rest.items():
        if not r["clients"]:
            continue
        row = r["row"]
        hit = catalog.host_info(host)
        if hit is None:
            continue
        strong, soft = host_keys(hit)
        firsts = [x for x in r["first"] if x is not None]
        lasts = [x for x in r["last"] if x is not None]
        yield Observation(
            key=(strong or soft or (hit.id,))[0],
            name=hit.name,
            kind=hit.kind,
            provider=hit.id,
            source="network",
            file=str(path),
            host=host,
            count=r["count"],
            location=f"{label}, other clients",
            first_seen=to_iso(min(firsts) if firsts else None),
            last_seen=to_iso(max(lasts) if lasts else None),
            identifiers=tuple(x for x in (host, hit.tenant) if x),
            keys=strong,
            soft=soft,
            role="support" if hit.category == "hub" or kind == "dns" else "ai",
            detail=f"{r['clients']} more clients",
        )
    if decisions is not None:
        for host, clients in dns_only.items():
            decisions += [
                Decision(
                    f"{host} <- {client}",
                    "DNS lookups only: no connection or API call from this client",
                    str(path),
                    label,
                )
                for client in sorted(clients)
            ]
        for host, n in blocked.items():
            decisions.append(
                Decision(
                    host,
                    f"{n} requests blocked or denied by the proxy; nothing reached the service",
                    str(path),
                    label,
                )
            )
