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
