"""Hand-written tables: OWASP Top 10 for LLM Applications 2025, Google SAIF, ISO/IEC 42001.

Identifiers and names are facts of the published frameworks. Every description here is our
own one-line summary, not text copied from the framework. ``scripts/gen_catalog.py`` never
touches this module.
"""

from __future__ import annotations

from aisec.core.frameworks._model import Entry

__all__ = ["ISO_42001", "OWASP_LLM_2025", "SAIF"]

_OWASP = "owasp-llm-2025"
_OWASP_ROWS: tuple[tuple[str, str, str], ...] = (
    (
        "LLM01",
        "Prompt Injection",
        "Input typed by a user or hidden in content the model reads steers it away from "
        "its instructions.",
    ),
    (
        "LLM02",
        "Sensitive Information Disclosure",
        "The model or its application reveals personal data, secrets or proprietary "
        "details in its replies.",
    ),
    (
        "LLM03",
        "Supply Chain",
        "Third-party models, datasets, adapters or packages arrive tampered with, "
        "outdated or under unexpected terms.",
    ),
    (
        "LLM04",
        "Data and Model Poisoning",
        "Manipulated training, fine-tuning or embedding data plants backdoors, bias or "
        "degraded behaviour in the model.",
    ),
    (
        "LLM05",
        "Improper Output Handling",
        "Downstream code trusts model output without validating it, opening the way to "
        "XSS, SQL or command injection.",
    ),
    (
        "LLM06",
        "Excessive Agency",
        "An LLM-driven agent holds more tools, permissions or autonomy than its task "
        "needs, so one bad output becomes a harmful action.",
    ),
    (
        "LLM07",
        "System Prompt Leakage",
        "Instructions or secrets placed in a system prompt can be extracted and must "
        "never serve as a security boundary.",
    ),
    (
        "LLM08",
        "Vector and Embedding Weaknesses",
        "Weak access control or poisoned content in retrieval stores and embeddings "
        "leaks data or skews answers in RAG systems.",
    ),
    (
        "LLM09",
        "Misinformation",
        "Confident but false or misleading output is taken at face value by people or "
        "by the systems that consume it.",
    ),
    (
        "LLM10",
        "Unbounded Consumption",
        "Uncontrolled request volume or size exhausts resources, runs up cost or lets "
        "an attacker copy the model through its API.",
    ),
)

OWASP_LLM_2025: tuple[Entry, ...] = tuple(
    Entry(
        framework=_OWASP,
        id=rid,
        name=name,
        kind="risk",
        description=text,
        description_source="aisec summary",
        version="2025",
    )
    for rid, name, text in _OWASP_ROWS
)

_SAIF_ROWS: tuple[tuple[str, str, str], ...] = (
    (
        "SAIF-1",
        "Expand strong security foundations to the AI ecosystem",
        "Apply proven controls such as identity, supply-chain integrity and hardened "
        "infrastructure to AI systems, data and models.",
    ),
    (
        "SAIF-2",
        "Extend detection and response to bring AI into an organization's threat universe",
        "Watch the inputs and outputs of AI systems, track AI-specific threat "
        "intelligence and include AI in incident response.",
    ),
    (
        "SAIF-3",
        "Automate defenses to keep pace with existing and new threats",
        "Use automation, AI included, to detect and answer attacks at the speed and "
        "scale that AI-enabled adversaries bring.",
    ),
    (
        "SAIF-4",
        "Harmonize platform-level controls to ensure consistent security across the organization",
        "Provide the same controls and tooling on every AI platform so teams inherit "
        "protection instead of rebuilding it.",
    ),
    (
        "SAIF-5",
        "Adapt controls to adjust mitigations and create faster feedback loops for AI deployment",
        "Test continuously, red-team, and feed lessons from incidents and users back "
        "into mitigations and models.",
    ),
    (
        "SAIF-6",
        "Contextualize AI system risks in surrounding business processes",
        "Judge AI risk end to end, in the business process the system serves, with "
        "clear ownership and model risk management.",
    ),
)

SAIF: tuple[Entry, ...] = tuple(
    Entry(
        framework="saif",
        id=eid,
        name=name,
        kind="element",
        description=text,
        description_source="aisec summary",
    )
    for eid, name, text in _SAIF_ROWS
)

