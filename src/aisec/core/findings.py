"""Findings: what a control found wrong, how bad, how to fix it, and where it maps.

A finding is a value (a frozen dataclass), never an exception. It renders to text,
JSON (schema ``aisec.findings/v1``) and SARIF 2.1.0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from aisec import __version__

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "FINDINGS_SCHEMA",
    "Finding",
    "Mappings",
    "Region",
    "RuleInfo",
    "Severity",
    "Subject",
    "exceeds",
    "finding_from_json",
    "findings_to_json",
    "findings_to_sarif",
    "render_findings_text",
]

FINDINGS_SCHEMA = "aisec.findings/v1"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_ID_RE = re.compile(r"^AISEC-[A-Z]{2,6}-\d{3}$")
# evidence keys that name *which* thing a finding is about (not how bad it was this run)
_FINGERPRINT_KEYS = (
    "category",
    "source",
    "column",
    "resource",
    "callable",
    "member",
    "offset",
    "account",
    "system",
    "file",
    "detector",
)


class Severity(StrEnum):
    """Ordered from least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def sarif_level(self) -> str:
        return {"info": "note", "low": "note", "medium": "warning"}.get(self.value, "error")

    @property
    def security_severity(self) -> str:
        """GitHub code scanning reads this property (0.0-10.0) to sort security alerts."""
        return {"info": "0.0", "low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}[
            self.value
        ]


_RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class Region:
    """Where inside the artifact: a line range of a text file (1-based), a byte range of a
    binary one, a row of a table (0-based, the header not counted), a member of an archive.
    Rendered as a SARIF region."""

    start_line: int | None = None
    end_line: int | None = None
    byte_offset: int | None = None
    byte_length: int | None = None
    row: int | None = None
    member: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in _region_items(self) if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Region:
        def num(key: str) -> int | None:
            v = data.get(key)
            return int(v) if isinstance(v, int) and not isinstance(v, bool) else None

        member = data.get("member")
        return cls(
            start_line=num("start_line"),
            end_line=num("end_line"),
            byte_offset=num("byte_offset"),
            byte_length=num("byte_length"),
            row=num("row"),
            member=str(member) if member is not None else None,
        )


def _region_items(r: Region) -> tuple[tuple[str, Any], ...]:
    return (
        ("start_line", r.start_line),
        ("end_line", r.end_line),
        ("byte_offset", r.byte_offset),
        ("byte_length", r.byte_length),
        ("row", r.row),
        ("member", r.member),
    )


@dataclass(frozen=True, slots=True)
class Subject:
    """The artifact a finding is about: where it is, exactly which bytes, and where inside."""

    path: str
    digest: str | None = None
    region: Region | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "digest": self.digest}
        if self.region is not None and self.region.to_json():
            out["region"] = self.region.to_json()
        return out


