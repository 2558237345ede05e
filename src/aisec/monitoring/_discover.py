"""``discover``: read every evidence source, reconcile with the registry, build the inventory."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aisec import __version__
from aisec.core.digest import digest_file, digest_path
from aisec.core.errors import AisecError, InputError
from aisec.core.findings import Finding, Subject, findings_to_json
from aisec.monitoring._billing import scan_billing
from aisec.monitoring._catalog import AiCatalog, load_ai_catalog
from aisec.monitoring._code import scan_code
from aisec.monitoring._detect import detect_format, iter_files
from aisec.monitoring._logs import scan_network_log
from aisec.monitoring._model import Observation, RegistryEntry, Skipped
from aisec.monitoring._reconcile import System, reconcile
from aisec.monitoring._registry import load_registry, scan_saas
from aisec.monitoring._rules import UNREADABLE, make_finding

__all__ = ["INVENTORY_SCHEMA", "Inventory", "discover"]

INVENTORY_SCHEMA = "aisec.inventory/v1"
_NETWORK = ("zeek-tsv", "zeek-json", "squid", "proxy-csv", "proxy-jsonl")
_BILLING = ("aws-cur", "gcp-billing")


@dataclass(frozen=True)
class Inventory:
    systems: tuple[System, ...]
    findings: tuple[Finding, ...]
    inputs: tuple[dict[str, Any], ...]
    skipped: tuple[Skipped, ...]
    catalog_version: str
    registry_source: str

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
            "findings": findings_to_json(self.findings)["findings"],
        }


def _input(path: Path, fmt: str, role: str) -> dict[str, Any]:
    return {"path": str(path), "digest": digest_file(path), "format": fmt, "role": role}


def discover(
    *,
    registry: str,
    logs: Sequence[Path] = (),
    billing: Sequence[Path] = (),
    saas: Sequence[Path] = (),
    code: Sequence[Path] = (),
    catalog: AiCatalog | None = None,
    columns: Mapping[str, str] | None = None,
    registry_token: str | None = None,
    git: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Inventory:
    """Discover AI systems in the given sources and reconcile them with ``registry``.

    Each file's format is detected from its content, whichever option named it; a file
    that cannot be read becomes a skipped input and an ``AISEC-MON-006`` finding.
    """
    cat = catalog or load_ai_catalog()
    entries: list[RegistryEntry] = load_registry(registry, token=registry_token)
    inputs: list[dict[str, Any]] = []
    if not registry.startswith(("http://", "https://")):
        inputs.append(_input(Path(registry), "registry", "registry"))
    observations: list[Observation] = []
    skipped: list[Skipped] = []
    for role, paths in (("logs", logs), ("billing", billing), ("saas", saas)):
        for f in iter_files(paths):
            fmt = detect_format(f)
            try:
                if fmt in _NETWORK:
                    observations += scan_network_log(f, fmt, cat, columns=columns)
                elif fmt in _BILLING:
                    observations += scan_billing(f, fmt, cat)
                elif fmt == "saas-csv":
                    observations += scan_saas(f, cat)
                else:
                    skipped.append(Skipped(str(f), f"format not recognised ({fmt})"))
                    continue
            except AisecError as exc:
                skipped.append(Skipped(str(f), exc.diagnostics()))
                continue
            finally:
                if progress is not None:
                    progress(f.stat().st_size)
            inputs.append(_input(f, fmt, role))
    for root in code:
        if not root.exists():
            raise InputError("no such file or folder", path=root)
        files = list(iter_files([root]))
        obs, skip = scan_code(root, files, cat, git=git)
        observations += obs
        skipped += skip
        digest = digest_path(root).digest if root.is_dir() else digest_file(root)
        inputs.append(
            {
                "path": str(root),
                "digest": digest,
                "format": "code",
                "role": "code",
                "files": len(files),
            }
        )
    systems, findings = reconcile(observations, entries)
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
    )
