# ruff: noqa: E501, PERF401  (generated rows are data tables; one row per line reads best)
"""A synthetic enterprise for demos and tests: a logistics company with traps.

*Brightwater Freight* has 7 registered AI systems and 9 shadow ones, seen through Zeek JSON
logs (``ssl``, ``dns``, ``conn``, ``http``), a CSV secure web gateway, a branch Squid in a
custom ``logformat`` (defined in its ``squid.conf``), an AWS CUR 2.0 in Parquet, an Azure
cost export, a GCP billing export, gzip CloudTrail, a SaaS list, repositories with
CODEOWNERS, an MLflow registry export and an asset inventory that maps hosts, a cloud
account and projects to teams.

The traps: one system in many sources (a tenant resource in logs, code and billing; an
internal model server in HTTP logs, a Dockerfile and a GPU bill), a forward proxy that Zeek
sees for everybody's traffic, and decoys that must not become systems: a brand on a ``.ai``
domain, a scheduling SaaS, a CRM AI add-on that is not licensed, a video tool with AI
disabled, a cancelled AI subscription, a supply-chain SaaS whose copy mentions machine
learning, GPU spend for video transcoding, a pickled holiday calendar, DNS-only lookups by a
scanner, requests blocked by the gateway, read-only Bedrock calls by an audit role, APM
telemetry and OpenAPI / asyncio packages.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EnterpriseTruth", "synth_enterprise"]

_T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
_DAY = 86_400.0
_ACCT, _ACCT2 = "111122223333", "444455556666"


@dataclass(frozen=True)
class EnterpriseTruth:
    """What the generated enterprise really contains (for tests and the demo).

    ``systems``: one dict per real system (``id``, ``registered``, ``registry_id``, ``team``,
    ``idents``: strings only that system's report may contain); ``decoys``: identifiers
    that no reported system may contain.
    """

    root: Path
    registered: int
    shadow: tuple[str, ...]
    systems: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    decoys: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.registered + len(self.shadow)


#: (id, registered, team, identifiers unique to the system)
_SYSTEMS: tuple[tuple[str, bool, str, tuple[str, ...]], ...] = (
    ("BW-1", True, "network-planning", ("eta-scorer-01", "eta_lgbm_v3")),
    ("BW-2", True, "customer-care", ("bw-care-weu",)),
    ("BW-3", True, "finance", ("comprehend",)),
    ("BW-4", True, "document-services", ("bw-docs-ai",)),
    ("BW-5", True, "it-workplace", ("claude.ai",)),
    ("BW-6", True, "engineering", ("githubcopilot",)),
    ("BW-7", True, "sales", ("einstein",)),
    ("X1", False, "dispatch", ("api.groq.com",)),
    ("X2", False, "warehouse-ops", ("api.together.xyz",)),
    ("X3", False, "customs", ("deepl",)),
    ("X4", False, "warehouse-automation", ("ollama-gpu-02",)),
    ("X5", False, "analytics", (_ACCT2,)),
    ("X6", False, "knowledge", ("api.openai.com",)),
    ("X7", False, "customer-care", ("bw-speech-ne",)),
    ("X8", False, "sales", ("perplexity",)),
    ("X9", False, "sales", ("fireflies",)),
)
_DECOYS = (
    "routeplan",
    "calendly",
    "hubspot",
    "zoom",
    "jasper",
    "kinaxis",
    "transcode-01",
    "holidays.pkl",
    "api.deepseek.com",
    "appinsights",
    "openapi",
    "aiofiles",
)

#: hosts: ip -> (hostname, team, owner)
_HOSTS = {
    "10.50.1.10": ("eta-scorer-01", "network-planning", "a.lind@bwfreight.example"),
    "10.50.1.20": ("care-bot-01", "customer-care", "m.osei@bwfreight.example"),
    "10.50.1.30": ("finance-ocr-01", "finance", "p.varga@bwfreight.example"),
    "10.50.2.11": ("dispatch-tools-01", "dispatch", "r.cruz@bwfreight.example"),
    "10.50.2.40": ("ollama-gpu-02", "warehouse-automation", "j.berg@bwfreight.example"),
    "10.50.2.41": ("label-scan-01", "warehouse-automation", "j.berg@bwfreight.example"),
    "10.50.3.15": ("kb-search-01", "knowledge", "t.amari@bwfreight.example"),
    "10.50.0.3": ("gw-proxy-01", "it-workplace", "n.holm@bwfreight.example"),
    "10.50.0.53": ("dns-01", "it-workplace", "n.holm@bwfreight.example"),
    "10.90.0.5": ("vuln-scan-01", "secops", "k.dahl@bwfreight.example"),
    "10.60.4.21": ("wh-pc-021", "warehouse-ops", "e.moss@bwfreight.example"),
    "10.60.4.22": ("wh-pc-022", "warehouse-ops", "e.moss@bwfreight.example"),
    "10.60.5.31": ("cu-pc-031", "customs", "l.sato@bwfreight.example"),
    "10.60.6.11": ("eng-pc-011", "engineering", "d.ford@bwfreight.example"),
    "10.60.6.12": ("eng-pc-012", "engineering", "d.ford@bwfreight.example"),
    "10.60.7.41": ("hq-pc-041", "finance", "p.varga@bwfreight.example"),
    "10.60.7.42": ("hq-pc-042", "legal", "c.ng@bwfreight.example"),
    "10.60.8.51": ("sa-pc-051", "sales", "v.roy@bwfreight.example"),
    "10.61.1.5": ("br-pc-005", "sales", "v.roy@bwfreight.example"),
    "10.61.1.6": ("br-pc-006", "sales", "v.roy@bwfreight.example"),
}
_AI_IP = {
    "api.groq.com": "52.0.0.10",
    "api.together.xyz": "52.0.0.11",
    "api.openai.com": "52.0.0.12",
    "bw-care-weu.openai.azure.com": "52.0.0.13",
    "comprehend.eu-central-1.amazonaws.com": "52.0.0.14",
    "claude.ai": "52.0.0.15",
    "api.deepl.com": "52.0.0.16",
    "www.perplexity.ai": "52.0.0.17",
}
_BENIGN = (
    "github.com",
    "pypi.org",
    "files.pythonhosted.org",
    "login.microsoftonline.com",
    "routeplan.ai",
    "calendly.com",
    "docs.anthropic.com",
    "platform.openai.com.cdn.example.net",
    "dc.services.visualstudio.com",
    "api.openai.com.evil.example",
)


def _ts(rng: random.Random, day: int) -> float:
    return _T0 + day * _DAY + rng.uniform(7 * 3600, 18 * 3600)


def _json_log(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: r["ts"])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def _network(d: Path, rng: random.Random, noise: int) -> None:
    ssl: list[dict[str, Any]] = []
    dns: list[dict[str, Any]] = []
    conn: list[dict[str, Any]] = []
    http: list[dict[str, Any]] = []

    def session(client: str, host: str, n: int, *, sni: bool = True) -> None:
        for _ in range(n):
            t = _ts(rng, rng.randrange(14))
            dns.append(
                {
                    "_path": "dns",
                    "ts": t - 0.05,
                    "id.orig_h": client,
                    "query": host,
                    "answers": [_AI_IP.get(host, "52.9.9.9")],
                }
            )
            c = {
                "_path": "conn",
                "ts": t,
                "id.orig_h": client,
                "id.resp_h": _AI_IP.get(host, "52.9.9.9"),
                "id.resp_p": 443,
                "conn_state": "SF",
            }
            conn.append(c)
            if sni:
                ssl.append(
                    {
                        "_path": "ssl",
                        "ts": t,
                        "id.orig_h": client,
                        "id.resp_h": c["id.resp_h"],
                        "server_name": host,
                    }
                )

    session("10.50.2.11", "api.groq.com", 40)  # X1 dispatch tool
    session("10.50.3.15", "api.openai.com", 35)  # X6 knowledge search (LlamaIndex)
    session("10.50.1.20", "bw-care-weu.openai.azure.com", 60)  # BW-2
    session(
        "10.50.1.30", "comprehend.eu-central-1.amazonaws.com", 25, sni=False
    )  # BW-3: conn + dns only
    # the gateway proxy's own sessions: everybody's traffic, attributed with the gateway log
    for host in ("claude.ai", "api.deepl.com", "www.perplexity.ai", "api.together.xyz"):
        session("10.50.0.3", host, 15)
    # the scanner only resolves names: no session
    for host in ("api.groq.com", "api.together.xyz", "api.mistral.ai"):
        for _ in range(6):
            dns.append(
                {
                    "_path": "dns",
                    "ts": _ts(rng, rng.randrange(14)),
                    "id.orig_h": "10.90.0.5",
                    "query": host,
                    "answers": ["52.9.9.9"],
                }
            )
    # internal model server (Ollama API) on the GPU box, called by the label scanner
    for _ in range(50):
        t = _ts(rng, rng.randrange(14))
        http.append(
            {
                "_path": "http",
                "ts": t,
                "id.orig_h": "10.50.2.41",
                "id.resp_h": "10.50.2.40",
                "method": "POST",
                "host": "ollama-gpu-02.bw.lan:11434",
                "uri": "/api/generate",
                "status_code": 200,
            }
        )
    # the ETA scorer is plain HTTP inside the data centre, no AI API path
    for _ in range(20):
        t = _ts(rng, rng.randrange(14))
        http.append(
            {
                "_path": "http",
                "ts": t,
                "id.orig_h": "10.60.7.41",
                "id.resp_h": "10.50.1.10",
                "method": "POST",
                "host": "eta-scorer-01.bw.lan:8080",
                "uri": "/score",
                "status_code": 200,
            }
        )
    clients = list(_HOSTS)
    for _ in range(noise):
        t = _ts(rng, rng.randrange(14))
        host = rng.choice(_BENIGN)
        ssl.append(
            {
                "_path": "ssl",
                "ts": t,
                "id.orig_h": rng.choice(clients),
                "id.resp_h": "52.8.8.8",
                "server_name": host,
            }
        )
    _json_log(d / "zeek" / "ssl.log", ssl)
    _json_log(d / "zeek" / "dns.log", dns)
    _json_log(d / "zeek" / "conn.log", conn)
    _json_log(d / "zeek" / "http.log", http)

    # secure web gateway export (CSV), head office
    gw = [("timestamp", "src_ip", "username", "url", "action", "status")]
    plan = [
        ("10.60.4.21", "e.moss", "https://api.together.xyz/v1/chat/completions", 30, "allow"),
        ("10.60.4.22", "b.kaur", "https://api.together.xyz/v1/chat/completions", 12, "allow"),
        ("10.60.5.31", "l.sato", "https://api.deepl.com/v2/translate", 25, "allow"),
        ("10.60.6.11", "d.ford", "https://api.githubcopilot.com/chat", 40, "allow"),
        ("10.60.6.12", "s.khan", "https://copilot-proxy.githubusercontent.com/v1", 30, "allow"),
        ("10.60.7.41", "p.varga", "https://claude.ai/chat", 20, "allow"),
        ("10.60.7.42", "c.ng", "https://claude.ai/chat", 18, "allow"),
        ("10.60.8.51", "v.roy", "https://claude.ai/chat", 9, "allow"),
        ("10.60.7.42", "c.ng", "https://api.deepseek.com/chat", 14, "block"),
        ("10.60.8.51", "v.roy", "https://routeplan.ai/app", 22, "allow"),
        ("10.60.8.51", "v.roy", "https://docs.anthropic.com/en/api", 6, "allow"),
    ]
    for ip, user, url, n, action in plan:
        for _ in range(n):
            t = _ts(rng, rng.randrange(14))
            gw.append((f"{t:.3f}", ip, user, url, action, "403" if action == "block" else "200"))
    for _ in range(noise // 2):
        t = _ts(rng, rng.randrange(14))
        gw.append(
            (
                f"{t:.3f}",
                rng.choice(clients),
                "-",
                f"https://{rng.choice(_BENIGN)}/",
                "allow",
                "200",
            )
        )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(gw)
    (d / "gateway").mkdir(parents=True, exist_ok=True)
    (d / "gateway" / "egress.csv").write_text(buf.getvalue(), "utf-8")

    # branch Squid with a custom logformat (client first, ISO time, no user)
    squid = d / "branch-squid"
    squid.mkdir(parents=True, exist_ok=True)
    (squid / "squid.conf").write_text(
        "http_port 3128\n"
        'logformat bw_branch %>a %{%Y-%m-%dT%H:%M:%S}tl %rm %ru %>Hs %<st "%{User-Agent}>h"\n'
        "access_log stdio:/var/log/squid/access.log bw_branch\n",
        "utf-8",
    )
    lines = []
    for ip, n in (("10.61.1.5", 30), ("10.61.1.6", 21)):
        for _ in range(n):
            day = rng.randrange(14)
            lines.append(
                f'{ip} 2026-01-{day + 1:02d}T10:{rng.randrange(60):02d}:00 CONNECT www.perplexity.ai:443 200 5120 "Mozilla/5.0 (X11; Linux)"'
            )
    for _ in range(noise // 4):
        lines.append(
            f'10.61.1.5 2026-01-03T09:00:00 GET http://{rng.choice(_BENIGN)}/x 200 900 "Mozilla/5.0"'
        )
    rng.shuffle(lines)
    (squid / "access.log").write_text("\n".join(lines) + "\n", "utf-8")


def _billing(d: Path) -> None:
    import polars as pl

    rows: list[dict[str, Any]] = []

    def cur(
        product: str,
        usage: str,
        resource: str,
        cost: float,
        *,
        account: str = _ACCT,
        region: str = "eu-central-1",
        instance: str = "",
        **tags: str,
    ) -> None:
        for day in range(1, 15):
            rows.append(
                {
                    "line_item_usage_account_id": account,
                    "line_item_usage_start_date": f"2026-01-{day:02d}T00:00:00Z",
                    "line_item_product_code": product,
                    "line_item_usage_type": usage,
                    "line_item_resource_id": resource,
                    "product_instance_type": instance,
                    "product_region_code": region,
                    "line_item_unblended_cost": cost,
                    "resource_tags_user_name": tags.get("name", ""),
                    "resource_tags_user_team": tags.get("team", ""),
                    "resource_tags_user_project": tags.get("project", ""),
                }
            )

    cur(
        "AmazonEC2",
        "EUC1-BoxUsage:c6i.2xlarge",
        "i-0e7a11",
        8.2,
        instance="c6i.2xlarge",
        name="eta-scorer-01",
        team="network-planning",
        project="eta-model",
    )
    cur("AmazonComprehend", "EUC1-NLPDetectEntities", "", 3.1)
    cur(
        "AmazonBedrock",
        "USW2-Claude3Haiku-input-tokens",
        "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        5.5,
        account=_ACCT2,
        region="us-west-2",
    )
    cur(
        "AmazonEC2",
        "EUC1-BoxUsage:g5.xlarge",
        "i-0a110a",
        24.0,
        instance="g5.xlarge",
        name="ollama-gpu-02",
        team="warehouse-automation",
    )
    cur(
        "AmazonEC2",
        "EUC1-BoxUsage:g4dn.xlarge",
        "i-0b1d30",
        12.6,
        instance="g4dn.xlarge",
        name="transcode-01",
        team="media",
        project="video-transcode",
    )
    cur("AmazonS3", "EUC1-TimedStorage-ByteHrs", "bw-archive", 2.0)
    (d / "aws").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_parquet(d / "aws" / "cur2-2026-01.parquet")

    az = [
        (
            "SubscriptionName",
            "ResourceGroup",
            "ResourceLocation",
            "Date",
            "MeterCategory",
            "MeterSubCategory",
            "MeterName",
            "ConsumedService",
            "ResourceName",
            "ResourceId",
            "Tags",
            "CostInBillingCurrency",
        )
    ]
    for day in range(1, 15):
        dt = f"2026-01-{day:02d}"
        az.append(
            (
                "bw-prod",
                "rg-care",
                "westeurope",
                dt,
                "Cognitive Services",
                "Azure OpenAI",
                "gpt-4o Input Tokens",
                "Microsoft.CognitiveServices",
                "bw-care-weu",
                "/subscriptions/s1/resourceGroups/rg-care/providers/Microsoft.CognitiveServices/accounts/bw-care-weu",
                '{"team": "customer-care"}',
                "19.5",
            )
        )
        az.append(
            (
                "bw-prod",
                "rg-care",
                "northeurope",
                dt,
                "Cognitive Services",
                "Speech",
                "S1 Speech To Text",
                "Microsoft.CognitiveServices",
                "bw-speech-ne",
                "/subscriptions/s1/resourceGroups/rg-care/providers/Microsoft.CognitiveServices/accounts/bw-speech-ne",
                '{"team": "customer-care"}',
                "4.2",
            )
        )
        az.append(
            (
                "bw-prod",
                "rg-web",
                "westeurope",
                dt,
                "Application Insights",
                "",
                "Data Ingestion",
                "microsoft.insights",
                "appinsights-portal",
                "/subscriptions/s1/resourceGroups/rg-web/providers/microsoft.insights/components/appinsights-portal",
                '{"team": "engineering"}',
                "1.1",
            )
        )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(az)
    (d / "azure").mkdir(parents=True, exist_ok=True)
    (d / "azure" / "cost-2026-01.csv").write_text(buf.getvalue(), "utf-8")

    gcp = [
        (
            "service.description",
            "sku.description",
            "project.id",
            "labels",
            "cost",
            "usage_start_time",
        )
    ]
    for day in range(1, 15):
        gcp.append(
            (
                "Vertex AI",
                "Gemini 1.5 Pro Input Characters",
                "bw-docs-ai",
                '[{"key": "team", "value": "document-services"}]',
                "7.5",
                f"2026-01-{day:02d}T00:00:00Z",
            )
        )
        gcp.append(
            (
                "Cloud Storage",
                "Standard Storage",
                "bw-docs-ai",
                '[{"key": "team", "value": "document-services"}]',
                "0.5",
                f"2026-01-{day:02d}T00:00:00Z",
            )
        )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(gcp)
    (d / "gcp").mkdir(parents=True, exist_ok=True)
    (d / "gcp" / "billing-2026-01.csv").write_text(buf.getvalue(), "utf-8")


def _trail(d: Path, rng: random.Random) -> None:
    def rec(
        account: str,
        region: str,
        source: str,
        name: str,
        role: str,
        ip: str,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        t = _ts(rng, rng.randrange(14))
        return {
            "eventTime": f"2026-01-{int((t - _T0) // _DAY) + 1:02d}T12:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userIdentity": {
                "type": "AssumedRole",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/s",
                "accountId": account,
            },
            "requestParameters": params,
            "recipientAccountId": account,
            "readOnly": name.startswith(("List", "Get")),
        }

    records = [
        rec(
            _ACCT2,
            "us-west-2",
            "bedrock.amazonaws.com",
            "InvokeModel",
            "analytics-insights-fn",
            "35.1.1.1",
            {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        )
        for _ in range(30)
    ]
    records += [
        rec(
            _ACCT,
            "eu-central-1",
            "comprehend.amazonaws.com",
            "DetectEntities",
            "finance-ocr",
            "10.50.1.30",
            {},
        )
        for _ in range(20)
    ]
    records += [
        rec(
            _ACCT,
            "eu-central-1",
            "bedrock.amazonaws.com",
            "ListFoundationModels",
            "audit-reader",
            "10.90.0.5",
            {},
        )
        for _ in range(10)
    ]
    records += [
        rec(_ACCT, "eu-central-1", "s3.amazonaws.com", "GetObject", "etl", "10.50.1.10", {})
        for _ in range(10)
    ]
    p = d / "AWSLogs" / _ACCT / "CloudTrail" / "trail.json.gz"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), mtime=0))


def _saas(d: Path) -> None:
    rows = [
        (
            "vendor",
            "product",
            "description",
            "department",
            "owner_email",
            "status",
            "ai_features",
            "billing_method",
        ),
        (
            "Anthropic",
            "Claude Team",
            "Assistant workspace for HQ staff.",
            "it-workplace",
            "n.holm@bwfreight.example",
            "active",
            "enabled",
            "invoice",
        ),
        (
            "GitHub",
            "GitHub Copilot Business",
            "Code completion.",
            "engineering",
            "d.ford@bwfreight.example",
            "active",
            "enabled",
            "invoice",
        ),
        (
            "Salesforce",
            "Sales Cloud + Einstein",
            "CRM with Einstein lead scoring.",
            "sales",
            "v.roy@bwfreight.example",
            "active",
            "Einstein enabled",
            "invoice",
        ),
        (
            "DeepL",
            "DeepL API Pro",
            "Customs document translation.",
            "customs",
            "l.sato@bwfreight.example",
            "trial",
            "enabled",
            "invoice",
        ),
        (
            "Fireflies.ai",
            "Fireflies Business",
            "Meeting notes for the sales team.",
            "sales",
            "v.roy@bwfreight.example",
            "active",
            "enabled",
            "invoice",
        ),
        (
            "RoutePlan.ai",
            "Fleet Planner",
            "Route planning.",
            "dispatch",
            "r.cruz@bwfreight.example",
            "active",
            "n/a",
            "invoice",
        ),
        (
            "Calendly",
            "Calendly Teams",
            "Scheduling.",
            "sales",
            "v.roy@bwfreight.example",
            "active",
            "n/a",
            "invoice",
        ),
        (
            "HubSpot",
            "Marketing Hub",
            "Campaigns.",
            "sales",
            "v.roy@bwfreight.example",
            "active",
            "Breeze AI not licensed",
            "invoice",
        ),
        (
            "Zoom",
            "Zoom Workplace",
            "Meetings.",
            "it-workplace",
            "n.holm@bwfreight.example",
            "active",
            "AI Companion disabled",
            "invoice",
        ),
        (
            "Jasper",
            "Jasper Pro",
            "Copywriting.",
            "sales",
            "v.roy@bwfreight.example",
            "cancelled",
            "enabled",
            "card",
        ),
        (
            "Kinaxis",
            "RapidResponse",
            "Supply-chain planning with machine learning demand sensing.",
            "network-planning",
            "a.lind@bwfreight.example",
            "active",
            "n/a",
            "invoice",
        ),
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    d.mkdir(parents=True, exist_ok=True)
    (d / "subscriptions.csv").write_text(buf.getvalue(), "utf-8")


def _repos(d: Path) -> None:
    files = {
        "eta-model/CODEOWNERS": "* @bwfreight/network-planning\n",
        "eta-model/train.py": "import lightgbm as lgb\nmodel = lgb.LGBMRegressor()\n",
        "eta-model/pyproject.toml": '[project]\nname = "eta-model"\ndependencies = ["lightgbm>=4", "pandas"]\n',
        "care-bot/CODEOWNERS": "* @bwfreight/customer-care\n",
        "care-bot/bot/llm.py": "from openai import AzureOpenAI\nclient = AzureOpenAI(azure_endpoint='https://bw-care-weu.openai.azure.com', api_version='2024-06-01')\n",
        "care-bot/requirements.txt": "openai==1.40.0\n",
        "dispatch-assist/CODEOWNERS": "* @bwfreight/dispatch\n",
        "dispatch-assist/assist.py": "from groq import Groq\nclient = Groq()\n",
        "dispatch-assist/Pipfile": '[packages]\ngroq = "*"\n',
        "label-reader/CODEOWNERS": "* @bwfreight/warehouse-automation\n",
        "label-reader/Dockerfile": "FROM ollama/ollama:0.3.0\nRUN ollama pull llava\n",
        "label-reader/read.py": "import ollama\nclient = ollama.Client(host='http://ollama-gpu-02.bw.lan:11434')\n",
        "kb-search/CODEOWNERS": "* @bwfreight/knowledge\n",
        "kb-search/index.py": "from llama_index.core import VectorStoreIndex\nfrom llama_index.llms.openai import OpenAI\nllm = OpenAI(model='gpt-4o-mini')\n",
        "kb-search/requirements.txt": "llama-index-core==0.10.0\nllama-index-llms-openai==0.1.0\n",
        "shift-planner/CODEOWNERS": "* @bwfreight/warehouse-ops\n",
        "shift-planner/plan.py": "import pickle\nimport aiofiles\n",
        "shift-planner/requirements.txt": "aiofiles==23.2.1\naiohttp==3.9.5\n",
        "web/package.json": '{"name": "bw-web", "dependencies": {"applicationinsights": "^2.9.0"}, "devDependencies": {"@openapitools/openapi-generator-cli": "^2.13.0"}}\n',
        "web/src/telemetry.js": "import { ApplicationInsights } from '@microsoft/applicationinsights-web';\nconst ai = new ApplicationInsights({});\n",
    }
    for rel, text in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
    import datetime
    import pickle

    (d / "shift-planner" / "data").mkdir(parents=True, exist_ok=True)
    holidays = [datetime.date(2026, 1, 1), datetime.date(2026, 12, 25)]
    (d / "shift-planner" / "data" / "holidays.pkl").write_bytes(pickle.dumps(holidays, protocol=4))
    # a LightGBM model by the classes it names (hand-built opcodes: never unpickled)
    (d / "eta-model" / "models").mkdir(parents=True, exist_ok=True)
    (d / "eta-model" / "models" / "eta_lgbm_v3.pkl").write_bytes(
        b"\x80\x02clightgbm.sklearn\nLGBMRegressor\nq\x00)\x81q\x01."
    )


def _registry(path: Path) -> None:
    def model(rid: str, name: str, team: str, owner: str, **tags: str) -> dict[str, Any]:
        t = [{"key": "registry_id", "value": rid}, {"key": "team", "value": team}]
        t += [{"key": k, "value": v} for k, v in tags.items()]
        return {
            "name": name,
            "user_id": owner,
            "description": f"{name} ({team})",
            "tags": t,
            "latest_versions": [{"version": "3", "current_stage": "Production", "status": "READY"}],
        }

    models = [
        model(
            "BW-1",
            "eta-prediction",
            "network-planning",
            "a.lind@bwfreight.example",
            endpoint="eta-scorer-01",
            model="eta-lgbm v3",
        ),
        model(
            "BW-2",
            "care-assistant",
            "customer-care",
            "m.osei@bwfreight.example",
            endpoint="https://bw-care-weu.openai.azure.com/",
        ),
        model(
            "BW-3",
            "invoice-entities",
            "finance",
            "p.varga@bwfreight.example",
            endpoint="comprehend.eu-central-1.amazonaws.com",
        ),
        model(
            "BW-4",
            "document-summaries",
            "document-services",
            "h.ito@bwfreight.example",
            endpoint="bw-docs-ai",
            provider="vertex ai",
        ),
        model(
            "BW-5",
            "claude-workspace",
            "it-workplace",
            "n.holm@bwfreight.example",
            provider="claude",
        ),
        model(
            "BW-6",
            "code-assistant",
            "engineering",
            "d.ford@bwfreight.example",
            endpoint="api.githubcopilot.com",
        ),
        model(
            "BW-7",
            "lead-scoring",
            "sales",
            "v.roy@bwfreight.example",
            provider="Salesforce Einstein",
        ),
    ]
    path.write_text(json.dumps({"registered_models": models}, indent=1), "utf-8")


def _assets(path: Path) -> None:
    rows = [("ip", "hostname", "team", "owner_email", "account")]
    rows += [(ip, h, t, o, "") for ip, (h, t, o) in _HOSTS.items()]
    rows.append(("", "", "analytics", "g.park@bwfreight.example", _ACCT2))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), "utf-8")


def synth_enterprise(
    root: str | os.PathLike[str], *, seed: int = 0, noise: int = 3000
) -> EnterpriseTruth:
    """Write the enterprise under ``root`` (which must not exist or be empty)."""
    root = Path(root)
    from aisec.core.errors import InputError

    if root.exists() and any(root.iterdir()):
        raise InputError("folder is not empty", path=root)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    root.mkdir(parents=True, exist_ok=True)
    _network(root / "logs", rng, noise)
    _trail(root / "logs" / "cloudtrail", rng)
    _billing(root / "billing")
    _saas(root / "saas")
    _repos(root / "repo")
    _registry(root / "registry.json")
    _assets(root / "assets.csv")
    systems = tuple(
        {
            "id": sid,
            "registered": reg,
            "registry_id": sid if reg else None,
            "team": team,
            "idents": list(idents),
        }
        for sid, reg, team, idents in _SYSTEMS
    )
    return EnterpriseTruth(
        root=root,
        registered=sum(1 for s in systems if s["registered"]),
        shadow=tuple(str(s["id"]) for s in systems if not s["registered"]),
        systems=systems,
        decoys=_DECOYS,
    )
