# ruff: noqa: E501  (the generated rows are data tables; one row per line reads best)
"""A synthetic enterprise for demos and tests: 12 registered models, 19 hidden systems.

Writes Zeek (TSV and JSON) and Squid logs, an AWS CUR and a GCP billing export, a SaaS
subscription list, a small git repository and an MLflow registry export, mixed with benign
traffic and spend (CDNs, package mirrors, ordinary compute) that must not be reported.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EnterpriseTruth", "synth_enterprise"]

_T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

#: (name, endpoint, owner) of the 12 registered models; None owner = an ownerless entry.
_REGISTRY: tuple[tuple[str, str | None, str | None], ...] = (
    ("support-chatbot", "api.openai.com", "alice@acme.example"),
    ("contract-search", "acme-legal.openai.azure.com", "legal-eng@acme.example"),
    ("churn-predictor", None, "ds-team@acme.example"),
    ("fraud-detector", None, "risk-ml@acme.example"),
    ("recsys-ranker", None, "reco@acme.example"),
    ("doc-embeddings", "sentence-transformers/all-MiniLM-L6-v2", "search@acme.example"),
    ("dev-copilot", "github-copilot", "platform@acme.example"),
    ("demand-forecast", None, "supply-chain@acme.example"),
    ("credit-risk-scorer", None, None),
    ("invoice-ocr", "AmazonTextract", "finance-ops@acme.example"),
    ("vision-qc", "gcp-vertex-ai:mfg-vision", "manufacturing@acme.example"),
    ("hr-assistant", "chatgpt-enterprise", "people-ops@acme.example"),
)
#: Hidden AI API hosts in network logs (one system each) and the user who calls them.
_SHADOW_HOSTS = (
    ("api.anthropic.com", "fin-analyst1", "anthropic"),  # the LLM summarising earnings calls
    ("api.cohere.com", "10.20.1.15", "cohere"),
    ("api.mistral.ai", "10.20.1.16", "mistral"),
    ("api.groq.com", "10.20.3.40", "groq"),
    ("api.together.xyz", "10.20.3.41", "together"),
    ("api.replicate.com", "designer2", "replicate"),
    ("generativelanguage.googleapis.com", "10.30.0.9", "google-gemini"),
    ("acme-oss.us-east-1.aws.endpoints.huggingface.cloud", "10.20.3.42", "huggingface-inference"),
    ("api.perplexity.ai", "sales-ops3", "perplexity"),
)
_KNOWN_HOSTS = (
    ("api.openai.com", "10.10.0.5"),
    ("acme-legal.openai.azure.com", "10.10.0.6"),
    ("chatgpt.com", "hr-user1"),
    ("api.githubcopilot.com", "10.20.1.15"),
)
_BENIGN_HOSTS = (
    "github.com",
    "pypi.org",
    "files.pythonhosted.org",
    "fonts.googleapis.com",
    "cdn.jsdelivr.net",
    "www.google.com",
    "s3.amazonaws.com",
    "login.microsoftonline.com",
    "slack.com",
    "openai.com",
    "huggingface.co",
    "storage.googleapis.com",
    "cdn.cloudflare.net",
    "ajax.googleapis.com",
    "update.microsoft.com",
    "www.amazon.com",
)


@dataclass(frozen=True)
class EnterpriseTruth:
    """What the generated enterprise really contains (for tests and the demo)."""

    root: Path
    registered: int
    shadow: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.registered + len(self.shadow)


def _zeek_tsv(path: Path, kind: str, fields: list[str], rows: list[list[str]]) -> None:
    head = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{kind}",
        "#open\t2026-01-01-00-00-00",
        "#fields\t" + "\t".join(fields),
        "#types\t" + "\t".join("string" for _ in fields),
    ]
    body = ["\t".join(r) for r in rows]
    path.write_text("\n".join([*head, *body, "#close\t2026-01-31-00-00-00"]) + "\n")


def _traffic(rng: random.Random, noise: int) -> list[tuple[float, str, str]]:
    events: list[tuple[float, str, str]] = []
    for host, user, *_ in _SHADOW_HOSTS + _KNOWN_HOSTS:
        events += [(_T0 + rng.uniform(0, 2.5e6), user, host) for _ in range(rng.randint(5, 40))]
    for _ in range(noise):
        events.append(
            (
                _T0 + rng.uniform(0, 2.5e6),
                f"10.{rng.randint(0, 40)}.{rng.randint(0, 9)}.{rng.randint(2, 250)}",
                rng.choice(_BENIGN_HOSTS),
            )
        )
    events.sort()
    return events


def _logs(d: Path, rng: random.Random, noise: int) -> None:
    d.mkdir(parents=True)
    ev = _traffic(rng, noise)
    third = len(ev) // 3
    dns, ssl, squid = ev[:third], ev[third : 2 * third], ev[2 * third :]
    _zeek_tsv(
        d / "dns.log",
        "dns",
        ["ts", "uid", "id.orig_h", "id.resp_h", "query", "qtype_name"],
        [
            [f"{t:.6f}", f"C{i:x}", u if u[0].isdigit() else "10.99.0.1", "10.0.0.53", h, "A"]
            for i, (t, u, h) in enumerate(dns)
        ],
    )
    with (d / "ssl.log").open("w") as fh:
        for t, u, h in ssl:
            ip = u if u[0].isdigit() else "10.99.0.2"
            fh.write(
                json.dumps(
                    {
                        "_path": "ssl",
                        "ts": round(t, 6),
                        "id.orig_h": ip,
                        "server_name": h,
                        "version": "TLSv13",
                    }
                )
                + "\n"
            )
    with (d / "access.log").open("w") as fh:
        for t, u, h in squid:
            ident = "-" if u[0].isdigit() else u
            client = u if u[0].isdigit() else "10.50.0.8"
            fh.write(
                f"{t:.3f} {rng.randint(20, 900):6d} {client} TCP_TUNNEL/200 "
                f"{rng.randint(500, 90000)} CONNECT {h}:443 {ident} HIER_DIRECT/{h} -\n"
            )


def _billing(d: Path) -> None:
    d.mkdir(parents=True)
    cur = [
        "identity/LineItemId,lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,"
        "lineItem/ResourceId,product/instanceType,lineItem/UnblendedCost,"
        "resourceTags/user:CostCenter,resourceTags/user:Project"
    ]
    rows = [
        (
            "AmazonSageMaker",
            "USE1-Host:ml.m5.xlarge",
            "arn:aws:sagemaker:us-east-1:111:endpoint/churn-predictor",
            "",
            "412.10",
            "data-science",
            "churn",
        ),
        (
            "AmazonSageMaker",
            "USE1-Host:ml.c5.xlarge",
            "arn:aws:sagemaker:us-east-1:111:endpoint/fraud-detector",
            "",
            "988.00",
            "risk",
            "fraud",
        ),
        ("AmazonTextract", "USE1-AnalyzeDocument", "", "", "77.31", "finance", "invoices"),
        (
            "AmazonBedrock",
            "USE1-Claude3Sonnet-input-tokens",
            "",
            "",
            "1840.55",
            "marketing",
            "campaigns",
        ),
        (
            "AmazonEC2",
            "USE1-BoxUsage:p4d.24xlarge",
            "i-0abc1",
            "p4d.24xlarge",
            "23512.70",
            "engineering",
            "llm-finetune",
        ),
        (
            "AmazonEC2",
            "USE1-BoxUsage:g5.12xlarge",
            "i-0abc2",
            "g5.12xlarge",
            "3120.00",
            "engineering",
            "llm-finetune",
        ),
        (
            "AmazonEC2",
            "USE1-BoxUsage:m5.large",
            "i-0def1",
            "m5.large",
            "70.08",
            "web",
            "storefront",
        ),
        (
            "AmazonS3",
            "USE1-TimedStorage-ByteHrs",
            "acme-data",
            "",
            "230.00",
            "data-science",
            "lake",
        ),
        (
            "AmazonRDS",
            "USE1-InstanceUsage:db.r6g.large",
            "db-1",
            "db.r6g.large",
            "310.00",
            "web",
            "storefront",
        ),
    ]
    cur += [
        f"li{i}-{day},2026-01-{day:02d}T00:00:00Z,{prod},{usage},{res},{inst},{cost},{cc},{proj}"
        for i, (prod, usage, res, inst, cost, cc, proj) in enumerate(rows)
        for day in (1, 15)
    ]
    (d / "cur.csv").write_text("\n".join(cur) + "\n")
    gcp = [
        "billing_account_id,service.description,sku.description,project.id,usage_start_time,cost,labels.team"
    ]
    gcp += [
        "0A-1,Vertex AI,Online prediction n1-standard-4,mfg-vision,2026-01-03T00:00:00Z,210.40,manufacturing",
        "0A-1,Vertex AI,Gemini 1.5 Pro input tokens,mkt-genai,2026-01-04T00:00:00Z,530.00,marketing",
        "0A-1,Compute Engine,Nvidia Tesla A100 GPU running in Americas,eng-oss-llm,2026-01-05T00:00:00Z,4100.00,engineering",
        "0A-1,Compute Engine,N1 Predefined Instance Core running in Americas,web-prod,2026-01-05T00:00:00Z,95.00,web",
        "0A-1,Cloud Storage,Standard Storage US Multi-region,web-prod,2026-01-05T00:00:00Z,12.00,web",
        "0A-1,BigQuery,Analysis,analytics,2026-01-06T00:00:00Z,40.00,data-science",
    ]
    (d / "gcp-billing.csv").write_text("\n".join(gcp) + "\n")


def _saas(d: Path) -> None:
    d.mkdir(parents=True)
    rows = [
        "vendor,product,description,department,owner,annual_cost,start_date",
        "GitHub,Copilot Business,AI pair programmer for engineers,engineering,platform@acme.example,22800,2025-03-01",
        "OpenAI,ChatGPT Enterprise,ChatGPT workspace for HR policy questions,people,people-ops@acme.example,18000,2025-06-01",
        "Jasper,Jasper Business,Marketing content generation with CMS publishing access,marketing,cmo-office@acme.example,14400,2025-09-01",
        "Obviously AI,Obviously AI Pro,Lead scoring model trained on exported CRM data,sales,sales-ops@acme.example,9000,2025-10-01",
        "Otter.ai,Otter Business,Meeting transcription and summaries,sales,,3600,2025-11-01",
        "Notion Labs,Notion Plus,Team wiki with Notion AI add-on,operations,,4800,2025-04-01",
        "Slack,Slack Business+,Team chat,it,it@acme.example,60000,2023-01-01",
        "Zoom,Zoom Business,Video meetings,it,it@acme.example,20000,2023-01-01",
        "Atlassian,Jira Software,Issue tracking,engineering,platform@acme.example,30000,2022-01-01",
        "Salesforce,Sales Cloud,CRM licences,sales,sales-ops@acme.example,120000,2021-01-01",
        "Workday,HCM,Payroll and HR records,people,people-ops@acme.example,90000,2021-01-01",
    ]
    (d / "subscriptions.csv").write_text("\n".join(rows) + "\n")


def _repo(d: Path, rng: random.Random) -> None:
    (d / "support_bot").mkdir(parents=True)
    (d / "support_bot" / "bot.py").write_text(
        "import openai\n\nclient = openai.OpenAI()\n\ndef answer(q):\n"
        "    return client.chat.completions.create(model='gpt-4o', messages=[q])\n"
    )
    (d / "search").mkdir()
    (d / "search" / "embed.py").write_text(
        "from sentence_transformers import SentenceTransformer\n\n"
        "model = SentenceTransformer('sentence-transformers/all-MiniLM-L6-v2')\n"
    )
    (d / "research").mkdir()
    (d / "research" / "finetune.py").write_text(
        "import requests\nfrom transformers import AutoModelForCausalLM\n\n"
        "m = AutoModelForCausalLM.from_pretrained('meta-llama/Meta-Llama-3-8B-Instruct')\n"
    )
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# try mistral"]},
            {
                "cell_type": "code",
                "source": [
                    "!pip install transformers\n",
                    "from transformers import pipeline\n",
                    "gen = pipeline('text-generation', model='mistralai/Mistral-7B-Instruct-v0.3')\n",
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (d / "research" / "explore.ipynb").write_text(json.dumps(nb))
    (d / "models").mkdir()
    onnx = b"\x08\x07\x12\x07pytorch" + bytes(rng.getrandbits(8) for _ in range(256))
    (d / "models" / "recsys_ranker.onnx").write_bytes(onnx)
    (d / "models" / "lookup.bin").write_bytes(bytes(rng.getrandbits(8) for _ in range(512)))
    (d / "web").mkdir()
    (d / "web" / "app.ts").write_text("import express from 'express';\nimport _ from 'lodash';\n")
    git = shutil.which("git")
    if git is None:
        return
    env_cmd = [git, "-C", str(d), "-c", "user.name=Dana Eng", "-c", "user.email=dana@acme.example"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run([*env_cmd, *args], check=False, capture_output=True, timeout=30)  # noqa: S603 - our own fresh repo


def _registry(path: Path) -> None:
    models = []
    for name, endpoint, owner in _REGISTRY:
        tags = [{"key": "endpoint", "value": endpoint}] if endpoint else []
        if owner:
            tags.append({"key": "owner", "value": owner})
        models.append(
            {
                "name": name,
                "description": f"{name} model",
                "tags": tags,
                "latest_versions": [
                    {
                        "version": "3",
                        "source": f"s3://acme-models/{name}/3",
                        "current_stage": "Production",
                    }
                ],
            }
        )
    path.write_text(json.dumps({"registered_models": models}, indent=1))


def synth_enterprise(root: Path, *, seed: int = 0, noise: int = 3000) -> EnterpriseTruth:
    """Write the enterprise under ``root`` (which must not exist or be empty)."""
    from aisec.core.errors import InputError

    if root.exists() and any(root.iterdir()):
        raise InputError("folder is not empty", path=root)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    root.mkdir(parents=True, exist_ok=True)
    _logs(root / "logs", rng, noise)
    _billing(root / "billing")
    _saas(root / "saas")
    _repo(root / "repo", rng)
    _registry(root / "registry.json")
    shadow = (
        *(sid for _, _, sid in _SHADOW_HOSTS),
        "aws-bedrock",
        "aws-gpu:llm-finetune",
        "gcp-vertex-ai:mkt-genai",
        "gcp-gpu:eng-oss-llm",
        "jasper",
        "obviously-ai",
        "otter",
        "notion-ai",
        "model:meta-llama/meta-llama-3-8b-instruct",
        "model:mistralai/mistral-7b-instruct-v0.3",
    )
    return EnterpriseTruth(root=root, registered=len(_REGISTRY), shadow=shadow)
