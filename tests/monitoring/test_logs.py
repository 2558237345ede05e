# ruff: noqa: E501  (log lines are kept whole, as the tools write them)
"""The network-log scan against a line-by-line reference, on logs full of look-alikes.

``scan_network_log`` filters raw lines with vectorised passes (a literal needle prefilter and
an edge regex) before it cuts fields out; none of that may change a result. The reference
below does the plain thing for every line: cut the fields, lower-case the host, ask the
catalogue. Both must give the same systems, call counts, clients, first/last seen and lines.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.monitoring import load_ai_catalog
from aisec.monitoring._logs import (
    _HOST_FROM_URL,
    _SQUID_RE,
    TOP_CLIENTS,
    _catalog_domains,
    _edge_pattern,
    scan_network_log,
)
from aisec.monitoring._model import to_iso

CAT = load_ai_catalog()
NEEDLES = CAT.host_needles()
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
ZEEK_HEAD = "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tquery\tanswers\n#types\ttime\tstring\taddr\tstring\tstring\n"

AI_HOSTS = [
    "api.openai.com",
    "API.OpenAI.COM",
    "api.openai.com.",
    "acme.openai.azure.com",
    "a.b.openai.azure.com",
    "ACME.OPENAI.AZURE.COM.",
    "bedrock-runtime.us-east-1.amazonaws.com",
    "bedrock..amazonaws.com",
    "runtime.sagemaker.eu-west-1.amazonaws.com",
    "us-central1-aiplatform.googleapis.com",
    "claude.ai",
    "app.a\u212a\u212aio.com",  # Kelvin signs: Unicode lower-casing makes app.akkio.com
    "x.endpoints.huggingface.cloud",
]
LOOK_ALIKES = [
    "api.openai.com.example.net",
    "xapi.openai.com",
    "api.openai.comx",
    "api-openai.com",
    "openai.com",
    "openai.azure.com",
    "evil-openai.azure.com.attacker.net",
    "s3.amazonaws.com",
    "bedrock.amazonaws.com",
    "aiplatform.googleapis.com.evil",
    "claude.ai-x.net",
    "xapp.akkio.comx",
    "github.com",
    "-",
]
HOSTS = AI_HOSTS + LOOK_ALIKES
USERS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "alice", "bob", "-", "\u00fcser"]
TIMES = ["1767225600.5", "1767225700.25", "1767229999", "-", "abc"]


# --- the reference: every line, no prefilter shortcuts -------------------------------------


def _needle(line: str) -> bool:
    low = line.translate(_ASCII_LOWER)  # the prefilter is ASCII-case-insensitive only
    return any(n in low for n in NEEDLES)


def _num(text: str | None) -> float | None:
    if text is None or not re.fullmatch(r"-?\d+(?:\.\d+)?", text, re.ASCII):
        return None
    return float(text)


def _row(fmt: str, line: str, fields: list[str]) -> tuple[Any, Any, Any] | None:
    """(host, user, ts) of one line as each parser reads it; ``None`` for no row at all."""
    if fmt == "zeek-tsv":
        if line.startswith("#"):
            return None
        parts = line.split("\t")

        def get(name: str) -> str | None:
            i = fields.index(name)
            return parts[i] if i < len(parts) else None

        return get("query"), get("id.orig_h"), _num(get("ts"))
    if fmt == "squid":
        m = re.match(_SQUID_RE, line)
        if m is None:
            return None, None, None
        h = re.match(_HOST_FROM_URL, m.group(4))
        return (
            h.group(1) if h else None,
            m.group(5) if m.group(5) != "-" else m.group(2),
            _num(m.group(1)),
        )
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None, None, None
    host = next((obj[k] for k in ("query", "host", "server_name") if k in obj), None)
    ts = obj.get("ts")
    return host, obj.get("id.orig_h"), float(ts) if isinstance(ts, int | float) else _num(ts)


def _label(fmt: str) -> str:
    return f"{fmt}/dns" if fmt.startswith("zeek") else fmt  # the test logs are DNS logs


def reference(path: Path, fmt: str) -> list[tuple[Any, ...]]:
    text = path.read_bytes().decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fields = ZEEK_HEAD.split("\n")[2].split("\t")[1:]
    pairs: dict[tuple[str, str | None], list[Any]] = {}
    for ln, line in enumerate(lines, start=1):
        if not _needle(line):
            continue
        row = _row(fmt, line, fields)
        if row is None or row[0] is None:
            continue
        host, user, ts = row
        p = pairs.setdefault((host.lower(), user), [0, None, None, ln])
        p[0] += 1
        if ts is not None:
            p[1] = ts if p[1] is None else min(p[1], ts)
            p[2] = ts if p[2] is None else max(p[2], ts)
    by_host: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for (host, user), (count, first, last, ln) in pairs.items():
        by_host[host].append((count, user, first, last, ln))
    out = []
    for host, rows in by_host.items():
        hit = CAT.match_host(host)
        if hit is None:
            continue
        rows.sort(key=lambda r: (-r[0], r[1] is None, r[1] or ""))
        for count, user, first, last, ln in rows[:TOP_CLIENTS]:
            out.append(
                (
                    hit[0],
                    host,
                    user,
                    count,
                    to_iso(first),
                    to_iso(last),
                    f"{_label(fmt)}, first at line {ln}",
                    "",
                )
            )
        rest = rows[TOP_CLIENTS:]
        if rest:
            firsts = [r[2] for r in rows if r[2] is not None]
            lasts = [r[3] for r in rows if r[3] is not None]
            out.append(
                (
                    hit[0],
                    host,
                    None,
                    sum(r[0] for r in rest),
                    to_iso(min(firsts) if firsts else None),
                    to_iso(max(lasts) if lasts else None),
                    f"{_label(fmt)}, other clients",
                    f"{len(rest)} more clients",
                )
            )
    return sorted(out, key=repr)


def scanned(path: Path, fmt: str) -> list[tuple[Any, ...]]:
    return sorted(
        (
            (
                o.provider,
                o.host,
                o.user or o.client,
                o.count,
                o.first_seen,
                o.last_seen,
                o.location,
                o.detail,
            )
            for o in scan_network_log(path, fmt, CAT)
        ),
        key=repr,
    )


# --- writing the same events in each format ------------------------------------------------


def render(fmt: str, events: list[tuple[str, str, str, str, str]]) -> str:
    """Events (kind, host, user, ts, other) as a log; ``kind`` picks a normal or odd line."""
    out = [ZEEK_HEAD.rstrip("\n")] if fmt == "zeek-tsv" else []
    for i, (kind, host, user, ts, other) in enumerate(events):
        if kind == "junk":
            out.append(f"garbage {host}")  # a needle, no parseable host: skipped, not a crash
        elif kind == "empty":
            out.append("")
        elif fmt == "zeek-tsv":
            out.append(f"{ts}\tC{i}\t{user}\t{host}\t{other}")
        elif fmt == "squid":
            sep = "    " if kind == "wide" else " "
            url = f"https://{host}/v1?x" if kind == "url" else f"{host}:443"
            out.append(
                f"{ts if ts[0].isdigit() else '1767225600.0'}{sep}120 {user} TCP_MISS/200 4000 CONNECT {url} {other} HIER_DIRECT/1.2.3.4 -"
            )
        else:
            ts_json: Any = float(ts) if ts[0].isdigit() else ts
            obj = {"ts": ts_json, "id.orig_h": user, "query": host, "answers": [other]}
            out.append(json.dumps(obj, ensure_ascii=kind == "url"))  # url: \\u escapes
    return "\n".join(out) + "\n"


event = st.tuples(
    st.sampled_from(["plain", "plain", "plain", "url", "wide", "junk", "empty"]),
    st.sampled_from(HOSTS),
    st.sampled_from(USERS),
    st.sampled_from(TIMES),
    st.sampled_from(["-", "xapp.akkio.comx", "api.openai.com.example.net", "s3.amazonaws.com"]),
)
FORMATS = ("zeek-tsv", "squid", "zeek-json")


def _write(tmp_path: Path, fmt: str, text: str) -> Path:
    p = tmp_path / f"{fmt}.log"
    p.write_text(text, encoding="utf-8")
    return p


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(event, min_size=1, max_size=60))
def test_scan_equals_the_line_by_line_reference(
    tmp_path: Path, events: list[tuple[str, str, str, str, str]]
) -> None:
    for fmt in FORMATS:
        p = _write(tmp_path, fmt, render(fmt, events))
        assert scanned(p, fmt) == reference(p, fmt), fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_log_with_decoys(tmp_path: Path, fmt: str) -> None:
    """A pinned log: look-alikes never count, wildcard hosts do, odd lines are skipped."""
    t0 = 1767225600  # 2026-01-01T00:00:00Z
    plan = [  # (host, client, calls, another field of the line)
        ("api.openai.com", "10.0.0.1", 3, "-"),
        ("api.openai.com", "10.0.0.2", 2, "-"),
        ("API.OPENAI.COM.", "10.0.0.1", 2, "-"),
        ("api.openai.com.example.net", "10.0.0.1", 7, "-"),
        ("xapi.openai.com", "10.0.0.1", 3, "-"),
        ("acme.openai.azure.com", "10.0.0.3", 4, "-"),
        ("openai.azure.com", "10.0.0.3", 2, "-"),
        ("s3.amazonaws.com", "10.0.0.3", 6, "-"),
        ("bedrock-runtime.us-east-1.amazonaws.com", "10.0.0.4", 2, "-"),
        # Kelvin signs lower-case to app.akkio.com; the literal needle stands elsewhere
        ("app.a\u212a\u212aio.com", "10.0.0.5", 2, "xapp.akkio.comx"),
        *(("claude.ai", f"10.1.0.{100 + i}", 2 if i == 0 else 1, "-") for i in range(12)),
    ]
    events = [
        ("url" if n % 2 else "plain", host, user, f"{t0 + 600 * n + k}.5", other)
        for k, (host, user, calls, other) in enumerate(plan)
        for n in range(calls)
    ]
    events += [("junk", "api.openai.com", "-", "-", "-")] * 2 + [("empty", "", "", "", "")] * 2
    p = _write(tmp_path, fmt, render(fmt, events))
    got = scanned(p, fmt)
    assert got == reference(p, fmt)
    calls = {(key, host, user): count for key, host, user, count, *_ in got}
    assert calls == {
        ("openai", "api.openai.com", "10.0.0.1"): 3,
        ("openai", "api.openai.com", "10.0.0.2"): 2,
        ("openai", "api.openai.com.", "10.0.0.1"): 2,
        ("azure-openai", "acme.openai.azure.com", "10.0.0.3"): 4,
        ("aws-bedrock", "bedrock-runtime.us-east-1.amazonaws.com", "10.0.0.4"): 2,
        # in Squid the other field is the user name, which wins over the client address
        ("akkio", "app.akkio.com", "xapp.akkio.comx" if fmt == "squid" else "10.0.0.5"): 2,
        ("claude", "claude.ai", "10.1.0.100"): 2,
        **{("claude", "claude.ai", f"10.1.0.{100 + i}"): 1 for i in range(1, 10)},
        ("claude", "claude.ai", None): 2,  # the 11th and 12th clients
    }
    openai = [o for o in got if o[1] == "api.openai.com" and o[2] == "10.0.0.1"]
    assert [o[4:6] for o in openai] == [
        ("2026-01-01T00:00:00.500000Z", "2026-01-01T00:20:00.500000Z")
    ]


def test_edge_pattern_keeps_hosts_and_drops_look_alikes() -> None:
    edge = _edge_pattern(_catalog_domains(CAT), escapes=False)
    assert edge is not None
    lines = {
        "1.0\tC\t10.0.0.1\tapi.openai.com\t-": True,
        "1.0\tC\t10.0.0.1\tAPI.OPENAI.COM.\t-": True,
        "x CONNECT api.openai.com:443 -": True,
        "x GET https://u@acme.openai.azure.com/v1 -": True,
        "x GET bedrock-runtime.us-east-1.amazonaws.com -": True,
        "caf\u00e9 api.openai.com.example.net": True,  # non-ASCII: always kept
        "1.0\tC\t10.0.0.1\tapi.openai.com.example.net\t-": False,
        "1.0\tC\t10.0.0.1\txapi.openai.com\t-": False,
        "x CONNECT s3.amazonaws.com:443 -": False,
        "x CONNECT openai.azure.com:443 -": False,
    }
    got = pl.Series(list(lines)).str.contains(edge).to_list()
    assert dict(zip(lines, got, strict=True)) == lines
    json_edge = _edge_pattern(_catalog_domains(CAT), escapes=True)
    assert json_edge is not None
    assert pl.Series(['{"query":"api.openai.co\\u006d"}']).str.contains(json_edge).item()
    # patterns a regex cannot mirror safely turn the second filter off, never the scan
    assert _edge_pattern(("*.fo?.example",), escapes=False) is None
    assert _edge_pattern(("api.example", "*"), escapes=False) is None
