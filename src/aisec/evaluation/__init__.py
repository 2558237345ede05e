"""Stage 3, evaluation: a red-team engine for LLM applications.

Attacks from a hash-pinned suite are sampled against a target; each category's attack
success rate is reported with a Clopper-Pearson interval corrected for measured detector
error, decided against a threshold with sequential testing, and mapped to OWASP LLM 2025
and ATLAS with a coverage matrix of what could not be tested.

    >>> from aisec.evaluation import OpenAIChatTarget, load_suite, run_campaign
"""

from __future__ import annotations

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
from aisec.evaluation._report import FINDING_RULES, REPORT_SCHEMA, build_report, report_findings
from aisec.evaluation._serve import DemoServer, serve_demo
from aisec.evaluation._state import RunState
from aisec.evaluation._stats import (
    CalibrationCard,
    Estimate,
    Verdict,
    clopper_pearson,
    estimate_rate,
    wilson,
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
    "wilson",
]
