"""in-toto statements in DSSE envelopes; keys interchangeable with openssl and securesystemslib."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from securesystemslib import dsse
from securesystemslib.signer import CryptoSigner, SSlibKey

from aisec.core.errors import FormatError, KeyFileError, SignatureError
from aisec.core.evidence import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    ArtifactRef,
    Envelope,
    KeyType,
    SigningKey,
    Statement,
    generate_keypair,
    load_public_key,
    load_signing_key,
    predicate_type,
    sign_statement,
)
from aisec.core.evidence.attestation import pae

DIGEST = "sha256:" + "12" * 32


def _statement() -> Statement:
    return Statement(
        (ArtifactRef("model.safetensors", DIGEST),),
        predicate_type("deployment", "model-scan"),
        {"verdict": "clean"},
    )


def test_pae_matches_the_dsse_spec() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_statement_shape() -> None:
    doc = json.loads(_statement().to_bytes())
    assert doc["_type"] == STATEMENT_TYPE
    assert doc["subject"] == [{"name": "model.safetensors", "digest": {"sha256": "12" * 32}}]
    assert doc["predicateType"] == "urn:aisec:predicate:deployment/model-scan:v1"


@pytest.mark.parametrize("key_type", list(KeyType))
def test_sign_and_verify_round_trip(key_type: KeyType) -> None:
    key = SigningKey.generate(key_type)
    env = sign_statement(_statement(), key)
    again = Envelope.from_bytes(env.to_bytes())
    assert again.verify([key.public]) == _statement()
    with pytest.raises(SignatureError):
        again.verify([SigningKey.generate().public])


@pytest.mark.parametrize("key_type", list(KeyType))
def test_securesystemslib_verifies_our_envelopes(key_type: KeyType) -> None:
    key = SigningKey.generate(key_type)
    env = sign_statement(_statement(), key)
    theirs = dsse.Envelope.from_dict(env.to_json())
    sslib_key = SSlibKey.from_crypto(key.public.key, keyid=key.keyid)
    assert key.keyid in theirs.verify([sslib_key], 1)


def test_we_verify_securesystemslib_envelopes() -> None:
    key = SigningKey.generate()
    signer = CryptoSigner(key.key, SSlibKey.from_crypto(key.public.key, keyid=key.keyid))
    theirs = dsse.Envelope(_statement().to_bytes(), PAYLOAD_TYPE, {})
    theirs.sign(signer)
    ours = Envelope.from_json(theirs.to_dict())
    assert ours.verify([key.public]) == _statement()


@pytest.mark.parametrize(
    "doc",
    [
        "[]",
        "{}",
        '{"payload": "***", "payloadType": "x", "signatures": []}',
        '{"payload": "e30=", "payloadType": "x", "signatures": []}',
        '{"payload": "e30=", "payloadType": "x", "signatures": [{"sig": "!"}]}',
        "{" * 100_000,
    ],
)
def test_malformed_envelopes_are_format_errors(doc: str) -> None:
    with pytest.raises(FormatError):
        Envelope.from_bytes(doc.encode())


def test_statement_validation() -> None:
    key = SigningKey.generate()
    env = sign_statement(_statement(), key)
    bad = Envelope(b'{"_type": "other"}', PAYLOAD_TYPE, env.signatures)
    with pytest.raises(FormatError, match="_type"):
        bad.statement()
    with pytest.raises(ValueError, match="sha256"):
        ArtifactRef("x", "md5:abc")


def test_generated_private_key_is_0600_and_loads(tmp_path: Path) -> None:
    key, priv, pub = generate_keypair(tmp_path / "keys" / "k.key")
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert load_signing_key(priv).keyid == key.keyid == load_public_key(pub).keyid
    with pytest.raises(Exception, match="already exists"):
        generate_keypair(priv)


def test_passphrase_protected_key(tmp_path: Path) -> None:
    _, priv, _ = generate_keypair(tmp_path / "k.key", passphrase="correct horse")
    assert b"ENCRYPTED" in priv.read_bytes()
    with pytest.raises(KeyFileError, match="encrypted"):
        load_signing_key(priv)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_signing_key(priv, "battery staple")
    assert load_signing_key(priv, "correct horse")


def test_openssl_keys_are_interchangeable(tmp_path: Path) -> None:
    priv = tmp_path / "openssl.pem"
    pub = tmp_path / "openssl.pub"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(priv)],
        check=True,
    )
    subprocess.run(["openssl", "ec", "-in", str(priv), "-pubout", "-out", str(pub)], check=True)
    key = load_signing_key(priv)
    assert key.public.key_type is KeyType.ECDSA_P256
    env = sign_statement(_statement(), key)
    assert env.verify([load_public_key(pub)]) == _statement()
    # and openssl verifies our signature over the PAE
    (tmp_path / "msg").write_bytes(pae(env.payload_type, env.payload))
    (tmp_path / "sig").write_bytes(env.signatures[0].sig)
    subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(pub),
            "-signature",
            str(tmp_path / "sig"),
            str(tmp_path / "msg"),
        ],
        check=True,
        capture_output=True,
    )


def test_other_curves_and_garbage_are_refused(tmp_path: Path) -> None:
    p384 = tmp_path / "p384.pem"
    subprocess.run(
        ["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", str(p384)],
        check=True,
    )
    with pytest.raises(KeyFileError, match="P-256"):
        load_signing_key(p384)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_signing_key(junk)
    with pytest.raises(KeyFileError, match="no key at"):
        load_signing_key(tmp_path / "absent.key")