@dataclass(frozen=True, slots=True)
class Mappings:
    """Framework entries a finding maps to (ids resolve in ``aisec.core.frameworks``)."""

    atlas: tuple[str, ...] = ()
    owasp_llm: tuple[str, ...] = ()
    saif: tuple[str, ...] = ()
    nist_ai_rmf: tuple[str, ...] = ()
    iso_42001: tuple[str, ...] = ()

    def to_json(self) -> dict[str, list[str]]:
        out = {
            "atlas": list(self.atlas),
            "owasp_llm": list(self.owasp_llm),
            "saif": list(self.saif),
            "nist_ai_rmf": list(self.nist_ai_rmf),
        }
        if self.iso_42001:
            out["iso_42001"] = list(self.iso_42001)
        return out

    def tags(self) -> list[str]:
        return [
            *(f"atlas:{x}" for x in self.atlas),
            *(f"owasp-llm:{x}" for x in self.owasp_llm),
            *(f"saif:{x}" for x in self.saif),
            *(f"nist-ai-rmf:{x}" for x in self.nist_ai_rmf),
            *(f"iso-42001:{x}" for x in self.iso_42001),
        ]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a control found.

    ``id`` is the stable rule id (``AISEC-<STAGE>-<NNN>``); several findings of one run
    may share it, with different subjects.
    """

    id: str
    stage: str
    severity: Severity
    title: str
    detail: str
    subject: Subject
    remediation: str
    mappings: Mappings = field(default_factory=Mappings)
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise ValueError(f"finding id {self.id!r} is not of the form AISEC-<STAGE>-<NNN>")

    @property
    def fingerprint(self) -> str:
        """A stable id of this finding across runs: the rule, the artifact (by digest, else
        path), where inside it, and what it names (a category, a resource, a column...).
        Triage records and SARIF ``partialFingerprints`` use it; per-run numbers stay out."""
        import hashlib

        parts = [self.id, self.subject.digest or self.subject.path]
        if self.subject.region is not None:
            parts.append(json.dumps(self.subject.region.to_json(), sort_keys=True))
        for key in _FINGERPRINT_KEYS:
            value = self.evidence.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                parts.append(f"{key}={value}")
        return "fp:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "subject": self.subject.to_json(),
            "remediation": self.remediation,
            "mappings": self.mappings.to_json(),
            "evidence": dict(self.evidence),
        }


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    """Rebuild a finding from :meth:`Finding.to_json` output."""
    maps = data.get("mappings") or {}
    subject = data.get("subject") or {}
    return Finding(
        id=str(data["id"]),
        stage=str(data["stage"]),
        severity=Severity(data["severity"]),
        title=str(data["title"]),
        detail=str(data.get("detail", "")),
        subject=Subject(
            path=str(subject.get("path", "")),
            digest=subject.get("digest"),
            region=Region.from_json(subject["region"])
            if isinstance(subject.get("region"), Mapping)
            else None,
        ),
        remediation=str(data.get("remediation", "")),
        mappings=Mappings(
            atlas=tuple(maps.get("atlas", ())),
            owasp_llm=tuple(maps.get("owasp_llm", ())),
            saif=tuple(maps.get("saif", ())),
            nist_ai_rmf=tuple(maps.get("nist_ai_rmf", ())),
            iso_42001=tuple(maps.get("iso_42001", ())),
        ),
        evidence=dict(data.get("evidence") or {}),
    )


def exceeds(findings: Iterable[Finding], threshold: Severity) -> bool:
    """True when any finding is at or above ``threshold`` (the ``--fail-on`` rule)."""
    return any(f.severity.rank >= threshold.rank for f in findings)


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity.rank, f.id, f.subject.path))


def findings_to_json(findings: Iterable[Finding], *, tool: str = "aisec") -> dict[str, Any]:
    items = _sorted(findings)
    counts = {s.value: 0 for s in Severity}
    for f in items:
        counts[f.severity.value] += 1
    return {
        "schema": FINDINGS_SCHEMA,
        "tool": {"name": tool, "version": __version__},
        "summary": counts,
        "findings": [f.to_json() for f in items],
    }


class RuleInfo(Protocol):
    """What SARIF needs of a rule (``aisec.core.controls.Rule`` has it)."""

    id: str
    severity: Severity
    title: str
    remediation: str
    rationale: str


# GitHub code scanning's documented limits for one SARIF upload
SARIF_MAX_RESULTS = 25_000
SARIF_MAX_TAGS = 20
SARIF_ROOT = "%SRCROOT%"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!//)")


def findings_to_sarif(
    findings: Sequence[Finding],
    *,
    rules: Mapping[str, RuleInfo] | None = None,
    rule_help: Mapping[str, str] | None = None,
    suppressions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """SARIF 2.1.0 that code scanning accepts: one run, one rule per finding id, one result
    per finding.

    Rule metadata is stable across runs: it comes from ``rules`` (the registry: title,
    rationale, remediation), never from a finding's per-run detail, which goes into the
    result's message. Locations are relative to the evidence root (``%SRCROOT%``) with a
    region where the finding has one; a subject that is not a file (an account, a system) is
    a logical location at the root. ``partialFingerprints`` carry the finding's stable
    fingerprint; ``suppressions`` maps a fingerprint to the justification of an active triage
    decision, shown by code scanning as dismissed with the reason.
    """
    items = _sorted(findings)
    truncated = len(items) > SARIF_MAX_RESULTS
    items = items[:SARIF_MAX_RESULTS]
    sarif_rules: dict[str, dict[str, Any]] = {}
    for f in items:
        if f.id in sarif_rules:
            continue
        r = (rules or {}).get(f.id)
        title = r.title if r is not None else f.title
        tags = ["security", f"stage:{f.stage}", *f.mappings.tags()][:SARIF_MAX_TAGS]
        sarif_rules[f.id] = {
            "id": f.id,
            "name": _rule_name(title),
            "shortDescription": {"text": title},
            "fullDescription": {"text": (r.rationale if r is not None else "") or title},
            "help": {
                "text": (rule_help or {}).get(f.id)
                or (r.remediation if r is not None else f.remediation)
                or title
            },
            "defaultConfiguration": {
                "level": (r.severity if r is not None else f.severity).sarif_level
            },
            "properties": {
                "tags": tags,
                "security-severity": (
                    r.severity if r is not None else f.severity
                ).security_severity,
            },
        }
    rule_index = {rid: i for i, rid in enumerate(sarif_rules)}
    results = [_sarif_result(f, rule_index[f.id], suppressions or {}) for f in items]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "aisec",
                "version": __version__,
                "rules": list(sarif_rules.values()),
            }
        },
        "originalUriBaseIds": {
            SARIF_ROOT: {"description": {"text": "The evidence root: paths are relative to it."}}
        },
        "results": results,
    }
    if truncated:
        run["properties"] = {
            "truncated": f"only the {SARIF_MAX_RESULTS} most severe of {len(findings)} findings"
        }
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _sarif_result(f: Finding, index: int, suppressions: Mapping[str, str]) -> dict[str, Any]:
    from aisec.core.paths import portable_path

    path = f.subject.path
    artifact: dict[str, Any] = {"uriBaseId": SARIF_ROOT}
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": artifact}}
    if not path or _SCHEME.match(path):
        # not a file (account:…, model:…, inventory-system:…): the root, named logically
        artifact["uri"] = "."
        location["logicalLocations"] = [{"name": path or "artifact", "kind": "resource"}]
    else:
        artifact["uri"] = _uri(portable_path(path))
    if f.subject.digest:
        artifact["properties"] = {"digest": f.subject.digest}
    region = _sarif_region(f.subject.region)
    if region:
        location["physicalLocation"]["region"] = region
    result: dict[str, Any] = {
        "ruleId": f.id,
        "ruleIndex": index,
        "level": f.severity.sarif_level,
        "message": {"text": f"{f.title}: {f.detail}" if f.detail else f.title},
        "locations": [location],
        "partialFingerprints": {"aisecFinding/v1": f.fingerprint},
        "properties": {
            "severity": f.severity.value,
            "stage": f.stage,
            "remediation": f.remediation,
            "mappings": f.mappings.to_json(),
            "evidence": dict(f.evidence),
        },
    }
    if f.subject.region is not None and f.subject.region.member:
        result["properties"]["member"] = f.subject.region.member
    if f.fingerprint in suppressions:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": suppressions[f.fingerprint]}
        ]
    return result


def _sarif_region(region: Region | None) -> dict[str, Any]:
    if region is None:
        return {}
    out: dict[str, Any] = {}
    if region.start_line is not None:
        out["startLine"] = max(1, region.start_line)
        if region.end_line is not None and region.end_line >= region.start_line:
            out["endLine"] = region.end_line
    elif region.row is not None:
        # a table row: line row+1 of a CSV with a header (the closest SARIF has)
        out["startLine"] = region.row + 2
    if region.byte_offset is not None:
        out["byteOffset"] = max(0, region.byte_offset)
        if region.byte_length is not None:
            out["byteLength"] = max(0, region.byte_length)
    return out


def _rule_name(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Finding"


def _uri(path: str) -> str:
    """A relative URI reference for a (portable, relative) path. Windows separators become
    "/"; what that could turn into an absolute or climbing URI (a name that is a backslash,
    ``..\\x``) is kept literal: empty and "." segments dropped, ".." percent-encoded."""
    from urllib.parse import quote

    parts = [seg for seg in path.replace("\\", "/").split("/") if seg not in ("", ".")]
    # ":" encoded too: a first segment "c:" would read as a URI scheme
    text = "/".join("%2E%2E" if seg == ".." else quote(seg, safe=".-_~") for seg in parts)
    return text or "."


_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render_findings_text(findings: Iterable[Finding], console: Console) -> None:
    from rich.markup import escape

    """Human-readable listing, most severe first."""
    items = _sorted(findings)
    if not items:
        console.print("No findings.")
        return
    for f in items:
        sev = f.severity.value
        console.print(f"[{_STYLE[sev]}]{sev.upper():8}[/] {f.id}  {escape(f.title)}")
        where = f.subject.path + (f"  ({f.subject.digest[:19]}…)" if f.subject.digest else "")
        console.print(f"         {where}", markup=False)
        if f.detail:
            console.print(f"         {f.detail}", markup=False)
        if f.remediation:
            console.print(f"         fix: {f.remediation}", markup=False)
        tags = f.mappings.tags()
        if tags:
            console.print(f"         maps to: {', '.join(tags)}", markup=False)
