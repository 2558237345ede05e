"""NIST AI RMF 1.0 (NIST AI 100-1): the 4 functions, 19 categories and 72 subcategories.

Identifiers are the official ones (``GOVERN``, ``GOVERN 1``, ``GOVERN 1.1``). The official
outcome statements are long sentences; the titles below are short summaries in our own words.
"""

from __future__ import annotations

from aisec.core.frameworks._model import Entry

__all__ = ["NIST_AI_RMF", "NIST_FUNCTION_ABBREVIATIONS"]

#: Official two-letter abbreviations (``GV-1.1`` style), mapped to the function id.
NIST_FUNCTION_ABBREVIATIONS: dict[str, str] = {
    "GV": "GOVERN",
    "MP": "MAP",
    "MS": "MEASURE",
    "MG": "MANAGE",
}

_FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "GOVERN",
        "Govern",
        "Build the culture, policies, accountability and oversight that make AI risk "
        "management happen across the organisation.",
    ),
    (
        "MAP",
        "Map",
        "Establish the context of an AI system and identify the risks and impacts it brings.",
    ),
    (
        "MEASURE",
        "Measure",
        "Analyse, test and track the identified AI risks with suitable methods and metrics.",
    ),
    (
        "MANAGE",
        "Manage",
        "Prioritise the mapped and measured risks and act on them: treat, respond, recover, "
        "communicate.",
    ),
)

