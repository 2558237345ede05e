"""The seed scenario: six violations in a Terraform plan, all caught; the fixed plan is clean.

The plans under fixtures/terraform/*/plan.json were made by ``terraform show -json`` (1.11.4)
from the main.tf beside them; the slow test remakes them with the real binary when it and
the AWS provider (a local filesystem mirror, no download) are on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.training.infra import InfraContext, check_infra

TF = Path(__file__).parent / "fixtures" / "terraform"
ALLOW = ["10.99.0.0/24", "10.98.0.10/32"]  # model registry, logging endpoint
SIX = {
    ("AISEC-TRN-101", "aws_security_group.train"),  # SSH from the bastion's /32
    ("AISEC-TRN-102", "aws_security_group.train"),  # 0.0.0.0/0 ingress
    ("AISEC-TRN-104", "aws_vpc_security_group_egress_rule.all_out"),  # allow-all, per-rule form
    ("AISEC-TRN-105", "aws_security_group_rule.https_out"),  # 443 to anywhere
    ("AISEC-TRN-106", "aws_instance.trainer"),  # public IP
    ("AISEC-TRN-107", "aws_s3_bucket.weights"),  # unencrypted bucket
}
MIRROR = Path("/opt/tf-plugins")


def _found(plan: Path) -> set[tuple[str, str]]:
    report = check_infra([plan], InfraContext.build([], ALLOW))
    return {(f.id, f.evidence["resource"]) for f in report.findings}


def test_six_violations_all_caught() -> None:
    assert _found(TF / "six_violations" / "plan.json") == SIX


def test_clean_configuration_has_no_finding() -> None:
    assert _found(TF / "clean" / "plan.json") == set()


def test_cli_json_and_sarif(capsys: pytest.CaptureFixture[str], train_cli: None) -> None:
    plan = str(TF / "six_violations" / "plan.json")
    args = ["train", "infra-check", plan, *(x for a in ALLOW for x in ("--allow-egress", a))]
    assert main([*args, "-f", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "aisec.findings/v1" and doc["inputs"][0]["format"] == "terraform"
    assert {(f["id"], f["evidence"]["resource"]) for f in doc["findings"]} == SIX
    https = next(f for f in doc["findings"] if f["id"] == "AISEC-TRN-105")
    assert '"10.99.0.0/24", "10.98.0.10/32"' in https["evidence"]["fix"]
    assert https["mappings"]["atlas"] == ["AML.T0025", "AML.T0035"]
    assert main([*args, "-f", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert len(sarif["runs"][0]["results"]) == 6
    assert main([*args, "--fail-on", "critical"]) == 1
    assert (
        main(
            [
                "train",
                "infra-check",
                str(TF / "clean" / "plan.json"),
                "--allow-egress",
                "10.99.0.0/24",
                "--allow-egress",
                "10.98.0.10/32",
            ]
        )
        == 0
    )
    assert "No findings." in capsys.readouterr().out


def _real_plan(terraform: str, work: Path, tmp_path: Path) -> Path:
    """``terraform init``, ``plan`` and ``show -json`` of ``work`` with providers from the local
    mirror only (no network); the plan JSON's path."""
    rc = tmp_path / "terraformrc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n'
        '  direct {\n    exclude = ["*/*/*"]\n  }\n}\n'
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    for cmd in (
        [terraform, "init", "-input=false", "-no-color"],
        [terraform, "plan", "-input=false", "-refresh=false", "-lock=false", "-no-color",
         "-out=tfplan"],
    ):  # fmt: skip
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-2000:]
    shown = subprocess.run(
        [terraform, "show", "-json", "tfplan"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    plan = tmp_path / "plan.json"
    plan.write_text(shown.stdout)
    return plan


@pytest.mark.slow
def test_plan_from_the_real_terraform_binary(tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None or not MIRROR.is_dir():
        pytest.skip("terraform or the local AWS provider mirror is not on this machine")
    work = tmp_path / "module"
    work.mkdir()
    shutil.copy(TF / "six_violations" / "main.tf", work / "main.tf")
    plan = _real_plan(terraform, work, tmp_path)
    assert _found(plan) == SIX


def test_state_json_and_raw_tfstate_shapes(tmp_path: Path) -> None:
    plan = json.loads((TF / "six_violations" / "plan.json").read_text())
    state = {
        "format_version": "1.0",
        "terraform_version": plan["terraform_version"],
        "values": {"root_module": plan["planned_values"]["root_module"]},
    }
    shown = tmp_path / "state.json"
    shown.write_text(json.dumps(state))
    assert _found(shown) == SIX


PROVIDER = (
    'provider "aws" {\n  region = "eu-west-1"\n  access_key = "test"\n  secret_key = "test"\n'
    "  skip_credentials_validation = true\n  skip_requesting_account_id = true\n"
    "  skip_metadata_api_check = true\n}\n"
)


def test_hcl_fixtures_are_canonical_terraform() -> None:
    """Every .tf fixture is what ``terraform fmt`` writes (so real Terraform parses it)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on this machine")
    done = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-list=true", str(TF.parent)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bad_eip.tf", "good_eip.tf"])
def test_hcl_and_the_real_plan_agree(name: str, tmp_path: Path) -> None:
    """The same AWS sources read as HCL and as the plan terraform makes from them."""
    terraform = shutil.which("terraform")
    if terraform is None or not MIRROR.is_dir():
        pytest.skip("terraform or the local AWS provider mirror is not on this machine")
    source = TF.parent / "public_ip" / name
    work = tmp_path / "module"
    work.mkdir()
    (work / "main.tf").write_text(source.read_text() + PROVIDER)
    plan = _real_plan(terraform, work, tmp_path)
    assert _found(plan) == _found(source)
