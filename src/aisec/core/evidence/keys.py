"""Signing keys: ECDSA P-256 by default, Ed25519 accepted; PEM files.

A key made by ``openssl ecparam -name prime256v1 -genkey`` (SEC1 ``EC PRIVATE KEY``) or
``openssl genpkey -algorithm ed25519`` (PKCS#8) loads as is; ``generate_keypair`` writes
PKCS#8 private keys with mode 0600 and SubjectPublicKeyInfo public keys.

The key id is the hex SHA-256 of the DER SubjectPublicKeyInfo, so a public key names
itself wherever it travels. Private key material is never logged or printed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from aisec.core.errors import InputError, KeyFileError
from aisec.core.paths import aisec_home, default_key_path

__all__ = [
    "KeyType",
    "PublicKey",
    "SigningKey",
    "aisec_home",
    "default_key_path",
    "generate_keypair",
    "load_public_key",
    "load_signing_key",
]

PASSPHRASE_ENV = "AISEC_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret
_MAX_KEY_FILE = 64 * 1024

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PubKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyType(StrEnum):
    ECDSA_P256 = "ecdsa-p256"
    ED25519 = "ed25519"


def _key_type(key: PrivateKey | PubKey) -> KeyType:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyType.ED25519
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeyFileError(
            f"unsupported EC curve {key.curve.name}; aisec signs with P-256 (prime256v1) or Ed25519"
        )
    return KeyType.ECDSA_P256


@dataclass(frozen=True)
class PublicKey:
    key: PubKey
    key_type: KeyType
    keyid: str

    @classmethod
    def from_key(cls, key: PubKey) -> PublicKey:
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(key=key, key_type=_key_type(key), keyid=hashlib.sha256(der).hexdigest())

    @classmethod
    def from_pem(cls, pem: bytes, *, source: str = "public key") -> PublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFileError(f"{source} is not a PEM public key ({exc})") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            raise KeyFileError(f"{source}: only ECDSA P-256 and Ed25519 keys are supported")
        return cls.from_key(key)

    def pem(self) -> bytes:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
            else:
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    key: PrivateKey
    public: PublicKey

    @property
    def keyid(self) -> str:
        return self.public.keyid

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 over SHA-256 (DER signature), or Ed25519."""
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ECDSA_P256) -> SigningKey:
        key: PrivateKey = (
            ed25519.Ed25519PrivateKey.generate()
            if key_type is KeyType.ED25519
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(key=key, public=PublicKey.from_key(key.public_key()))

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(type={self.public.key_type.value}, keyid={self.keyid[:16]}…)"


def _read_key_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > _MAX_KEY_FILE:
            raise KeyFileError(f"{path} is {size} bytes: too large for a PEM key", path=path)
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"no key at {path}; create one with 'aisec keys generate'", path=path
        ) from exc
    except IsADirectoryError as exc:
        raise KeyFileError(f"{path} is a directory, not a key file", path=path) from exc
    except PermissionError as exc:
        raise KeyFileError(f"cannot read key {path}: permission denied", path=path) from exc


def load_signing_key(path: str | os.PathLike[str], passphrase: str | None = None) -> SigningKey:
    """Load a PEM private key; the passphrase defaults to ``$AISEC_KEY_PASSPHRASE``."""
    path = Path(path)
    data = _read_key_file(path)
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV)
    pw = passphrase.encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=pw)
    except TypeError as exc:
        if pw is None:
            raise KeyFileError(
                f"{path} is encrypted: give its passphrase (--passphrase or ${PASSPHRASE_ENV})",
                path=path,
            ) from exc
        raise KeyFileError(f"{path} is not encrypted: drop the passphrase", path=path) from exc
    except ValueError as exc:
        if pw is not None and b"ENCRYPTED" in data:
            raise KeyFileError(f"wrong passphrase for {path}", path=path) from exc
        raise KeyFileError(f"{path} is not a PEM private key", path=path) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyFileError(f"{path}: unsupported key algorithm", path=path) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{path}: only ECDSA P-256 and Ed25519 keys are supported", path=path)
    return SigningKey(key=key, public=PublicKey.from_key(key.public_key()))


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Load a PEM public key (or derive it from an unencrypted private key file)."""
    path = Path(path)
    data = _read_key_file(path)
    if b"PRIVATE KEY" in data:
        return load_signing_key(path).public
    return PublicKey.from_pem(data, source=str(path))


def generate_keypair(
    private_path: str | os.PathLike[str],
    *,
    key_type: KeyType = KeyType.ECDSA_P256,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> tuple[SigningKey, Path, Path]:
    """Write ``private_path`` (PKCS#8, mode 0600) and ``<stem>.pub`` beside it."""
    private_path = Path(private_path)
    public_path = private_path.with_suffix(".pub")
    if not overwrite:
        for p in (private_path, public_path):
            if p.exists():
                raise InputError(
                    f"{p} already exists; pass --force to replace it (the old key is lost)",
                    path=p,
                )
    key = SigningKey.generate(key_type)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    try:
        private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if overwrite:
            private_path.unlink(missing_ok=True)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        public_path.write_bytes(key.public.pem())
    except OSError as exc:
        raise InputError(f"cannot write key: {exc.strerror}", path=private_path) from exc
    return key, private_path, public_path
