"""The six lifecycle stages, the controls aisec implements per stage, and the role matrix.

Reviewed data written by hand (``scripts/gen_catalog.py`` never touches this module). Every
threat id here is checked against the catalog by ``tests/core/test_frameworks.py``. The
controls of each stage are not listed here: each stage declares its own (``aisec.registry``).

Grounding: the SAIF elements and NIST AI RMF functions marked "page" come from the
lifecycle page the project implements (data: SAIF-1 + MAP; training: SAIF-4; evaluation:
MEASURE; deployment: SAIF-1 + OWASP LLM03; inference: SAIF-3 + AML.T0024; monitoring: SAIF-6
+ GOVERN + ISO/IEC 42001). Entries marked "ours" are our own reading, added so that every
stage names one NIST function and the alert and red-team controls their natural SAIF element.
The ISO/IEC 42001 Annex A controls per stage are all our own mapping.
"""

from __future__ import annotations

from dataclasses import replace

from aisec.core.frameworks._model import Role, Stage

__all__ = ["ROLES", "STAGES", "STAGE_ALIASES"]

_STAGES: tuple[Stage, ...] = (
    Stage(
        id="data",
        number=1,
        name="Data",
        question="Can we trust this data?",
        description="Where training data comes from, who touched it and whether it carries "
        "poison, noise or personal data, recorded before anyone trains on it.",
        cli_group="data",
        atlas=("AML.T0010.002", "AML.T0019", "AML.T0020", "AML.T0059"),
        owasp=("LLM02", "LLM03", "LLM04"),
        saif=("SAIF-1",),  # page
        nist=("MAP",),  # page
        iso=("A.7.3", "A.7.4", "A.7.5"),
    ),
    Stage(
        id="training",
        number=2,
        name="Training",
        question="Was the model trained as intended, on infrastructure nobody else could reach?",
        description="The weights are forged on a busy, distributed cluster: keep it isolated, "
        "restrict egress and record every checkpoint so tampering shows.",
        cli_group="train",
        atlas=(
            "AML.T0012",
            "AML.T0018",
            "AML.T0018.000",
            "AML.T0018.001",
            "AML.T0025",
            "AML.T0035",
            "AML.T0055",
        ),
        owasp=("LLM03", "LLM04"),
        saif=("SAIF-4",),  # page
        nist=("MEASURE",),  # ours: MEASURE 2.7, security and resilience evaluated
        iso=("A.4.5", "A.6.2.3"),
    ),
    Stage(
        id="evaluation",
        number=3,
        name="Evaluation",
        question="How does the model hold up against adversarial use, and what risk remains?",
        description="Probe the model the way attackers would and report residual risk with "
        "its confidence, not a bare pass or fail.",
        cli_group="redteam",
        atlas=(
            "AML.T0051",
            "AML.T0051.000",
            "AML.T0051.001",
            "AML.T0054",
            "AML.T0056",
            "AML.T0057",
            "AML.T0068",
        ),
        owasp=("LLM01", "LLM02", "LLM07"),
        saif=("SAIF-5",),  # ours: red-teaming and feedback loops are SAIF element 5
        nist=("MEASURE",),  # page
        iso=("A.6.2.4",),
    ),
    Stage(
        id="deployment",
        number=4,
        name="Deployment",
        question="Is what we deploy what we tested, and is it safe to load?",
        description="Model files can run code when loaded and can be swapped on the way to "
        "production: scan, convert to a safe format, sign and gate on evidence.",
        cli_group="model",
        atlas=(
            "AML.T0010",
            "AML.T0010.003",
            "AML.T0011",
            "AML.T0011.000",
            "AML.T0018",
            "AML.T0018.002",
            "AML.T0058",
            "AML.T0076",
            "AML.T0112.001",
        ),
        owasp=("LLM03", "LLM04"),  # LLM03: page
        saif=("SAIF-1",),  # page
        nist=("MANAGE",),  # ours: MANAGE 1.1, the decision whether deployment proceeds
        iso=("A.6.2.5", "A.10.3"),
    ),
    Stage(
        id="inference",
        number=5,
        name="Inference",
        question="Is someone abusing the live model: copying it, extracting data or "
        "running up cost?",
        description="Valid, well-formed API traffic can still steal a model or its training "
        "data: limit rates, spot extraction patterns and return as little signal as possible.",
        cli_group="guard",
        atlas=(
            "AML.T0024",
            "AML.T0024.000",
            "AML.T0024.001",
            "AML.T0024.002",
            "AML.T0029",
            "AML.T0034",
            "AML.T0034.000",
            "AML.T0034.001",
            "AML.T0040",
        ),
        owasp=("LLM02", "LLM10"),
        saif=("SAIF-3", "SAIF-2"),  # SAIF-3: page; SAIF-2: ours, the gateway raises alerts
        nist=("MANAGE",),  # ours: MANAGE 2.4 and 4.1, acting on risk in production
        iso=("A.6.2.6", "A.6.2.8"),
    ),
    Stage(
        id="monitoring",
        number=6,
        name="Monitoring",
        question="Which AI systems do we run, who owns them, and are they governed?",
        description="You cannot secure what you cannot see: find every model and AI service "
        "in use, shadow AI included, and report on them from the evidence.",
        cli_group="inventory",
        atlas=(
            "AML.T0012",
            "AML.T0096",
            "AML.T0103",
            "AML.T0108",
            "AML.T0112",
            "AML.T0112.000",
        ),
        owasp=("LLM02", "LLM03", "LLM06"),
        saif=("SAIF-6",),  # page
        nist=("GOVERN",),  # page
        iso=("A.3.2", "A.4.2", "A.6.2.6"),  # page names ISO/IEC 42001; controls are ours
    ),
)

