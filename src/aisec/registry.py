"""The registry of every control of every stage: one explicit tuple, read by everything.

``aisec controls``, ``aisec lifecycle``, the deploy gate's reasons, the dashboard and the
governance report read controls and rules from here; each stage declares its own in its
``_controls`` module (next to its rules) and this module only gathers them, in code.
"""

from __future__ import annotations

from collections.abc import Mapping

from aisec.core.controls import Control, Rule
from aisec.core.evidence._controls import CONTROLS as _CORE
from aisec.data._controls import CONTROLS as _DATA
from aisec.deployment._controls import CONTROLS as _DEPLOYMENT
from aisec.evaluation._controls import CONTROLS as _EVALUATION
from aisec.inference._controls import CONTROLS as _INFERENCE
from aisec.monitoring._controls import CONTROLS as _MONITORING
from aisec.training._controls import CONTROLS as _TRAINING

__all__ = [
    "CONTROLS",
    "RULES",
    "control",
    "control_for_predicate",
    "controls_for_stage",
    "rule",
]

#: Every control, in lifecycle order (core first).
CONTROLS: tuple[Control, ...] = (
    *_CORE,
    *_DATA,
    *_TRAINING,
    *_EVALUATION,
    *_DEPLOYMENT,
    *_INFERENCE,
    *_MONITORING,
)


def _index() -> tuple[dict[str, Control], dict[str, Control], dict[str, Rule]]:
    by_id: dict[str, Control] = {}
    by_type: dict[str, Control] = {}
    rules: dict[str, Rule] = {}
    for c in CONTROLS:
        if c.id in by_id:
            raise RuntimeError(f"control {c.id} is declared twice")
        by_id[c.id] = c
        for t in c.predicate_types:
            if t in by_type:
                raise RuntimeError(f"{t} is claimed by {by_type[t].id} and {c.id}")
            by_type[t] = c
        for r in c.rules:
            if r.id in rules and rules[r.id] != r:
                raise RuntimeError(f"finding id {r.id} is declared twice")
            rules[r.id] = r
    return by_id, by_type, rules


_BY_ID, _BY_TYPE, _RULES = _index()

#: Every finding rule of the tool, by id (unique across stages).
RULES: Mapping[str, Rule] = _RULES


def control(control_id: str) -> Control:
    """The control ``<stage>/<key>``; raises KeyError naming the known ids."""
    try:
        return _BY_ID[control_id]
    except KeyError:
        raise KeyError(f"no control {control_id!r}; known: {', '.join(_BY_ID)}") from None


def control_for_predicate(predicate_type: str) -> Control | None:
    """The control that records ``predicate_type`` (current or an older version)."""
    return _BY_TYPE.get(predicate_type)


def controls_for_stage(stage: str) -> tuple[Control, ...]:
    return tuple(c for c in CONTROLS if c.stage == stage)


def rule(rule_id: str) -> Rule:
    return _RULES[rule_id]
