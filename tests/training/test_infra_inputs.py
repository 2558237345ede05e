"""Input handling: formats detected from content, bad input is one line and exit 2,
and hostile YAML stays data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.errors import FormatError
from aisec.training.infra import InfraContext, check_infra

FIXTURES = Path(__file__).parent / "fixtures"


def _one_line_error(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("aisec: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json: [", "neither valid JSON nor valid YAML"),
        ('{"hello": "world"}', "unknown format"),
        ("just a sentence\n", "unknown format"),
        ("- apiVersion: v1\n  kind: Pod\n- 3\n", "unknown format"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    content: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    train_cli: None,
) -> None:
    path = tmp_path / "input.yaml"
    path.write_text(content)
    assert main(["train", "infra-check", str(path)]) == 2
    assert message in _one_line_error(capsys.readouterr().err)


def test_missing_file_and_bad_cidr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], train_cli: None
) -> None:
    assert main(["train", "infra-check", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in _one_line_error(capsys.readouterr().err)
    good = str(FIXTURES / "egress_all" / "good.json")
    assert main(["train", "infra-check", good, "--cluster-cidr", "10.0.0.0/33"]) == 2
    assert "cluster CIDR" in _one_line_error(capsys.readouterr().err)
    assert main(["train", "infra-check", good, "--allow-egress", "bad host/x y"]) == 2
    _one_line_error(capsys.readouterr().err)


def test_binary_file_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    path.write_bytes(b"\x80\x81\xff" * 10)
    with pytest.raises(FormatError, match="UTF-8"):
        check_infra([path])


def test_yaml_python_tags_are_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(
        f"!!python/object/apply:os.system ['touch {marker}']\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n"
    )
    with pytest.raises(FormatError):
        check_infra([path])
    assert not marker.exists()


def test_folder_input_and_formats(tmp_path: Path) -> None:
    for name in ("egress_port", "public_ip", "k8s_root"):
        src = next((FIXTURES / name).glob("good.*"))
        (tmp_path / f"{name}{src.suffix}").write_text(src.read_text())
    report = check_infra([tmp_path], InfraContext.build([], ["10.99.0.0/24"]))
    assert sorted(i.format for i in report.inputs) == ["aws-cli", "kubernetes", "terraform"]
    assert report.findings == ()


def test_aws_cli_instances_with_public_ip(tmp_path: Path) -> None:
    path = tmp_path / "instances.json"
    path.write_text(
        json.dumps(
            {
                "Reservations": [
                    {
                        "Instances": [
                            {"InstanceId": "i-0abc", "PublicIpAddress": "203.0.113.9"},
                            {"InstanceId": "i-0def", "PrivateIpAddress": "10.20.1.5"},
                        ]
                    }
                ]
            }
        )
    )
    (f,) = check_infra([path]).findings
    assert f.id == "AISEC-TRN-106" and f.evidence["resource"] == "Instance/i-0abc"


def test_unknown_cluster_range_says_so() -> None:
    bad = FIXTURES / "ingress_outside" / "bad.json"
    data = json.loads(bad.read_text())
    del data["Subnets"]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "sg.json"
        p.write_text(json.dumps(data))
        (f,) = check_infra([p]).findings
    assert "no cluster range known" in f.detail
