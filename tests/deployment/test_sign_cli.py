"""``aisec model sign`` / ``aisec model verify``: exit codes, attestations, one-line errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from aisec.cli import cli, main
from aisec.cli.model_sign import register
from aisec.core.evidence import (
    EvidenceStore,
    SigningKey,
    generate_keypair,
    load_public_key,
)
from aisec.core.evidence.keys import KeyType
from aisec.deployment.signing import (
    MODEL_SIGNATURE_PREDICATE,
    sign_model,
    signature_statement,
    verify_model,
)
from aisec.deployment.signing_bundle import SignedManifest, build_bundle


@pytest.fixture(autouse=True)
def model_group() -> Iterator[click.Group]:
    """A stand-in for the ``model`` group until src/aisec/cli/model.py registers us."""
    previous = cli.commands.get("model")
    group = click.Group(name="model")
    register(group)
    cli.add_command(group)
    yield group
    if previous is not None:
        cli.add_command(previous)
    else:  # the real group is loaded lazily: leave no stand-in behind for later tests
        cli.commands.pop("model", None)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("aisec: error: ")
    return lines[0]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    _, priv, pub = generate_keypair(tmp_path / ".aisec" / "keys" / "aisec.key")
    return priv, pub


@pytest.fixture
def model(tmp_path: Path) -> Path:
    m = tmp_path / "model"
    m.mkdir()
    (m / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    (m / "config.json").write_text("{}")
    return m


def test_sign_then_verify_records_attestations(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path]
) -> None:
    priv, pub = keys
    code, out, _ = run(capsys, "model", "sign", str(model), "--key", str(priv), "-f", "json")
    assert code == 0
    signed = json.loads(out)
    assert signed["schema"] == "aisec.model-signature/v1"
    assert signed["serialization"] == "files"
    assert "model.sig" not in signed["ignore_paths"]  # written beside, not inside
    code, out, err = run(capsys, "model", "verify", str(model), "--key", str(pub))
    assert code == 0, err
    assert out.startswith("valid:")
    with EvidenceStore.open() as store:
        entries = store.entries(predicate_type=MODEL_SIGNATURE_PREDICATE)
    assert [e.statement.predicate["action"] for e in entries] == ["sign", "verify"]
    pred = entries[1].statement.predicate
    assert pred["valid"] is True
    assert pred["serialization"] == "files"
    assert {f["path"] for f in pred["files"]} == {"config.json", "model.safetensors"}
    assert entries[1].statement.subjects[0].digest == signed["model_digest"]


def test_verify_changed_model_exits_1_and_records_invalid(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path]
) -> None:
    priv, pub = keys
    assert run(capsys, "model", "sign", str(model), "--key", str(priv), "--no-record")[0] == 0
    (model / "config.json").write_text('{"evil": true}')
    code, out, _ = run(capsys, "model", "verify", str(model), "--key", str(pub), "-f", "json")
    assert code == 1
    body = json.loads(out)
    assert body["valid"] is False
    assert body["changed"] == ["config.json"]
    with EvidenceStore.open() as store:
        (entry,) = store.entries(predicate_type=MODEL_SIGNATURE_PREDICATE)
    assert entry.statement.predicate["valid"] is False


def test_no_record_writes_nothing(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    priv, _ = keys
    assert run(capsys, "model", "sign", str(model), "--key", str(priv), "--no-record")[0] == 0
    assert not (tmp_path / ".aisec" / "evidence.db").exists()


def test_shard_mode_and_ignore_are_signed(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path]
) -> None:
    priv, pub = keys
    (model / "README.md").write_text("notes")
    sig = model / "model.sig"
    code, out, _ = run(
        capsys, "model", "sign", str(model), "--key", str(priv), "--signature", str(sig),
        "--shard-size", "8", "--ignore", str(model / "README.md"), "-f", "json", "--no-record",
    )  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert body["serialization"] == "shards"
    assert {"README.md", "model.sig", ".git"} <= set(body["ignore_paths"])
    (model / "README.md").write_text("changed notes: ignored, as signed")
    code, _, err = run(
        capsys, "model", "verify", str(model), "--key", str(pub), "--signature", str(sig),
        "--no-record",
    )  # fmt: skip
    assert code == 0, err


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"not json", "not a model signature"),
        (b'{"mediaType": "x", "dsseEnvelope": {}}', "media type"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",'
            b' "dsseEnvelope": {"payload": "!!"}}',
            "malformed DSSE",
        ),
    ],
)
def test_bad_signature_file_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    model: Path,
    keys: tuple[Path, Path],
    tmp_path: Path,
    content: bytes,
    expect: str,
) -> None:
    _, pub = keys
    sig = tmp_path / "bad.sig"
    sig.write_bytes(content)
    code, _, err = run(
        capsys, "model", "verify", str(model), "--key", str(pub), "--signature", str(sig)
    )
    assert code == 2
    assert expect in one_line_error(err)


def test_missing_signature_and_bad_key_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    _, pub = keys
    code, _, err = run(capsys, "model", "verify", str(model), "--key", str(pub))
    assert code == 2
    assert "no such signature file" in one_line_error(err)
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    code, _, err = run(capsys, "model", "verify", str(model), "--key", str(junk))
    assert code == 2
    assert "not a PEM public key" in one_line_error(err)
    code, _, err = run(capsys, "model", "sign", str(model), "--key", str(tmp_path / "none.key"))
    assert code == 2
    one_line_error(err)


def test_ed25519_key_is_refused(
    capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path
) -> None:
    _, priv, _ = generate_keypair(tmp_path / "ed.key", key_type=KeyType.ED25519)
    code, _, err = run(capsys, "model", "sign", str(model), "--key", str(priv))
    assert code == 2
    assert "EC P-256" in one_line_error(err)


def test_symlink_is_refused(
    capsys: pytest.CaptureFixture[str], model: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "outside").write_text("secret")
    (model / "link").symlink_to(tmp_path / "outside")
    code, _, err = run(capsys, "model", "sign", str(model), "--key", str(keys[0]))
    assert code == 2
    assert "symbolic link" in one_line_error(err)


def test_signed_ignore_paths_cannot_hide_the_model(
    model: Path, signing_key: SigningKey, tmp_path: Path
) -> None:
    """A signature whose ignore_paths covers everything ('.') must not verify a swapped model."""
    sig = tmp_path / "model.sig"
    honest = sign_model(model, signing_key, signature_path=sig)
    for bad in (".", "", "../model", "/"):
        forged = SignedManifest(
            model_name="model",
            method="files",
            resources=honest.signed.resources,
            ignore_paths=(bad,),
        )
        sig.write_bytes(build_bundle(forged, signing_key))
        result = verify_model(model, [signing_key.public], signature_path=sig)
        assert not result.valid, bad
        assert any("ignore path" in r for r in result.reasons)


def test_payload_is_an_in_toto_statement(
    model: Path, signing_key: SigningKey, tmp_path: Path
) -> None:
    sig = tmp_path / "model.sig"
    result = sign_model(model, signing_key, signature_path=sig)
    bundle = json.loads(sig.read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"]["tlogEntries"] == []
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    names = [r["name"] for r in statement["predicate"]["resources"]]
    assert names == ["config.json", "model.safetensors"]
    att = signature_statement(result, action="sign")
    assert att.predicate_type == "urn:aisec:predicate:deployment/model-signature:v1"
    assert att.predicate["signature_digest"] == result.signature_digest


def test_resources_sorted_like_model_signing(tmp_path: Path, signing_key: SigningKey) -> None:
    """model-signing orders by path components: 'a/b' before 'a.txt' (bytes would differ)."""
    m = tmp_path / "m"
    (m / "a").mkdir(parents=True)
    (m / "a" / "b").write_text("1")
    (m / "a.txt").write_text("2")
    result = sign_model(m, signing_key, signature_path=tmp_path / "s.sig")
    assert [r.name for r in result.signed.resources] == ["a/b", "a.txt"]


def test_public_key_from_store_keyid(model: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    from aisec.core.evidence import load_signing_key

    key = load_signing_key(priv)
    sign_model(model, key, signature_path=model.parent / "m.sig")
    assert verify_model(model, [load_public_key(pub)], signature_path=model.parent / "m.sig").valid


@pytest.mark.parametrize("shard_size", [None, 7])
def test_model_digest_is_the_digest_path_value(
    model: Path, signing_key: SigningKey, tmp_path: Path, shard_size: int | None
) -> None:
    """With nothing ignored in the folder, the model digest is the one every stage records."""
    from aisec.core.digest import digest_path

    (model / "sub").mkdir()
    (model / "sub" / "empty").write_bytes(b"")
    result = sign_model(
        model, signing_key, signature_path=tmp_path / "s.sig", shard_size=shard_size
    )
    assert result.model_digest == digest_path(model, shard_size=shard_size).digest
