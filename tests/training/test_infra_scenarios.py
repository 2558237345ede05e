"""Scenarios across rules: the serving pod that can still reach a debugging database,
a training Job named as such, docker-compose, HCL variables/modules, ``--context``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.training.infra import InfraContext, check_infra

FIXTURES = Path(__file__).parent / "fixtures"
SERVING = FIXTURES / "serving_egress"


def _ids(paths: list[Path], context: InfraContext) -> set[tuple[str, str]]:
    return {(f.id, f.evidence["resource"]) for f in check_infra(paths, context).findings}


def test_serving_pod_reaching_a_leftover_metrics_db_is_found() -> None:
    ctx = InfraContext.from_file(SERVING / "context.yaml")
    (f,) = check_infra([SERVING / "bad.yaml"], ctx).findings
    assert f.id == "AISEC-TRN-202" and "10.0.7.15/32" in f.detail
    assert "not the input queue or output endpoint" in f.detail
    assert check_infra([SERVING / "good.yaml"], ctx).findings == ()
    # without the serving endpoints declared, in-cluster egress cannot be judged
    plain = InfraContext.build(["10.0.0.0/16"], ["10.99.0.0/24"])
    assert check_infra([SERVING / "bad.yaml"], plain).findings == ()


def test_a_training_job_is_named_as_a_job(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: finetune, namespace: training}\n"
        "spec:\n  template:\n    metadata: {labels: {job: finetune}}\n    spec:\n"
        "      automountServiceAccountToken: false\n"
        "      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n"
        "      containers: [{name: train, image: trainer@sha256:ab}]\n"
    )
    (f,) = check_infra([job], InfraContext()).findings
    assert f.id == "AISEC-TRN-201" and f.evidence["resource"] == "Job/training/finetune"
    assert "batch Job" in f.detail and "inference" not in f.detail.lower()
    assert "inference" not in f.title.lower()


def test_compose_serving_container() -> None:
    found = {f.id for f in check_infra([FIXTURES / "compose" / "bad.yaml"]).findings}
    assert found == {
        "AISEC-TRN-201",  # default network: egress anywhere
        "AISEC-TRN-203",  # ./models mounted writable
        "AISEC-TRN-204",  # privileged, NET_ADMIN
        "AISEC-TRN-205",  # no user: the image's, often root
        "AISEC-TRN-206",  # docker.sock bind mount
        "AISEC-TRN-208",  # API key literal in environment
        "AISEC-TRN-110",  # 22 published on the host
    }
    report = check_infra([FIXTURES / "compose" / "good.yaml"])
    assert report.findings == () and report.inputs[0].format == "docker-compose"


def test_hcl_variables_tfvars_locals_and_local_modules(tmp_path: Path) -> None:
    (tmp_path / "modules" / "fw").mkdir(parents=True)
    (tmp_path / "main.tf").write_text(
        'variable "office" {}\nlocals { ssh = "22" }\n'
        'module "fw" {\n  source = "./modules/fw"\n  source_cidr = var.office\n'
        "  port = local.ssh\n}\n"
        'resource "google_compute_subnetwork" "s" {\n  name = "s"\n  network = "n"\n'
        '  ip_cidr_range = "10.20.0.0/16"\n}\n'
    )
    (tmp_path / "terraform.tfvars").write_text('office = "203.0.113.0/24"\n')
    (tmp_path / "modules" / "fw" / "main.tf").write_text(
        'variable "source_cidr" {}\nvariable "port" {}\n'
        'resource "google_compute_firewall" "ssh" {\n  name = "ssh"\n  network = "n"\n'
        '  allow {\n    protocol = "tcp"\n    ports = [var.port]\n  }\n'
        "  source_ranges = [var.source_cidr]\n}\n"
    )
    report = check_infra([tmp_path], InfraContext())
    assert {(f.id, f.evidence["resource"]) for f in report.findings} == {
        ("AISEC-TRN-101", "module.fw.google_compute_firewall.ssh")
    }
    assert [i.format for i in report.inputs] == ["terraform-hcl"]  # the module once
    (tmp_path / "terraform.tfvars").unlink()
    (f,) = check_infra([tmp_path], InfraContext()).findings
    assert f.id == "AISEC-TRN-100" and "var.office" in f.detail  # unverified, not a pass


def test_hcl_is_parsed_never_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "main.tf").write_text(
        'resource "null_resource" "x" {\n  provisioner "local-exec" {\n'
        f'    command = "touch {marker}"\n  }}\n}}\n'
        'resource "aws_security_group_rule" "r" {\n  type = "ingress"\n  from_port = 22\n'
        '  to_port = 22\n  protocol = "tcp"\n'
        f'  cidr_blocks = [file("{marker}"), "0.0.0.0/0"]\n}}\n'
    )
    found = {f.id for f in check_infra([tmp_path / "main.tf"]).findings}
    assert found == {"AISEC-TRN-100", "AISEC-TRN-102"} and not marker.exists()
    bad = tmp_path / "broken.tf"
    bad.write_text('resource "x" {\n  = = =\n')
    assert main(["train", "infra-check", str(bad)]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and "not valid Terraform HCL" in err[0]


def test_context_file_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    args = ["train", "infra-check", str(SERVING / "bad.yaml"), "-f", "json"]
    assert main([*args, "--context", str(SERVING / "context.yaml")]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in doc["findings"]] == ["AISEC-TRN-202"]
    # admin ports from the context replace the defaults: 10250 is no longer one
    exposed = FIXTURES / "exposed_admin" / "bad.yaml"
    ctx = InfraContext.from_file(SERVING / "context.yaml")
    assert {f.evidence["resource"] for f in check_infra([exposed], ctx).findings} == {
        "Service/training/trainer-ssh",
        "Ingress/training/ray",
    }
    wrong = tmp_path / "ctx.yaml"
    wrong.write_text("clustr_cidrs: [10.0.0.0/8]\n")
    assert main([*args, "--context", str(wrong)]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and "unknown context key" in err[0]


def test_cli_exports_and_precedence() -> None:
    """gcloud deny rules that come first, az default rules, all read from the exports."""
    ctx = InfraContext.build([], ["10.99.0.0/24"])
    good = FIXTURES / "ingress_anywhere" / "good_gcloud.json"
    assert check_infra([good], ctx).findings == ()
    data = json.loads(good.read_text())
    for rule in data:
        if rule["name"] == "deny-serve-ports":
            rule["priority"] = 1100  # now evaluated after the allow
    assert {f.id for f in check_infra([_write(data)], ctx).findings} == {"AISEC-TRN-102"}


def _write(data: object) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "rules.json"
    path.write_text(json.dumps(data))
    return path


def test_infra_check_records_a_signed_predicate(
    tmp_path: Path, key_file: Path, sqlite_url: str, train_cli: None
) -> None:
    from aisec.core.digest import digest_file
    from aisec.core.evidence import EvidenceStore
    from aisec.core.predicates.training import InfraCheckPredicate

    tf = FIXTURES / "unverified" / "bad.tf"
    args = ["train", "infra-check", str(tf), "--record", "--key", str(key_file)]
    assert main([*args, "--db", sqlite_url, "-o", str(tmp_path / "out.txt")]) == 0
    with EvidenceStore.open(sqlite_url) as store:
        [entry] = store.entries(predicate_type=InfraCheckPredicate.predicate_type())
        statement = entry.envelope.statement()
    pred = dict(statement.predicate)
    assert pred["result"] == "unverified"  # the only finding is an unresolved value: no pass
    assert pred["unverified"] and "var.admin_cidr" in pred["unverified"][0]
    assert {s.digest for s in statement.subjects} == {digest_file(tf)}


def test_a_deny_aimed_at_tagged_instances_does_not_hide_the_allow() -> None:
    good = FIXTURES / "ingress_anywhere" / "good_gcloud.json"
    data = json.loads(good.read_text())
    for rule in data:
        if rule["name"] == "deny-serve-ports":
            rule["targetTags"] = ["canary"]
    ctx = InfraContext.build([], ["10.99.0.0/24"])
    assert {f.id for f in check_infra([_write(data)], ctx).findings} == {"AISEC-TRN-102"}


def test_compose_fixes_are_in_compose_form() -> None:
    fixes = {
        f.id: f.evidence["fix"] for f in check_infra([FIXTURES / "compose" / "bad.yaml"]).findings
    }
    assert fixes["AISEC-TRN-205"] == 'user: "10001:10001"'
    assert "./models:/models:ro" in fixes["AISEC-TRN-203"]
    assert "securityContext" not in fixes["AISEC-TRN-204"] and "cap_drop" in fixes["AISEC-TRN-204"]
