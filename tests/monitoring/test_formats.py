# ruff: noqa: E501  (log lines are kept whole, as the tools write them)
"""Each evidence format parsed from small generated files; detection from content alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.core.errors import FormatError
from aisec.monitoring import FORMATS, detect_format, load_ai_catalog, load_registry
from aisec.monitoring._billing import scan_billing
from aisec.monitoring._logs import scan_network_log
from aisec.monitoring._registry import scan_saas

CAT = load_ai_catalog()
ZEEK_DNS = (
    "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tquery\n#types\ttime\tstring\taddr\tstring\n"
    "1767225600.5\tC1\t10.0.0.5\tapi.openai.com\n"
    "1767225700.5\tC2\t10.0.0.5\tAPI.OPENAI.COM\n"
    "not\ta\tvalid\n"
    "1767225800.5\tC3\t10.0.0.6\tfonts.googleapis.com\n"
)
SQUID = (
    "1767225600.123    120 10.0.0.7 TCP_TUNNEL/200 4000 CONNECT api.anthropic.com:443 alice HIER_DIRECT/x -\n"
    "1767225601.123     80 10.0.0.8 TCP_MISS/200 900 GET http://cdn.jsdelivr.net/x.js - HIER_DIRECT/y text/js\n"
)


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name  # an unhelpful name on purpose: formats come from content
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (ZEEK_DNS, "zeek-tsv"),
        ('{"ts": 1.0, "id.orig_h": "10.0.0.1", "server_name": "api.groq.com"}\n', "zeek-json"),
        (SQUID, "squid"),
        ("timestamp,username,url\n2026-01-01,bob,https://api.mistral.ai/v1\n", "proxy-csv"),
        ('{"time": "2026-01-01", "user": "u", "dest_host": "api.cohere.com"}\n', "proxy-jsonl"),
        ("lineItem/ProductCode,lineItem/UnblendedCost\nAmazonBedrock,1\n", "aws-cur"),
        ("service.description,sku.description,cost\nVertex AI,x,1\n", "gcp-billing"),
        ("vendor,product,description\nJasper,J,content\n", "saas-csv"),
        ("name,owner,endpoint\nm,o,api.openai.com\n", "registry-csv"),
        ('{\n "registered_models": []\n}\n', "registry-json"),
        (b"\x00\x01\x02garbage\xff" * 50, "binary"),
        ("just some prose\n", "unknown"),
        ("", "unknown"),
    ],
)
def test_detect_from_content(tmp_path: Path, text: str | bytes, fmt: str) -> None:
    assert detect_format(_write(tmp_path, "input.dat", text)) == fmt


def test_zeek_tsv_counts_and_skips_noise(tmp_path: Path) -> None:
    obs = list(scan_network_log(_write(tmp_path, "a", ZEEK_DNS), "zeek-tsv", CAT))
    assert [(o.provider, o.count, o.client, o.role) for o in obs] == [
        ("openai", 2, "10.0.0.5", "support")  # a DNS lookup supports a system, never makes one
    ]
    assert obs[0].first_seen == "2026-01-01T00:00:00.500000Z"
    assert obs[0].last_seen == "2026-01-01T00:01:40.500000Z"


def test_zeek_json_and_squid(tmp_path: Path) -> None:
    zj = _write(
        tmp_path,
        "z",
        '{"ts": 1767225600.0, "id.orig_h": "10.1.1.1", "server_name": '
        '"acme.openai.azure.com"}\n{broken json\n',
    )
    (o,) = scan_network_log(zj, "zeek-json", CAT)
    assert (o.key, o.host, o.client) == (
        "res:azure-openai:acme",
        "acme.openai.azure.com",
        "10.1.1.1",
    )
    (s,) = scan_network_log(_write(tmp_path, "s", SQUID), "squid", CAT)
    assert (s.provider, s.user, s.client, s.host) == (
        "anthropic",
        "alice",
        "10.0.0.7",
        "api.anthropic.com",
    )


def test_generic_proxy_with_column_mapping(tmp_path: Path) -> None:
    p = _write(tmp_path, "p", "when,who,target\n2026-01-02,eve,https://api.together.xyz/v1\n")
    assert detect_format(p) == "unknown"  # no known column: the user maps them
    p2 = _write(tmp_path, "p2", "when,who,url\n2026-01-02,eve,https://api.together.xyz/v1\n")
    (o,) = scan_network_log(p2, "proxy-csv", CAT, columns={"user": "who", "ts": "when"})
    assert (o.provider, o.user, o.first_seen) == ("together", "eve", "2026-01-02")
    j = _write(tmp_path, "j", '{"t": "2026-01-03", "u": "kim", "h": "api.groq.com"}\n')
    (g,) = scan_network_log(j, "proxy-jsonl", CAT, columns={"host": "h", "user": "u", "ts": "t"})
    assert (g.provider, g.user) == ("groq", "kim")


def test_aws_cur_and_gcp_billing(tmp_path: Path) -> None:
    cur = _write(
        tmp_path,
        "c",
        (
            "lineItem/UsageStartDate,lineItem/ProductCode,lineItem/ResourceId,product/instanceType,"
            "lineItem/UnblendedCost,resourceTags/user:CostCenter\n"
            "2026-01-01,AmazonBedrock,,,10.5,mkt\n2026-01-02,AmazonBedrock,,,4.5,mkt\n"
            "2026-01-01,AmazonEC2,i-1,p5.48xlarge,99,eng\n2026-01-01,AmazonEC2,i-2,m5.large,9,web\n"
            "2026-01-01,AmazonSageMaker,arn:aws:sagemaker:r:1:endpoint/scorer,,3,ds\n"
        ),
    )
    got = {o.provider: o for o in scan_billing(cur, "aws-cur", CAT)}
    assert set(got) == {"aws-bedrock", "aws-ec2-gpu", "aws-sagemaker"}
    assert got["aws-bedrock"].cost == 15.0 and got["aws-bedrock"].count == 2
    assert got["aws-bedrock"].team == "mkt"
    assert got["aws-ec2-gpu"].role == "support"  # a GPU is AI only with other evidence
    assert got["aws-sagemaker"].keys[0] == "aws-endpoint:scorer"
    gcp = _write(
        tmp_path,
        "g",
        (
            "service.description,sku.description,project.id,cost,usage_start_time\n"
            "Vertex AI,Prediction,p1,5,2026-01-01\nCompute Engine,Nvidia L4 GPU,p2,7,2026-01-01\n"
            "Compute Engine,E2 Instance Core,p3,1,2026-01-01\nCloud Storage,Standard,p1,1,2026-01-01\n"
        ),
    )
    roles = {(o.key, o.role) for o in scan_billing(gcp, "gcp-billing", CAT)}
    assert ("gcp:gcp-vertex-ai:p1", "ai") in roles
    assert ("tag:p2", "support") in roles
    assert not any(role == "ai" for key, role in roles if key != "gcp:gcp-vertex-ai:p1")


def test_saas_vendor_and_description(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "s",
        (
            "vendor,product,description,department,status,ai_features\n"
            "Jasper,Biz,content,marketing,active,\n"
            "Slack,Biz,team chat,it,active,Slack AI add-on: not purchased\n"
            "Acme Tools,Scribe,AI-powered meeting notes,sales,active,enabled\n"
            "Brainy.ai,Brainy CRM,contacts,sales,active,n/a\n"
            "Otter.ai,Otter Business,notes,hr,cancelled,enabled\n"
        ),
    )
    decisions: list = []
    got = [(o.key, o.team) for o in scan_saas(p, CAT, decisions)]
    assert got == [("saas:jasper", "marketing"), ("saas:acme-tools-scribe", "sales")]
    reasons = " ".join(d.reason for d in decisions)
    assert "stated off" in reasons and "cancelled" in reasons and "only in the name" in reasons


def test_registry_csv_and_json(tmp_path: Path) -> None:
    c = _write(tmp_path, "r.csv", "name,owner,endpoint\nbot,a@x,api.openai.com\n,,\n")
    (e,) = load_registry(str(c))
    assert (e.name, e.owner, e.endpoint) == ("bot", "a@x", "api.openai.com")
    j = _write(
        tmp_path,
        "r.json",
        json.dumps(
            {"registered_models": [{"name": "m1", "tags": [{"key": "owner", "value": "o"}]}]}
        ),
    )
    assert [(e.name, e.owner) for e in load_registry(str(j))] == [("m1", "o")]
    with pytest.raises(FormatError):
        load_registry(str(_write(tmp_path, "x", SQUID)))
    deep = _write(tmp_path, "deep.json", '{"registered_models": ' + "[" * 100_000)
    with pytest.raises(FormatError):
        load_registry(str(deep))


def test_catalog_extension(tmp_path: Path) -> None:
    extra = _write(
        tmp_path,
        "cat.yaml",
        "version: acme-1\nproviders:\n  - {id: inhouse-llm, "
        "name: In-house LLM gateway, kind: hosted-api-use, domains: [llm.acme.internal]}\n",
    )
    cat = load_ai_catalog(extra)
    assert cat.version.endswith("+acme-1")
    assert cat.match_host("llm.acme.internal") == (
        "inhouse-llm",
        "In-house LLM gateway",
        "hosted-api-use",
    )
    assert CAT.match_host("llm.acme.internal") is None
    with pytest.raises(FormatError):
        load_ai_catalog(_write(tmp_path, "bad.yaml", "providers: [{id: 1}]\n"))


def test_benign_hosts_are_not_ai() -> None:
    for host in (
        "openai.com",
        "huggingface.co",
        "fonts.googleapis.com",
        "s3.amazonaws.com",
        "cdn.cloudflare.net",
        "evil-openai.azure.com.attacker.net",
        "openai.azure.com",
    ):
        assert CAT.match_host(host) is None, host


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048))
def test_detection_never_raises(tmp_path: Path, data: bytes) -> None:
    assert detect_format(_write(tmp_path, "fuzz", data)) in FORMATS


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.text(max_size=120), max_size=20))
def test_squid_parser_on_arbitrary_text(tmp_path: Path, lines: list[str]) -> None:
    p = _write(tmp_path, "fuzz.log", "\n".join([SQUID.splitlines()[0], *lines]) + "\n")
    obs = list(scan_network_log(p, "squid", CAT))
    assert sum(o.count for o in obs if o.provider == "anthropic") >= 1


def test_evidence_names_the_first_line(tmp_path: Path) -> None:
    (o,) = scan_network_log(_write(tmp_path, "a", ZEEK_DNS), "zeek-tsv", CAT)
    assert o.location == "zeek-tsv/dns, first at line 5"
    (s,) = scan_network_log(_write(tmp_path, "s", "\n" + SQUID), "squid", CAT)
    assert s.location == "squid, first at line 2"
    many = "".join(
        f"1767225600.0 1 10.0.0.{i} TCP/200 1 CONNECT api.groq.com:443 - D/x -\n" for i in range(15)
    )
    obs = list(scan_network_log(_write(tmp_path, "m", many), "squid", CAT))
    assert len(obs) == 11 and sum(o.count for o in obs) == 15  # 10 clients + the rest
    assert obs[-1].detail == "5 more clients"


def test_squid_custom_logformat_from_conf_and_option(tmp_path: Path) -> None:
    from aisec.monitoring import discover
    from aisec.monitoring._logs import read_squid_conf

    d = tmp_path / "branch"
    d.mkdir()
    (d / "squid.conf").write_text(
        "logformat mine %>a %{%Y-%m-%dT%H:%M:%S}tl %un %Ss/%03>Hs %rm %ru\n"
        "access_log daemon:/var/log/squid/access.log mine\n"
    )
    (d / "access.log").write_text(
        "10.9.0.1 2026-01-02T10:00:00 kim TCP_TUNNEL/200 CONNECT api.mistral.ai:443\n"
        "10.9.0.2 2026-01-02T10:01:00 lee TCP_DENIED/403 CONNECT claude.ai:443\n"
    )
    fmt = read_squid_conf(d / "squid.conf")[""]
    assert {"client", "user", "url", "status", "ts"} <= fmt.fields
    reg = _write(tmp_path, "reg.csv", "id,name,endpoint\n")
    inv = discover(registry=str(reg), logs=[d])
    (system,) = inv.systems
    assert system.provider == "mistral" and not inv.skipped
    assert any("blocked" in x.reason for x in inv.decisions)
    # the same log alone: the format from --squid-logformat, else one clear skipped line
    alone = tmp_path / "alone.log"
    alone.write_text((d / "access.log").read_text())
    spec = "%>a %{%Y-%m-%dT%H:%M:%S}tl %un %Ss/%03>Hs %rm %ru"
    assert len(discover(registry=str(reg), logs=[alone], squid_logformat=spec).systems) == 1
    (skip,) = discover(registry=str(reg), logs=[alone]).skipped
    assert "squid-logformat" in skip.reason


def test_zeek_conn_is_named_by_dns_answers(tmp_path: Path) -> None:
    from aisec.monitoring import discover

    z = tmp_path / "zeek"
    z.mkdir()
    (z / "dns.log").write_text(
        "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tanswers\tquery\n"
        "1767225600.0\t10.0.0.5\t203.0.113.7,203.0.113.8\tapi.cohere.com\n"
    )
    (z / "conn.log").write_text(
        "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n"
        "1767225601.0\t10.0.0.5\t203.0.113.8\t443\n1767225602.0\t10.0.0.5\t203.0.113.80\t443\n"
    )
    reg = _write(tmp_path, "reg.csv", "id,name,endpoint\n")
    inv = discover(registry=str(reg), logs=[z])
    (system,) = inv.systems
    conn = [o for o in system.observations if "conn" in o.location]
    assert [(o.host, o.count) for o in conn] == [("api.cohere.com", 1)]
    # DNS alone would not have made a system
    (z / "conn.log").unlink()
    assert discover(registry=str(reg), logs=[z]).systems == ()


def test_azure_cur_parquet_and_cloudtrail(tmp_path: Path) -> None:
    import gzip

    import polars as pl

    from aisec.monitoring._billing import scan_cloudtrail

    az = _write(
        tmp_path,
        "az.csv",
        "MeterCategory,MeterSubCategory,ConsumedService,ResourceName,Tags,CostInBillingCurrency,Date\n"
        'Cognitive Services,Azure OpenAI,Microsoft.CognitiveServices,res-a,"{""team"": ""ops""}",2.5,2026-01-01\n'
        "Application Insights,,microsoft.insights,appi-web,{},1,2026-01-01\n",
    )
    assert detect_format(az) == "azure-cost"
    got = [(o.key, o.team, o.role) for o in scan_billing(az, "azure-cost", CAT)]
    assert ("res:azure-openai:res-a", "ops", "ai") in got
    assert all(role != "ai" for key, _, role in got if "appi" in key)
    pq = tmp_path / "cur.parquet"
    pl.DataFrame(
        {
            "line_item_product_code": ["AmazonBedrock"],
            "line_item_usage_account_id": ["123456789012"],
            "product_region_code": ["eu-west-1"],
            "line_item_unblended_cost": [1.5],
            "line_item_usage_start_date": ["2026-01-01"],
        }
    ).write_parquet(pq)
    assert detect_format(pq) == "aws-cur"
    (cur,) = scan_billing(pq, "aws-cur", CAT)
    assert cur.keys[0] == "aws:aws-bedrock:123456789012:eu-west-1"
    rec = {
        "eventSource": "bedrock.amazonaws.com",
        "awsRegion": "eu-west-1",
        "recipientAccountId": "123456789012",
        "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/app/x"},
    }
    trail = tmp_path / "t.json.gz"
    trail.write_bytes(
        gzip.compress(
            json.dumps(
                {
                    "Records": [
                        {**rec, "eventName": "InvokeModel"},
                        {**rec, "eventName": "ListFoundationModels"},
                    ]
                }
            ).encode()
        )
    )
    assert detect_format(trail) == "cloudtrail"
    decisions: list = []
    (call,) = scan_cloudtrail(trail, CAT, decisions)
    assert call.keys == cur.keys  # the bill and the calls are one system
    assert "read-only" in decisions[0].reason


def test_manifests_and_dockerfile(tmp_path: Path) -> None:
    from aisec.monitoring._code import scan_code

    repo = tmp_path / "svc"
    repo.mkdir()
    (repo / "requirements-dev.txt").write_text("langchain-anthropic==0.1\naiohttp\n")
    (repo / "pyproject.toml").write_text('[project]\ndependencies = ["openapi-core", "aiofiles"]\n')
    (repo / "package-lock.json").write_text(
        '{"packages": {"node_modules/@mistralai/mistralai": {}}}'
    )
    (repo / "Dockerfile").write_text("FROM vllm/vllm-openai:v0.5\nRUN pip install groq==0.9\n")
    (repo / "poetry.lock").write_text('[[package]]\nname = "cohere"\nversion = "5"\n')
    obs, skipped = scan_code(repo, sorted(repo.iterdir()), CAT, git=False)
    assert not skipped
    assert {o.provider for o in obs} == {"anthropic", "mistral", "groq", "cohere", "vllm"}
