"""Stage 3, evaluation: a red-team engine for LLM applications.

Attacks from a hash-pinned suite are sampled against a target; each category's attack
success rate is reported with a Clopper-Pearson interval corrected for measured detector
error, decided against a threshold with sequential testing, and mapped to OWASP LLM 2025
and ATLAS with a coverage matrix of what could not be tested.

    >>> from aisec.evaluation import OpenAIChatTarget, load_suite, run_campaign
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.evaluation._api import new_run_id, run_campaign, state_dir
    from aisec.evaluation._attest import REDTEAM_PREDICATE, redteam_statement
    from aisec.evaluation._converters import CONVERTERS, Converter, apply_chain
    from aisec.evaluation._coverage import COVERAGE_ROWS, CoverageState
    from aisec.evaluation._demo_target import (
        DEMO_CANARY,
        DEMO_MODEL,
        DEMO_RATES,
        DEMO_SYSTEM_PROMPT,
        DemoState,
        demo_app,
        demo_rates_for,
    )
    from aisec.evaluation._detectors import DETECTORS, DetectContext, Detector, calibration_cards
    from aisec.evaluation._engine import Progress, RunOptions, TargetContext, run_redteam
    from aisec.evaluation._html import render_html
    from aisec.evaluation._model import Message, Outcome, Probe, Reply, TrialRecord
    from aisec.evaluation._render import render_markdown, render_text
    from aisec.evaluation._report import REPORT_SCHEMA, build_report, report_findings
    from aisec.evaluation._rules import FINDING_RULES
    from aisec.evaluation._serve import DemoServer, serve_demo
    from aisec.evaluation._state import RunState
    from aisec.evaluation._stats import (
        CalibrationCard,
        Estimate,
        Verdict,
        clopper_pearson,
        estimate_rate,
    )
    from aisec.evaluation._suite import Suite, load_default_suite, load_suite
    from aisec.evaluation._targets import (
        Budget,
        CallableTarget,
        HttpJsonTarget,
        OpenAIChatTarget,
        RetryPolicy,
        Target,
    )
    from aisec.evaluation._verdict import CoverageRule

# the stage's modules load on first use: importing the package (as the control registry
# does) costs nothing
_EXPORTS = {
    "new_run_id": "aisec.evaluation._api",
    "run_campaign": "aisec.evaluation._api",
    "state_dir": "aisec.evaluation._api",
    "REDTEAM_PREDICATE": "aisec.evaluation._attest",
    "redteam_statement": "aisec.evaluation._attest",
    "CONVERTERS": "aisec.evaluation._converters",
    "Converter": "aisec.evaluation._converters",
    "apply_chain": "aisec.evaluation._converters",
    "COVERAGE_ROWS": "aisec.evaluation._coverage",
    "CoverageState": "aisec.evaluation._coverage",
    "DEMO_CANARY": "aisec.evaluation._demo_target",
    "DEMO_MODEL": "aisec.evaluation._demo_target",
    "DEMO_RATES": "aisec.evaluation._demo_target",
    "DEMO_SYSTEM_PROMPT": "aisec.evaluation._demo_target",
    "DemoState": "aisec.evaluation._demo_target",
    "demo_app": "aisec.evaluation._demo_target",
    "demo_rates_for": "aisec.evaluation._demo_target",
    "DETECTORS": "aisec.evaluation._detectors",
    "DetectContext": "aisec.evaluation._detectors",
    "Detector": "aisec.evaluation._detectors",
    "calibration_cards": "aisec.evaluation._detectors",
    "Progress": "aisec.evaluation._engine",
    "RunOptions": "aisec.evaluation._engine",
    "TargetContext": "aisec.evaluation._engine",
    "run_redteam": "aisec.evaluation._engine",
    "render_html": "aisec.evaluation._html",
    "Message": "aisec.evaluation._model",
    "Outcome": "aisec.evaluation._model",
    "Probe": "aisec.evaluation._model",
    "Reply": "aisec.evaluation._model",
    "TrialRecord": "aisec.evaluation._model",
    "render_markdown": "aisec.evaluation._render",
    "render_text": "aisec.evaluation._render",
    "FINDING_RULES": "aisec.evaluation._rules",
    "REPORT_SCHEMA": "aisec.evaluation._report",
    "build_report": "aisec.evaluation._report",
    "report_findings": "aisec.evaluation._report",
    "DemoServer": "aisec.evaluation._serve",
    "serve_demo": "aisec.evaluation._serve",
    "RunState": "aisec.evaluation._state",
    "CalibrationCard": "aisec.evaluation._stats",
    "Estimate": "aisec.evaluation._stats",
    "Verdict": "aisec.evaluation._stats",
    "clopper_pearson": "aisec.evaluation._stats",
    "estimate_rate": "aisec.evaluation._stats",
    "Suite": "aisec.evaluation._suite",
    "load_default_suite": "aisec.evaluation._suite",
    "load_suite": "aisec.evaluation._suite",
    "Budget": "aisec.evaluation._targets",
    "CallableTarget": "aisec.evaluation._targets",
    "HttpJsonTarget": "aisec.evaluation._targets",
    "OpenAIChatTarget": "aisec.evaluation._targets",
    "RetryPolicy": "aisec.evaluation._targets",
    "Target": "aisec.evaluation._targets",
    "CoverageRule": "aisec.evaluation._verdict",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "CONVERTERS",
    "COVERAGE_ROWS",
    "DEMO_CANARY",
    "DEMO_MODEL",
    "DEMO_RATES",
    "DEMO_SYSTEM_PROMPT",
    "DETECTORS",
    "FINDING_RULES",
    "REDTEAM_PREDICATE",
    "REPORT_SCHEMA",
    "Budget",
    "CalibrationCard",
    "CallableTarget",
    "Converter",
    "CoverageRule",
    "CoverageState",
    "DemoServer",
    "DemoState",
    "DetectContext",
    "Detector",
    "Estimate",
    "HttpJsonTarget",
    "Message",
    "OpenAIChatTarget",
    "Outcome",
    "Probe",
    "Progress",
    "Reply",
    "RetryPolicy",
    "RunOptions",
    "RunState",
    "Suite",
    "Target",
    "TargetContext",
    "TrialRecord",
    "Verdict",
    "apply_chain",
    "build_report",
    "calibration_cards",
    "clopper_pearson",
    "demo_app",
    "demo_rates_for",
    "estimate_rate",
    "load_default_suite",
    "load_suite",
    "new_run_id",
    "redteam_statement",
    "render_html",
    "render_markdown",
    "render_text",
    "report_findings",
    "run_campaign",
    "run_redteam",
    "serve_demo",
    "state_dir",
]
__dir__ = lazy_dir(__all__)
