"""``discover``: read every evidence source, reconcile with the registry, build the inventory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aisec import __version__
from aisec.core.digest import digest_file, digest_path
from aisec.core.errors import AisecError, InputError
from aisec.core.findings import Finding, Subject, findings_to_json
from aisec.monitoring._assets import load_assets
from aisec.monitoring._billing import scan_billing, scan_cloudtrail
from aisec.monitoring._catalog import AiCatalog, load_ai_catalog
from aisec.monitoring._code import scan_code
from aisec.monitoring._detect import detect_format, iter_files
from aisec.monitoring._logs import (
    SquidFormat,
    dns_answers,
    read_squid_conf,
    scan_network_log,
    squid_logformat,
    zeek_json_kind,
)
from aisec.monitoring._model import Decision, Observation, RegistryEntry, Skipped
from aisec.monitoring._reconcile import System, reconcile
from aisec.monitoring._registry import load_registry, scan_saas
from aisec.monitoring._rules import UNREADABLE, make_finding

__all__ = ["INVENTORY_SCHEMA", "FileContext", "FileResult", "Inventory", "discover", "scan_file"]

INVENTORY_SCHEMA = "aisec.inventory/v1"
_NETWORK = ("zeek-tsv", "zeek-json", "squid", "proxy-csv", "proxy-jsonl")
_BILLING = ("aws-cur", "gcp-billing", "azure-cost")


@dataclass(frozen=True)
class Inventory:
    systems: tuple[System, ...]
    findings: tuple[Finding, ...]
    inputs: tuple[dict[str, Any], ...]
    skipped: tuple[Skipped, ...]
    catalog_version: str
    registry_source: str
    decisions: tuple[Decision, ...] = ()

    def to_json(self) -> dict[str, Any]:
        systems = [s.to_json() for s in self.systems]
        kinds: dict[str, int] = {}
        for s in systems:
            kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
        shadow = sum(1 for s in systems if not s["registered"])
        return {
            "schema": INVENTORY_SCHEMA,
            "tool": {"name": "aisec", "version": __version__},
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "catalog_version": self.catalog_version,
            "registry": self.registry_source,
            "summary": {
                "systems": len(systems),
                "registered": len(systems) - shadow,
                "shadow": shadow,
                "by_kind": kinds,
            },
            "systems": systems,
            "inputs": list(self.inputs),
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.skipped],
            "not_ai": [d.to_json() for d in self.decisions],
            "findings": findings_to_json(self.findings)["findings"],
        }


def _input(path: Path, fmt: str, role: str) -> dict[str, Any]:
    return {"path": str(path), "digest": digest_file(path), "format": fmt, "role": role}


def _paths(given: Sequence[str | os.PathLike[str]]) -> list[Path]:
    return [Path(x) for x in given]


def discover(
    *,
    registry: str,
    logs: Sequence[str | os.PathLike[str]] = (),
    billing: Sequence[str | os.PathLike[str]] = (),
    saas: Sequence[str | os.PathLike[str]] = (),
    code: Sequence[str | os.PathLike[str]] = (),
    catalog: AiCatalog | None = None,
    columns: Mapping[str, str] | None = None,
    registry_token: str | None = None,
    git: bool = True,
    progress: Callable[[int], None] | None = None,
    assets: str | os.PathLike[str] | None = None,
    squid_logformat: str | None = None,
    file_map: FileMap | None = None,
) -> Inventory:
    """Discover AI systems in the given sources and reconcile them with ``registry``.

    Each file's format is detected from its content, whichever option named it; a file
    that cannot be read becomes a skipped input and an ``AISEC-MON-006`` finding. Zeek
    ``dns`` logs are read first so ``conn`` logs can be named; a ``squid.conf`` next to a
    Squid log (or ``squid_logformat``) gives the custom ``logformat`` of that log.

    ``file_map`` parses and matches the log, billing and SaaS files (:func:`scan_file` on
    each, results in the order given): in this process by default, as Ray tasks with
    ``aisec.scale.ray_file_map``. The DNS maps and squid.conf formats are read first, on
    the driver; reconciliation always runs here.
    """
    log_paths, billing_paths, saas_paths = map(_paths, (logs, billing, saas))
    assets = None if assets is None else Path(assets)
    cat = catalog or load_ai_catalog()
    entries: list[RegistryEntry] = load_registry(registry, token=registry_token)
    inputs: list[dict[str, Any]] = []
    if not registry.startswith(("http://", "https://")):
        inputs.append(_input(Path(registry), "registry", "registry"))
    asset_map = load_assets(assets) if assets is not None else None
    if assets is not None:
        inputs.append(_input(assets, "assets", "assets"))
    observations: list[Observation] = []
    skipped: list[Skipped] = []
    decisions: list[Decision] = []
    files = [
        (role, f, detect_format(f))
        for role, paths in (("logs", log_paths), ("billing", billing_paths), ("saas", saas_paths))
        for f in iter_files(paths)
    ]
    given = squid_logformat_from(squid_logformat) if squid_logformat else None
    confs: dict[Path, SquidFormat] = {}
    dns_map: dict[str, str] = {}
    for role, f, fmt in files:
        try:
            if fmt == "squid-conf":
                found = read_squid_conf(f)
                if "" in found:
                    confs[f.parent] = found[""]
                inputs.append(_input(f, fmt, role))
            elif fmt in ("zeek-tsv", "zeek-json") and _zeek_kind(f, fmt) == "dns":
                dns_map.update(dns_answers(f, fmt, cat))
        except AisecError as exc:
            skipped.append(Skipped(str(f), exc.diagnostics()))
    ctx = FileContext(cat, columns, given, confs, dns_map)
    work = [(role, f, fmt) for role, f, fmt in files if fmt != "squid-conf"]
    results = file_map(work, ctx) if file_map is not None else (scan_file(w, ctx) for w in work)
    for res in results:
        observations += res.observations
        decisions += res.decisions
        if res.skipped is not None:
            skipped.append(res.skipped)
        if res.input is not None:
            inputs.append(res.input)
        if progress is not None:
            progress(res.size)
    for root in _paths(code):
        if not root.exists():
            raise InputError("no such file or folder", path=root)
        code_files = list(iter_files([root]))
        obs, skip = scan_code(root, code_files, cat, git=git, decisions=decisions)
        observations += obs
        skipped += skip
        digest = digest_path(root).digest if root.is_dir() else digest_file(root)
        inputs.append(
            {
                "path": str(root),
                "digest": digest,
                "format": "code",
                "role": "code",
                "files": len(code_files),
            }
        )
    # a DNS-only decision stands only for a client that never reached the host
    reached = {(o.host, o.client) for o in observations if o.host and "/dns" not in o.location}
    decisions = [
        d
        for d in decisions
        if " <- " not in d.subject or tuple(d.subject.split(" <- ", 1)) not in reached
    ]
    seen: dict[tuple[str, str], int] = {}
    for d in decisions:
        seen[(d.subject, d.reason)] = seen.get((d.subject, d.reason), 0) + 1
    unique: dict[tuple[str, str], Decision] = {}
    for d in decisions:
        n = seen[(d.subject, d.reason)]
        loc = f"{d.location} (and {n - 1} more files)" if n > 1 else d.location
        unique.setdefault((d.subject, d.reason), Decision(d.subject, d.reason, d.file, loc))
    decisions = list(unique.values())
    systems, findings = reconcile(
        observations, entries, catalog=cat, assets=asset_map, decisions=decisions
    )
    findings += [
        make_finding(UNREADABLE, Subject(path=s.file), s.reason, {"file": s.file}) for s in skipped
    ]
    return Inventory(
        systems=tuple(systems),
        findings=tuple(findings),
        inputs=tuple(inputs),
        skipped=tuple(skipped),
        catalog_version=cat.version,
        registry_source=registry,
        decisions=tuple(decisions),
    )


@dataclass(frozen=True)
class FileContext:
    """What parsing one file needs from the whole run (sent to workers on a cluster)."""

    catalog: AiCatalog
    columns: Mapping[str, str] | None
    given: SquidFormat | None
    confs: Mapping[Path, SquidFormat]
    dns_map: Mapping[str, str]


@dataclass(frozen=True)
class FileResult:
    observations: tuple[Observation, ...]
    decisions: tuple[Decision, ...]
    skipped: Skipped | None
    input: dict[str, Any] | None
    size: int


FileMap = Callable[[Sequence[tuple[str, Path, str]], FileContext], Iterable[FileResult]]


def scan_file(work: tuple[str, Path, str], ctx: FileContext) -> FileResult:
    """Parse and match one log, billing or SaaS file (its format already detected)."""
    role, f, fmt = work
    observations: list[Observation] = []
    decisions: list[Decision] = []
    size = f.stat().st_size if f.exists() else 0
    try:
        if fmt == "unknown" and role == "logs":
            sf = ctx.given or ctx.confs.get(f.parent)
            if sf is not None and _matches(f, sf):
                fmt = "squid-custom"
        if fmt in _NETWORK or fmt == "squid-custom":
            sf = ctx.given or ctx.confs.get(f.parent)
            observations += scan_network_log(
                f,
                fmt,
                ctx.catalog,
                columns=ctx.columns,
                squid_format=sf,
                dns_map=dict(ctx.dns_map),
                decisions=decisions,
            )
        elif fmt in _BILLING:
            observations += scan_billing(f, fmt, ctx.catalog)
        elif fmt == "cloudtrail":
            observations += scan_cloudtrail(f, ctx.catalog, decisions)
        elif fmt == "saas-csv":
            observations += scan_saas(f, ctx.catalog, decisions)
        else:
            hint = (
                " (a Squid log in a custom logformat? give --squid-logformat or its squid.conf)"
                if role == "logs" and fmt == "unknown"
                else ""
            )
            why = f"format not recognised ({fmt}){hint}"
            return FileResult((), tuple(decisions), Skipped(str(f), why), None, size)
    except AisecError as exc:
        # decisions made before the error stand, as in one pass over the file
        return FileResult((), tuple(decisions), Skipped(str(f), exc.diagnostics()), None, size)
    return FileResult(tuple(observations), tuple(decisions), None, _input(f, fmt, role), size)


def squid_logformat_from(text: str) -> SquidFormat:
    """``--squid-logformat``: a spec (``%ts.%03tu %6tr %>a ...``) or ``logformat NAME SPEC``."""
    t = text.strip()
    if t.startswith("logformat "):
        parts = t.split(None, 2)
        if len(parts) == 3:
            return squid_logformat(parts[1], parts[2])
    return squid_logformat("cli", t)


def _matches(path: Path, fmt: SquidFormat) -> bool:
    import re

    with path.open("rb") as fh:
        lines = [fh.readline(65536).decode("utf-8", "replace") for _ in range(5)]
    lines = [ln for ln in lines if ln.strip()]
    return bool(lines) and all(re.match(fmt.regex, ln) for ln in lines)


def _zeek_kind(path: Path, fmt: str) -> str:
    if fmt == "zeek-json":
        return zeek_json_kind(path)
    from aisec.monitoring._logs import _zeek_meta

    try:
        return _zeek_meta(path)[0]
    except AisecError:
        return ""