# (category id, category title, (subcategory titles in order 1, 2, ...))
_CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "GOVERN 1",
        "Risk management policies and practices in place",
        (
            "Legal and regulatory requirements for AI known and documented",
            "Trustworthy-AI characteristics built into policy",
            "Depth of risk management matched to risk tolerance",
            "Risk management set through transparent policies and controls",
            "Monitoring and periodic review of the risk process planned",
            "Inventory of AI systems maintained",
            "Safe decommissioning and phase-out of AI systems",
        ),
    ),
    (
        "GOVERN 2",
        "Accountability structures and training",
        (
            "Roles, responsibilities and lines of communication documented",
            "Staff and partners trained in AI risk management",
            "Executive leadership accountable for AI risk decisions",
        ),
    ),
    (
        "GOVERN 3",
        "Diverse teams and human-AI oversight roles",
        (
            "Risk decisions informed by a diverse team",
            "Roles for human-AI configurations and oversight defined",
        ),
    ),
    (
        "GOVERN 4",
        "Culture that considers and communicates AI risk",
        (
            "Critical thinking and a safety-first mindset fostered",
            "Teams document and communicate the risks and impacts of their AI",
            "Practices for AI testing, incident discovery and information sharing",
        ),
    ),
    (
        "GOVERN 5",
        "Engagement with relevant AI actors",
        (
            "Feedback from people outside the team collected and weighed",
            "Adjudicated feedback fed back into system design",
        ),
    ),
    (
        "GOVERN 6",
        "Third-party software, data and supply-chain risk",
        (
            "Policies for third-party AI risks, including IP infringement",
            "Contingency plans for failures of high-risk third-party data or systems",
        ),
    ),
    (
        "MAP 1",
        "Context established and understood",
        (
            "Intended purpose, setting, laws and norms documented",
            "Interdisciplinary, diverse actors set the context",
            "Organisational mission and AI goals documented",
            "Business value or context of use defined",
            "Organisational risk tolerances determined",
            "System requirements gathered with socio-technical implications in view",
        ),
    ),
    (
        "MAP 2",
        "AI system categorised",
        (
            "Tasks and methods the system supports defined",
            "Knowledge limits and human oversight of outputs documented",
            "Scientific integrity and TEVV considerations documented",
        ),
    ),
    (
        "MAP 3",
        "Capabilities, use, benefits and costs understood",
        (
            "Potential benefits examined",
            "Potential costs of errors examined, non-monetary ones included",
            "Scope of the targeted application specified",
            "Operator and practitioner proficiency processes defined",
            "Human oversight processes defined",
        ),
    ),
    (
        "MAP 4",
        "Risks and benefits mapped for every component, third parties included",
        (
            "Technical and legal risks of components mapped, third-party data and IP included",
            "Internal risk controls for components identified",
        ),
    ),
    (
        "MAP 5",
        "Impacts on people, organisations and society characterised",
        (
            "Likelihood and size of each impact identified",
            "Regular engagement and feedback on impacts in place",
        ),
    ),
    (
        "MEASURE 1",
        "Methods and metrics chosen and applied",
        (
            "Metrics chosen for the most significant risks; unmeasured risks recorded",
            "Metrics and control effectiveness reassessed regularly",
            "Independent assessors take part in regular assessments",
        ),
    ),
    (
        "MEASURE 2",
        "System evaluated for trustworthy characteristics",
        (
            "Test sets, metrics and TEVV tools documented",
            "Human-subject evaluations meet requirements and are representative",
            "Performance measured under deployment-like conditions",
            "System behaviour monitored in production",
            "Validity and reliability shown; limits of generalisation documented",
            "Safety risks evaluated; the system can fail safely",
            "Security and resilience evaluated and documented",
            "Transparency and accountability risks examined",
            "Model explained and validated; output interpreted in context",
            "Privacy risk examined",
            "Fairness and bias evaluated",
            "Environmental impact and sustainability assessed",
            "Effectiveness of TEVV metrics and processes evaluated",
        ),
    ),
    (
        "MEASURE 3",
        "Identified risks tracked over time",
        (
            "Existing, unexpected and emerging risks tracked in deployment",
            "Risk tracking where measurement is hard or metrics are missing",
            "Feedback and appeal channels for users and affected communities",
        ),
    ),
    (
        "MEASURE 4",
        "Feedback on measurement efficacy gathered",
        (
            "Measurement tied to deployment context and domain expertise",
            "Trustworthiness results checked with domain experts and AI actors",
            "Performance changes identified from stakeholder input and field data",
        ),
    ),
    (
        "MANAGE 1",
        "Mapped and measured risks prioritised and answered",
        (
            "Decision on whether development or deployment should go ahead",
            "Risk treatment prioritised by impact, likelihood and resources",
            "Responses to high-priority risks planned and documented",
            "Residual risks to acquirers and end users documented",
        ),
    ),
    (
        "MANAGE 2",
        "Strategies to maximise benefit and minimise harm",
        (
            "Resources and non-AI alternatives taken into account",
            "Value of deployed systems sustained",
            "Response and recovery for newly found risks",
            "Means to supersede, disengage or deactivate a misbehaving system",
        ),
    ),
    (
        "MANAGE 3",
        "Third-party AI risks and benefits managed",
        (
            "Third-party resources monitored and controlled",
            "Pre-trained models monitored as part of maintenance",
        ),
    ),
    (
        "MANAGE 4",
        "Risk treatment, response, recovery and communication monitored",
        (
            "Post-deployment monitoring plans implemented",
            "Continual improvement built into system updates",
            "Incidents and errors communicated, tracked and recovered from",
        ),
    ),
)


def _build() -> tuple[Entry, ...]:
    def entry(eid: str, name: str, kind: str, parent: str | None, text: str | None) -> Entry:
        return Entry(
            framework="nist-ai-rmf",
            id=eid,
            name=name,
            kind=kind,
            description=text,
            description_source="aisec summary" if text else None,
            parent=parent,
            version="1.0",
        )

    rows = []
    for fid, name, text in _FUNCTIONS:
        rows.append(entry(fid, name, "function", None, text))
        for cid, title, subs in _CATEGORIES:
            if cid.split(" ")[0] != fid:
                continue
            rows.append(entry(cid, title, "category", fid, None))
            rows.extend(
                entry(f"{cid}.{n}", sub, "subcategory", cid, None) for n, sub in enumerate(subs, 1)
            )
    return tuple(rows)


NIST_AI_RMF: tuple[Entry, ...] = _build()
