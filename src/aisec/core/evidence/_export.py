"""Export of the log as JSON lines, and offline verification of an export."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from aisec.core.errors import FormatError
from aisec.core.evidence.attestation import canonical_json
from aisec.core.evidence.keys import PublicKey
from aisec.core.evidence.verify import RawEntry, TreeHead, VerifyReport, verify_log

__all__ = ["EXPORT_SCHEMA", "read_export", "verify_export"]

EXPORT_SCHEMA = "aisec.evidence-export/v1"


def read_export(lines: IO[str]) -> tuple[str, list[RawEntry], list[TreeHead], list[PublicKey]]:
    """Parse an export; entries keep the exact canonical bytes that were hashed."""
    log_id = ""
    entries: list[RawEntry] = []
    heads: list[TreeHead] = []
    keys: list[PublicKey] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise FormatError(f"export line {n} is not JSON") from exc
        if not isinstance(obj, dict):
            raise FormatError(f"export line {n} is not a JSON object")
        try:
            if "schema" in obj:
                if obj["schema"] != EXPORT_SCHEMA:
                    raise FormatError(f"export line {n}: unknown schema {obj['schema']!r}")
                log_id = str(obj.get("log_id", ""))
            elif "key" in obj:
                keys.append(PublicKey.from_pem(str(obj["key"]["pem"]).encode(), source="key"))
            elif "entry" in obj:
                e = obj["entry"]
                entries.append(
                    RawEntry(int(e["index"]), str(e["leaf_hash"]), canonical_json(e["envelope"]))
                )
            elif "tree_head" in obj:
                heads.append(TreeHead.from_json(obj["tree_head"]))
            else:
                raise FormatError(f"export line {n}: unknown record")
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"export line {n} is malformed ({exc})") from exc
    if not log_id:
        raise FormatError(f"not an aisec evidence export (no {EXPORT_SCHEMA} header line)")
    return log_id, entries, heads, keys


def verify_export(
    lines: IO[str], keys: Sequence[PublicKey] | None = None, *, witness: TreeHead | None = None
) -> VerifyReport:
    _log_id, entries, heads, stored = read_export(lines)
    pinned = bool(keys)
    return verify_log(
        entries, heads, list(keys) if keys else stored, pinned=pinned, witness=witness
    )
