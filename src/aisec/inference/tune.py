"""Score detector alerts against a ground-truth file, per class and per detector.

Truth is JSON: ``{"accounts": {KEY_OR_NAME: {"label": "benign" | "attacker", "class": ...}}}``
(the top-level object may also be that mapping itself). A key is matched to the gateway's
account through the config's account table, so alerts never need to carry API keys.

"Queries to first alert" is the position of the alerted request in the account's own request
sequence; for a class spread over several accounts, in their merged sequence.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError
from aisec.inference.accounts import AccountTable

__all__ = ["Truth", "load_truth", "score", "truth_from"]

SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class Truth:
    label: dict[str, str]  # account name -> "benign" | "attacker"
    klass: dict[str, str]  # attacker account -> class
    kind: dict[str, str]  # account -> kind (for reports)


def load_truth(path: Path, table: AccountTable) -> Truth:
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read truth: {exc.strerror}", path=path) from exc
    except ValueError:
        raise FormatError("truth is not JSON", path=path) from None
    return truth_from(raw, table, path)


def truth_from(raw: Any, table: AccountTable, path: Path | None = None) -> Truth:
    """:class:`Truth` from an already parsed truth object."""
    accounts = raw.get("accounts", raw) if isinstance(raw, dict) else None
    if not isinstance(accounts, dict):
        raise FormatError("truth needs an 'accounts' mapping", path=path)
    label: dict[str, str] = {}
    klass: dict[str, str] = {}
    kind: dict[str, str] = {}
    names = set(table.names)
    for key, info in accounts.items():
        if not isinstance(info, dict) or not isinstance(info.get("label"), str):
            raise FormatError(f"truth entry {str(key)[:12]}…: needs a 'label'", path=path)
        acct = table.lookup(str(key))
        name = acct.name if acct is not None else (str(key) if str(key) in names else None)
        if name is None:
            continue  # an account the config does not know sent nothing the gateway saw
        benign = info["label"] == "benign"
        label[name] = "benign" if benign else "attacker"
        kind[name] = str(info.get("kind") or ("benign" if benign else "attacker"))
        if not benign:
            klass[name] = str(info.get("class") or info["label"])
    return Truth(label, klass, kind)


def score(
    order: list[str],
    alerts: list[dict[str, Any]],
    truth: Truth,
    peaks: dict[tuple[str, str], float] | None = None,
) -> dict[str, Any]:
    """``order``: the account of every replayed request, in order (alert ``i`` indexes it)."""
    own: dict[int, int] = {}
    group: dict[int, int] = {}
    seen: Counter[str] = Counter()
    per_class: Counter[str] = Counter()
    for i, acct in enumerate(order):
        seen[acct] += 1
        own[i] = seen[acct]
        c = truth.klass.get(acct)
        if c is not None:
            per_class[c] += 1
            group[i] = per_class[c]
    first: dict[str, tuple[int, str]] = {}
    by_detector: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        acct, i = a["account"], int(a["i"])
        by_detector[a["detector"]].add(acct)
        if acct not in first or i < first[acct][0]:
            first[acct] = (i, a["detector"])
    classes: dict[str, dict[str, Any]] = {}
    for c in sorted(set(truth.klass.values())):
        members = [a for a, k in truth.klass.items() if k == c]
        hits = [(first[a][0], first[a][1], a) for a in members if a in first]
        entry: dict[str, Any] = {"accounts": len(members), "flagged": len(hits)}
        entry["detected"] = bool(hits)
        if hits:
            i, det, _ = min(hits)
            entry["first_alert_query"] = group[i] if len(members) > 1 else own[i]
            entry["detector"] = det
        classes[c] = entry
    benign = [a for a, lab in truth.label.items() if lab == "benign"]
    flagged = sorted(a for a in benign if a in first)
    detectors: dict[str, dict[str, Any]] = {}
    attackers = {a for a, lab in truth.label.items() if lab == "attacker"}
    for det, accts in sorted(by_detector.items()):
        tp = len(accts & attackers)
        detectors[det] = {
            "flagged": len(accts),
            "precision": round(tp / len(accts), 4) if accts else None,
            "recall": round(tp / len(attackers), 4) if attackers else None,
            "benign_flagged": sorted(a for a in accts if truth.label.get(a) == "benign"),
        }
    if peaks:
        for (acct, det), peak in peaks.items():
            entry = detectors.setdefault(det, {"flagged": 0, "precision": None, "recall": None,
                                               "benign_flagged": []})  # fmt: skip
            sweep = entry.setdefault("thresholds", {f"x{s:g}": {"attackers": 0, "benign": []}
                                                    for s in SCALES})  # fmt: skip
            for s in SCALES:
                if peak >= s:
                    row = sweep[f"x{s:g}"]
                    if truth.label.get(acct) == "benign":
                        row["benign"].append(acct)
                    elif acct in attackers:
                        row["attackers"] += 1
        for entry in detectors.values():
            for row in entry.get("thresholds", {}).values():
                row["benign"].sort()
    return {
        "schema": "aisec.guard-tune/v1",
        "classes": classes,
        "benign": {
            "accounts": len(benign),
            "flagged": [
                {
                    "account": a,
                    "kind": truth.kind.get(a, ""),
                    "query": own[first[a][0]],
                    "detector": first[a][1],
                }
                for a in flagged
            ],
            "rate": round(len(flagged) / len(benign), 4) if benign else 0.0,
        },
        "detectors": detectors,
    }
