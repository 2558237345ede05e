"""Interop with OpenSSF model-signing 1.1.1, both ways, files and shards.

model-signing is a dev dependency used here only; src/ never imports it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aisec.core.evidence import PublicKey, SigningKey, generate_keypair, load_public_key
from aisec.deployment.signing import sign_model, verify_model

model_signing = pytest.importorskip("model_signing")

MS_CLI = [sys.executable, "-m", "model_signing"]


def make_model(root: Path) -> Path:
    model = root / "model"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text('{"layers": 2}')
    (model / "weights.bin").write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    (model / "sub" / "tokenizer.json").write_text('{"vocab": {}}')
    (model / "empty").write_bytes(b"")
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return model


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[SigningKey, Path, Path]:
    key, priv, pub = generate_keypair(tmp_path / "keys" / "release.key")
    return key, priv, pub


def ms_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MS_CLI, *args], capture_output=True, text=True, check=False)


def ms_sign(model: Path, priv: Path, sig: Path, shard_size: int | None) -> None:
    if shard_size is None:
        res = ms_cli("sign", "key", "--private_key", str(priv), "--signature", str(sig), str(model))
        assert res.returncode == 0, res.stderr
        return
    hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=shard_size)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).set_hashing_config(
        hashing.set_ignored_paths(
            paths=[sig.relative_to(model)] if sig.is_relative_to(model) else []
        )
    ).sign(model, sig)


def ms_verify(model: Path, pub: Path, sig: Path, shard_size: int | None) -> bool:
    if shard_size is None:
        # the CLI fixes file serialisation; it is the command users run
        res = ms_cli("verify", "key", "--public_key", str(pub), "--signature", str(sig), str(model))
        return res.returncode == 0
    # model-signing 1.1.1 cannot guess the config from its own shard signatures (protobuf
    # turns shard_size into a float, then range() fails), so give the shard size explicitly
    hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=shard_size)
    try:
        model_signing.verifying.Config().use_elliptic_key_verifier(
            public_key=pub
        ).set_hashing_config(hashing).verify(model, sig)
    except ValueError:
        return False
    return True


def change(model: Path) -> str:
    (model / "weights.bin").write_bytes(b"\x00" * 10240)
    return "weights.bin"


def add(model: Path) -> str:
    (model / "sub" / "extra.pkl").write_bytes(b"\x80\x04N.")
    return "sub/extra.pkl"


def remove(model: Path) -> str:
    (model / "config.json").unlink()
    return "config.json"


TAMPER: list[Callable[[Path], str]] = [change, add, remove]
MODES = [None, 4096]


@pytest.mark.parametrize("shard_size", MODES, ids=["files", "shards"])
def test_model_signing_signs_aisec_verifies(
    tmp_path: Path, keypair: tuple[SigningKey, Path, Path], shard_size: int | None
) -> None:
    _, priv, pub = keypair
    model = make_model(tmp_path)
    sig = model / "model.sig"
    ms_sign(model, priv, sig, shard_size)
    result = verify_model(model, [load_public_key(pub)], signature_path=sig)
    assert result.valid, result.reasons
    assert result.signed is not None
    assert result.signed.method == ("files" if shard_size is None else "shards")
    assert result.signed.shard_size == shard_size
    assert ".git" in result.ignored
    # the root digest aisec recomputes is the one model-signing signed
    payload = json.loads(base64.b64decode(json.loads(sig.read_text())["dsseEnvelope"]["payload"]))
    assert result.signed.root_digest == "sha256:" + payload["subject"][0]["digest"]["sha256"]


@pytest.mark.parametrize("shard_size", MODES, ids=["files", "shards"])
def test_aisec_signs_model_signing_verifies(
    tmp_path: Path, keypair: tuple[SigningKey, Path, Path], shard_size: int | None
) -> None:
    key, _, pub = keypair
    model = make_model(tmp_path)
    sig = model / "model.sig"  # inside the folder: ignored, and recorded as ignored
    sign_model(model, key, signature_path=sig, shard_size=shard_size)
    assert ms_verify(model, pub, sig, shard_size)
    sig.unlink()
    signed = sign_model(model, key, signature_path=tmp_path / "aisec.sig", shard_size=shard_size)
    assert ms_verify(model, pub, tmp_path / "aisec.sig", shard_size)
    # same folder signed by model-signing gives the same subject digest (byte-level interop)
    other = tmp_path / "ms.sig"
    ms_sign(model, keypair[1], other, shard_size)
    theirs = verify_model(model, [load_public_key(pub)], signature_path=other)
    assert theirs.signed is not None
    assert theirs.signed.root_digest == signed.signed.root_digest
    assert [r.name for r in theirs.signed.resources] == [r.name for r in signed.signed.resources]


@pytest.mark.parametrize("shard_size", MODES, ids=["files", "shards"])
@pytest.mark.parametrize("tamper", TAMPER, ids=lambda f: f.__name__)
def test_tampering_fails_both(
    tmp_path: Path,
    keypair: tuple[SigningKey, Path, Path],
    tamper: Callable[[Path], str],
    shard_size: int | None,
) -> None:
    key, priv, pub = keypair
    model = make_model(tmp_path)
    ours, theirs = tmp_path / "aisec.sig", tmp_path / "ms.sig"
    sign_model(model, key, signature_path=ours, shard_size=shard_size)
    ms_sign(model, priv, theirs, shard_size)
    path = tamper(model)
    for sig in (ours, theirs):
        assert not ms_verify(model, pub, sig, shard_size), sig
        result = verify_model(model, [load_public_key(pub)], signature_path=sig)
        assert not result.valid
        assert any(r.startswith(f"{path}:") for r in result.reasons), result.reasons


def test_signature_by_another_key_fails_both(
    tmp_path: Path, keypair: tuple[SigningKey, Path, Path]
) -> None:
    _, priv, _ = keypair
    _, _, other_pub = generate_keypair(tmp_path / "keys" / "other.key")
    model = make_model(tmp_path)
    sig = tmp_path / "model.sig"
    ms_sign(model, priv, sig, None)
    assert not ms_verify(model, other_pub, sig, None)
    result = verify_model(model, [load_public_key(other_pub)], signature_path=sig)
    assert not result.valid
    assert "not signed by the trusted key" in result.reasons[0]


def test_openssl_key_signs(tmp_path: Path) -> None:
    """A key from `openssl ecparam -name prime256v1 -genkey` (SEC1 PEM) works as is."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(priv)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "ec", "-in", str(priv), "-pubout", "-out", str(pub)],
        check=True,
        capture_output=True,
    )
    from aisec.core.evidence import load_signing_key

    model = make_model(tmp_path)
    sig = tmp_path / "model.sig"
    sign_model(model, load_signing_key(priv), signature_path=sig)
    assert ms_verify(model, pub, sig, None)
    key: PublicKey = load_public_key(pub)
    assert verify_model(model, [key], signature_path=sig).valid
