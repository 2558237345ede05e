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
from typing import Any

from rich.console import Console
from rich.markup import escape

from aisec import __version__

__all__ = [
    "FINDINGS_SCHEMA",
    "Finding",
    "Mappings",
    "Region",
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
    """Where inside the artifact: a line range of a text file, a byte range of a binary
    one, a row of a table, a member of an archive. Rendered as a SARIF region."""

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


def findings_to_sarif(
    findings: Sequence[Finding],
    *,
    rule_help: Mapping[str, str] | None = None,
    suppressions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """SARIF 2.1.0: one run, one rule per finding id, one result per finding.

    ``suppressions`` maps a finding's fingerprint to the justification of an active triage
    decision (a risk acceptance, a false positive...); such results carry a SARIF
    ``suppressions`` entry, so code scanning shows them as dismissed with the reason.
    """
    items = _sorted(findings)
    rules: dict[str, dict[str, Any]] = {}
    for f in items:
        if f.id in rules:
            continue
        rules[f.id] = {
            "id": f.id,
            "name": _rule_name(f.title),
            "shortDescription": {"text": f.title},
            "fullDescription": {"text": f.detail or f.title},
            "help": {"text": (rule_help or {}).get(f.id, f.remediation) or f.title},
            "defaultConfiguration": {"level": f.severity.sarif_level},
            "properties": {
                "tags": ["security", f"stage:{f.stage}", *f.mappings.tags()],
                "security-severity": f.severity.security_severity,
            },
        }
    rule_index = {rid: i for i, rid in enumerate(rules)}
    results = []
    for f in items:
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": _uri(f.subject.path)}}
        }
        result: dict[str, Any] = {
            "ruleId": f.id,
            "ruleIndex": rule_index[f.id],
            "level": f.severity.sarif_level,
            "message": {"text": f"{f.title}: {f.detail}" if f.detail else f.title},
            "locations": [location],
            "properties": {
                "severity": f.severity.value,
                "stage": f.stage,
                "remediation": f.remediation,
                "mappings": f.mappings.to_json(),
                "evidence": dict(f.evidence),
            },
        }
        if f.subject.digest:
            algo, _, hexdigest = f.subject.digest.partition(":")
            location["physicalLocation"]["artifactLocation"]["properties"] = {
                "digest": f.subject.digest
            }
            result["partialFingerprints"] = {"aisecSubject/v1": f"{f.id}:{algo}:{hexdigest}"}
        result.setdefault("partialFingerprints", {})["aisecFinding/v1"] = f.fingerprint
        if suppressions and f.fingerprint in suppressions:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": suppressions[f.fingerprint],
                }
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aisec",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }


def _rule_name(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Finding"


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/:.-_~")


_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render_findings_text(findings: Iterable[Finding], console: Console) -> None:
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