# The role matrix. The source table lost its empty cells: every row lists its symbols
# left-aligned, so a row with fewer than six symbols does not say which stages are blank.
# The order of the symbols is kept (they still run data -> monitoring); the blanks are placed
# where the role has least to do, judged from the role's nature and the stage scenarios.
# Rows with six symbols are taken as they are. Resolved rows, with the source symbols:
#   AI Red Teamer            (o o * o *)  blank: monitoring
#   AI Model Validator       (o * * o)    blanks: inference, monitoring (validates before release)
#   MLOps Governance Eng.    (* * o * *)  blank: inference (owns pipelines, registry, monitoring)
#   AI Privacy Engineer      (* * o *)    blanks: deployment, monitoring (PII leaks at inference)
#   Data Governance Mgr (AI) (* o *)      blanks: evaluation, deployment, inference
#   AI Governance Lead       (o o o *)    blanks: training, inference (primary: monitoring)
#   AI Risk Manager          (o * o *)    blanks: training, inference (risk decision at
#                                         evaluation, risk tracking in monitoring)
#   AI Auditor               (o * *)      blanks: training, evaluation, inference (audits the
#                                         data trail, the release decision and governance)
#   AI Compliance Manager    (o * *)      blanks: training, deployment, inference (mandated
#                                         adversarial testing at evaluation, oversight after)
#   AI Bias Mitigation Spec. (* o * o)    blanks: deployment, inference (drift in monitoring)
#   AI Infrastructure Sec.   (* * * o)    blank: data (training cluster, serving stack)
# "*" = primary, "o" = secondary.
_P, _S = "primary", "secondary"
_MATRIX: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    (
        "ai-security-engineer",
        "AI Security Engineer",
        "Builds and runs the security controls around data, models and serving.",
        {
            "data": _P,
            "training": _S,
            "evaluation": _S,
            "deployment": _P,
            "inference": _P,
            "monitoring": _S,
        },
    ),
    (
        "ai-red-teamer",
        "AI Red Teamer",
        "Attacks models and AI applications before adversaries do and reports residual risk.",
        {"data": _S, "training": _S, "evaluation": _P, "deployment": _S, "inference": _P},
    ),
    (
        "ai-model-validator",
        "AI Model Validator",
        "Independently checks that a model is sound and performs as claimed before release.",
        {"data": _S, "training": _P, "evaluation": _P, "deployment": _S},
    ),
    (
        "mlops-governance-engineer",
        "MLOps Governance Engineer",
        "Builds traceability and policy into the pipelines that move data and models.",
        {"data": _P, "training": _P, "evaluation": _S, "deployment": _P, "monitoring": _P},
    ),
    (
        "ai-privacy-engineer",
        "AI Privacy Engineer",
        "Keeps personal data out of models and out of their answers.",
        {"data": _P, "training": _P, "evaluation": _S, "inference": _P},
    ),
    (
        "data-governance-manager",
        "Data Governance Manager (AI)",
        "Owns the rules for which data may be used for AI, and its lineage.",
        {"data": _P, "training": _S, "monitoring": _P},
    ),
    (
        "ai-governance-lead",
        "AI Governance Lead",
        "Runs the AI management system: inventory, ownership, policy and oversight.",
        {"data": _S, "evaluation": _S, "deployment": _S, "monitoring": _P},
    ),
    (
        "ai-risk-manager",
        "AI Risk Manager",
        "Sets risk tolerance and turns test results into risk decisions that are tracked.",
        {"data": _S, "evaluation": _P, "deployment": _S, "monitoring": _P},
    ),
    (
        "ai-auditor",
        "AI Auditor",
        "Verifies from evidence that AI systems were built and released as the controls say.",
        {"data": _S, "deployment": _P, "monitoring": _P},
    ),
    (
        "ai-compliance-manager",
        "AI Compliance Manager",
        "Maps legal and regulatory duties onto the AI lifecycle and checks they are met.",
        {"data": _S, "evaluation": _P, "monitoring": _P},
    ),
    (
        "ai-bias-mitigation-specialist",
        "AI Bias Mitigation Specialist",
        "Finds and reduces unfair bias in data, models and their outcomes.",
        {"data": _P, "training": _S, "evaluation": _P, "monitoring": _S},
    ),
    (
        "ai-infrastructure-security-specialist",
        "AI Infrastructure Security Specialist",
        "Secures the compute, networks and storage where models are trained and served.",
        {"training": _P, "deployment": _P, "inference": _P, "monitoring": _S},
    ),
)

_STAGE_ORDER = tuple(s.id for s in _STAGES)

ROLES: tuple[Role, ...] = tuple(
    Role(
        id=rid,
        name=name,
        focus=focus,
        primary=tuple(s for s in _STAGE_ORDER if cells.get(s) == _P),
        secondary=tuple(s for s in _STAGE_ORDER if cells.get(s) == _S),
    )
    for rid, name, focus, cells in _MATRIX
)


def _with_roles(stage: Stage) -> Stage:
    return replace(
        stage,
        primary_roles=tuple(r.id for r in ROLES if stage.id in r.primary),
        secondary_roles=tuple(r.id for r in ROLES if stage.id in r.secondary),
    )


STAGES: tuple[Stage, ...] = tuple(_with_roles(s) for s in _STAGES)

#: Other names a stage answers to: its number, short forms and the CLI group names.
STAGE_ALIASES: dict[str, str] = {
    **{str(s.number): s.id for s in _STAGES},
    "train": "training",
    "eval": "evaluation",
    "deploy": "deployment",
    "monitor": "monitoring",
    "redteam": "evaluation",
    "model": "deployment",
    "guard": "inference",
    "inventory": "monitoring",
}