# ISO/IEC 42001:2023 Annex A: objective headings (A.x, and A.6.1/A.6.2 inside A.6) and the
# 38 reference controls with their short titles. No control text is reproduced.
_ISO_OBJECTIVES: tuple[tuple[str, str, str | None], ...] = (
    ("A.2", "Policies related to AI", None),
    ("A.3", "Internal organization", None),
    ("A.4", "Resources for AI systems", None),
    ("A.5", "Assessing impacts of AI systems", None),
    ("A.6", "AI system life cycle", None),
    ("A.6.1", "Management guidance for AI system development", "A.6"),
    ("A.6.2", "AI system life cycle", "A.6"),
    ("A.7", "Data for AI systems", None),
    ("A.8", "Information for interested parties of AI systems", None),
    ("A.9", "Use of AI systems", None),
    ("A.10", "Third-party and customer relationships", None),
)

_ISO_CONTROLS: tuple[tuple[str, str, str], ...] = (
    ("A.2.2", "AI policy", "A.2"),
    ("A.2.3", "Alignment with other organizational policies", "A.2"),
    ("A.2.4", "Review of the AI policy", "A.2"),
    ("A.3.2", "AI roles and responsibilities", "A.3"),
    ("A.3.3", "Reporting of concerns", "A.3"),
    ("A.4.2", "Resource documentation", "A.4"),
    ("A.4.3", "Data resources", "A.4"),
    ("A.4.4", "Tooling resources", "A.4"),
    ("A.4.5", "System and computing resources", "A.4"),
    ("A.4.6", "Human resources", "A.4"),
    ("A.5.2", "AI system impact assessment process", "A.5"),
    ("A.5.3", "Documentation of AI system impact assessments", "A.5"),
    ("A.5.4", "Assessing AI system impact on individuals or groups of individuals", "A.5"),
    ("A.5.5", "Assessing societal impacts of AI systems", "A.5"),
    ("A.6.1.2", "Objectives for responsible development of AI system", "A.6.1"),
    ("A.6.1.3", "Processes for responsible AI system design and development", "A.6.1"),
    ("A.6.2.2", "AI system requirements and specification", "A.6.2"),
    ("A.6.2.3", "Documentation of AI system design and development", "A.6.2"),
    ("A.6.2.4", "AI system verification and validation", "A.6.2"),
    ("A.6.2.5", "AI system deployment", "A.6.2"),
    ("A.6.2.6", "AI system operation and monitoring", "A.6.2"),
    ("A.6.2.7", "AI system technical documentation", "A.6.2"),
    ("A.6.2.8", "AI system recording of event logs", "A.6.2"),
    ("A.7.2", "Data for development and enhancement of AI system", "A.7"),
    ("A.7.3", "Acquisition of data", "A.7"),
    ("A.7.4", "Quality of data for AI systems", "A.7"),
    ("A.7.5", "Data provenance", "A.7"),
    ("A.7.6", "Data preparation", "A.7"),
    ("A.8.2", "System documentation and information for users", "A.8"),
    ("A.8.3", "External reporting", "A.8"),
    ("A.8.4", "Communication of incidents", "A.8"),
    ("A.8.5", "Information for interested parties", "A.8"),
    ("A.9.2", "Processes for responsible use of AI systems", "A.9"),
    ("A.9.3", "Objectives for responsible use of AI system", "A.9"),
    ("A.9.4", "Intended use of the AI system", "A.9"),
    ("A.10.2", "Allocating responsibilities", "A.10"),
    ("A.10.3", "Suppliers", "A.10"),
    ("A.10.4", "Customers", "A.10"),
)


def _iso_order(entry: Entry) -> tuple[int, ...]:
    return tuple(int(part) for part in entry.id[2:].split("."))


ISO_42001: tuple[Entry, ...] = tuple(
    sorted(
        [
            Entry("iso-42001", oid, name, "objective", parent=parent, version="2023")
            for oid, name, parent in _ISO_OBJECTIVES
        ]
        + [
            Entry("iso-42001", cid, name, "control", parent=parent, version="2023")
            for cid, name, parent in _ISO_CONTROLS
        ],
        key=_iso_order,
    )
)
