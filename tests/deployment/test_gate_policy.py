"""Gate policies: one clear error per mistake, with its line number; format sniffing."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from aisec.cli import cli, main
from aisec.cli.gate import gate_group
from aisec.core.errors import FormatError
from aisec.deployment.gate_formats import detect_format
from aisec.deployment.gate_policy import GatePolicy, load_policy, parse_policy

EXAMPLE = Path(__file__).parents[2] / "examples" / "gate-policy.yaml"
DIGEST = "sha256:" + "ab" * 32


def error_of(text: str) -> str:
    with pytest.raises(FormatError) as info:
        parse_policy(text, source="p.yaml")
    return info.value.message


def test_unknown_key_names_line_and_allowed_keys() -> None:
    msg = error_of("version: 1\nsignature:\n  file: m.sig\n  keyz: [a.pub]\n  keys: [a.pub]\n")
    assert msg == "p.yaml:4: signature.keyz: unknown key (allowed: file, keys)"


def test_wrong_type_names_line() -> None:
    msg = error_of("formats:\n  allow: [safetensors]\n  allow-other: maybe\n")
    assert msg.startswith("p.yaml:3: formats.allow-other: Input should be a valid boolean")


def test_list_item_error_names_its_line() -> None:
    msg = error_of("formats:\n  allow:\n    - safetensors\n    - pikle\n")
    assert msg.startswith("p.yaml:4: formats.allow[1]: Input should be 'safetensors'")


def test_every_mistake_is_reported() -> None:
    msg = error_of(
        "signature:\n  keys: [k.pub]\n  bogus: 1\n"
        "data:\n  datasets: [sha256:zz]\n  max-risk: 3\n"
        "evidence:\n  trusted-keys: [k.pub]\n  max-age-days: -1\n"
    )
    lines = msg.splitlines()
    assert lines[0] == "p.yaml: 4 mistakes:"
    assert [ln.strip().split(":")[1] for ln in lines[1:]] == ["3", "5", "6", "9"]


def test_missing_required_key_names_its_section() -> None:
    assert error_of("version: 1\nredteam:\n  max-upper-bound: 0.1\n").startswith(
        "p.yaml:1: (top level): redteam need an 'evidence' section"
    )
    assert error_of("data:\n  max-risk: 0.2\nevidence: {trusted-keys: [k]}\n") == (
        "p.yaml:1: data.datasets: required key is missing"
    )


def test_yaml_syntax_and_duplicates_name_the_line() -> None:
    assert error_of("signature:\n  keys: [a\n").startswith("p.yaml:3: not valid YAML")
    assert error_of("formats:\n  allow: [gguf]\nformats:\n  allow: [onnx]\n") == (
        "p.yaml:3: formats: given twice"
    )
    assert error_of("- a\n- b\n").startswith("p.yaml:1: a policy is a mapping")
    assert error_of("version: 2\nformats: {allow: [gguf]}\n").startswith("p.yaml:1: version:")


def test_empty_policy_requires_something() -> None:
    assert "requires nothing" in error_of("version: 1\n")


def test_yaml_tags_are_not_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"signature: !!python/object/apply:os.system ['touch {marker}']\n"
    assert "not valid YAML" in error_of(text)
    assert not marker.exists()


def test_example_policy_is_valid() -> None:
    loaded = load_policy(EXAMPLE)
    assert isinstance(loaded.policy, GatePolicy)
    assert loaded.policy.formats is not None
    assert loaded.policy.formats.allow == ["safetensors"]
    assert loaded.digest.startswith("sha256:")


@pytest.fixture
def with_gate() -> Iterator[click.Group]:
    added = "gate" not in cli.commands
    if added:
        cli.add_command(gate_group)
    yield gate_group
    if added:
        del cli.commands["gate"]


def test_cli_policy_error_exit_2(
    tmp_path: Path, with_gate: click.Group, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m").mkdir()
    policy = tmp_path / "p.yaml"
    policy.write_text("formats:\n  allow: [safetensors]\n  alow-other: true\n")
    code = main(["gate", "check", str(tmp_path / "m"), "--policy", str(policy), "--no-record"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        f"aisec: error: {policy}:3: formats.alow-other: unknown key (allowed: allow, allow-other)"
    )
    code = main(["gate", "check", str(tmp_path / "m"), "--policy", str(tmp_path / "none.yaml")])
    assert code == 2
    assert "no such policy file" in capsys.readouterr().err


# --- format sniffing ---------------------------------------------------------------------------


def test_detect_formats(tmp_path: Path) -> None:
    cases = {
        "a.safetensors": b"\x02\x00\x00\x00\x00\x00\x00\x00{}",
        "b.gguf": b"GGUF\x03\x00\x00\x00",
        "c.h5": b"\x89HDF\r\n\x1a\n" + b"\x00" * 8,
        "d.data": b"\x80\x04\x95\x00",
        "e.onnx": b"\x08\x07\x12\x04",
        "f.json": b'{"a": 1}',
        "g.pkl": b"(lp0\n.",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    with zipfile.ZipFile(tmp_path / "h.pt", "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02N.")
    with zipfile.ZipFile(tmp_path / "i.keras", "w") as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    got = {p.name: detect_format(p) for p in sorted(tmp_path.iterdir())}
    assert got == {
        "a.safetensors": "safetensors",
        "b.gguf": "gguf",
        "c.h5": "h5",
        "d.data": "pickle",
        "e.onnx": "onnx",
        "f.json": "other",
        "g.pkl": "pickle",
        "h.pt": "torch",
        "i.keras": "keras",
    }
