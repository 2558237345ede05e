"""Per-source risk: rates of each check with Wilson intervals, provenance flags, controls.

Each component is a rate of rows (label issues, trigger-feature rows, outliers,
spectral-signature rows,
duplicates, PII, missing cells, leakage) scaled by the rate at which it saturates, and
the components combine as independent chances of harm::

    data_risk = 1 - prod(1 - weight_k * min(1, rate_k / saturation_k))
    risk      = 1 - (1 - data_risk) * prod(1 - flag_weight_f)

The interval recomputes the same formula with every rate at the low and then the high
end of its 95 % Wilson score interval, so a source with few rows gets a wide interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aisec.core.stats import wilson

__all__ = ["COMPONENTS", "FLAG_WEIGHTS", "SourceCounts", "score_sources"]

# name -> (weight, saturation rate)
COMPONENTS: tuple[tuple[str, float, float], ...] = (
    ("label_issues", 1.0, 0.25),
    # a confirmed trigger is deliberate: 1 % of a source's rows carrying one saturates
    ("poisoning", 1.0, 0.01),
    ("pii", 0.5, 0.10),
    ("leakage", 0.5, 0.10),
    ("duplicates", 0.3, 0.20),
    ("gross_errors", 0.3, 0.02),
    ("outliers", 0.3, 0.20),
    ("spectral", 0.3, 0.20),
    ("missing", 0.3, 0.30),
)

FLAG_WEIGHTS: Mapping[str, float] = {
    "retracted-citation": 0.25,
    "no-audit-trail": 0.20,
    "self-reported": 0.15,
    "scraped": 0.15,
    "disputed-citation": 0.15,
    "synthetic": 0.05,
}

_CONTROLS: Mapping[str, str] = {
    "label_issues": "re-label the flagged rows (or drop them) before training",
    "poisoning": "quarantine the flagged rows and the rows sharing the trigger value; "
    "ask the source for its collection logs",
    "pii": "redact or drop the personal data and restrict access to the source",
    "leakage": "remove rows shared with the test split and re-split by entity",
    "duplicates": "deduplicate before splitting and training",
    "outliers": "review the outlying rows with a domain expert",
    "gross_errors": "correct the flagged values with the stated conversion, or drop them",
    "spectral": "review rows with a high spectral signature in their class (possible poison)",
    "missing": "impute or drop incomplete rows; ask the source why values are missing",
    "retracted-citation": "do not rely on the published label accuracy; re-validate a sample",
    "disputed-citation": "re-validate a labelled sample before use",
    "no-audit-trail": "require vendor lineage (collection and labelling logs) before use",
    "self-reported": "weight down or verify self-reported labels against a trusted subset",
    "scraped": "check licence and consent; restrict to a reviewed subset",
    "synthetic": "keep synthetic rows out of the test split",
}


@dataclass
class SourceCounts:
    """Counts for one source: rows checked and rows hit, per component."""

    name: str
    rows: int
    sampled: int
    hits: dict[str, tuple[int, int]]  # component -> (hits, trials)
    flags: tuple[str, ...] = ()
    records: tuple[str, ...] = ()


def _combine(rates: Mapping[str, float], flags: Sequence[str]) -> float:
    keep = 1.0
    for name, weight, sat in COMPONENTS:
        if name in rates:
            keep *= 1 - weight * min(1.0, rates[name] / sat)
    for f in flags:
        keep *= 1 - FLAG_WEIGHTS.get(f, 0.0)
    return 1 - keep


def score_sources(counts: Sequence[SourceCounts]) -> list[dict[str, Any]]:
    """Risk, components, interval and rank of each source, riskiest first."""
    out: list[dict[str, Any]] = []
    for c in counts:
        comps: dict[str, Any] = {}
        rate, low, high = {}, {}, {}
        for name, weight, sat in COMPONENTS:
            if name not in c.hits:
                continue
            k, n = c.hits[name]
            lo, hi = wilson(k, n)
            rate[name], low[name], high[name] = (k / n if n else 0.0), lo, hi
            comps[name] = {
                "rate": round(rate[name], 4),
                "count": k,
                "of": n,
                "ci": [round(lo, 4), round(hi, 4)],
                # how this component enters the risk: weight x min(1, rate / saturation)
                "weight": weight,
                "saturates_at": sat,
                "contribution": round(weight * min(1.0, rate[name] / sat), 4),
            }
        risk = _combine(rate, c.flags)
        ci = [_combine(low, c.flags), _combine(high, c.flags)]
        comps["provenance"] = {
            "flags": list(c.flags),
            "risk": round(1 - math.prod(1 - FLAG_WEIGHTS.get(f, 0.0) for f in c.flags), 4),
            "records": list(c.records),
        }
        if not c.records:
            comps["provenance"]["note"] = "no provenance record registered for this source"
        controls = [
            _CONTROLS[name]
            for name, weight, sat in COMPONENTS
            if name in rate and weight * min(1.0, high[name] / sat) >= 0.15 and rate[name] > 0
        ]
        controls += [_CONTROLS[f] for f in c.flags if f in _CONTROLS]
        if not c.records:
            controls.append("register a provenance record: aisec data register")
        out.append(
            {
                "name": c.name,
                "rows": c.rows,
                "sampled": c.sampled,
                "risk": round(risk, 4),
                "ci": [round(min(ci[0], risk), 4), round(max(ci[1], risk), 4)],
                "components": comps,
                "controls": controls,
            }
        )
    out.sort(key=lambda s: (-s["risk"], -s["ci"][1], s["name"]))
    for i, s in enumerate(out, 1):
        s["rank"] = i
    return out
