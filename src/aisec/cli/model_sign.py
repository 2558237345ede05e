"""``aisec model sign`` and ``aisec model verify``: OpenSSF model signatures (key-based).

The ``model`` group lives in :mod:`aisec.cli.model`; :func:`register` adds these commands to it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    byte_progress,
    db_option,
    format_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.evidence import (
    PublicKey,
    SigningKey,
    default_key_path,
    load_public_key,
    load_signing_key,
)
from aisec.deployment.signing import (
    ModelSignature,
    SignatureCheck,
    sign_model,
    signature_statement,
    verify_model,
)

__all__ = ["register", "sign", "verify"]

_SCHEMA = "aisec.model-signature/v1"


def register(model_group: click.Group) -> None:
    """Add ``sign`` and ``verify`` to the ``aisec model`` group."""
    model_group.add_command(sign)
    model_group.add_command(verify)


F = TypeVar("F", bound=Callable[..., Any])


def _record_option() -> Callable[[F], F]:
    return click.option(
        "--no-record",
        is_flag=True,
        default=False,
        help="Do not record a deployment/model-signature attestation in the evidence store.",
    )


def _to_json(result: ModelSignature | SignatureCheck, action: str, index: int | None) -> Any:
    signed = result.signed
    out: dict[str, Any] = {
        "schema": _SCHEMA,
        "action": action,
        "model": result.model_dir,
        "signature": result.signature_path,
        "valid": result.valid if isinstance(result, SignatureCheck) else True,
        "model_digest": result.model_digest,
        "root_digest": signed.root_digest if signed else None,
        "serialization": signed.method if signed else None,
        "shard_size": signed.shard_size if signed else None,
        "ignore_paths": list(signed.ignore_paths) if signed else [],
        "keyid": result.keyid,
        "signature_digest": result.signature_digest,
        "files": [{"path": e.label, "digest": e.digest} for e in result.manifest.entries],
        "evidence_index": index,
    }
    if isinstance(result, SignatureCheck):
        out["reasons"] = list(result.reasons)
        out["added"], out["removed"], out["changed"] = (
            list(result.added),
            list(result.removed),
            list(result.changed),
        )
    return out


def _record(
    result: ModelSignature | SignatureCheck, action: str, key: SigningKey, db: str | None
) -> int:
    statement = signature_statement(result, action="sign" if action == "sign" else "verify")
    from aisec.core.evidence import EvidenceStore

    with EvidenceStore.open(db) as store:
        entry = store.record(statement, key)
    stderr_console().print(f"recorded entry #{entry.index} in {store.url}", markup=False)
    return entry.index


@click.command(name="sign")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="AISEC_KEY",
    default=None,
    help="EC P-256 private key (PEM) that signs the model and the attestation "
    "[env AISEC_KEY; default: .aisec/keys/aisec.key]",
)
@click.option(
    "--signature",
    "signature_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("model.sig"),
    show_default=True,
    help="Where to write the signature (a Sigstore bundle, model-signing format).",
)
@click.option(
    "--shard-size",
    type=click.IntRange(min=1),
    default=None,
    help="Sign shards of this many bytes (model-signing 'shards'); default: whole files.",
)
@click.option(
    "--ignore",
    "ignore_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Leave this file or folder out (repeatable); recorded in the signature.",
)
@click.option(
    "--ignore-git-paths/--no-ignore-git-paths",
    default=True,
    show_default=True,
    help="Leave out .git, .github, .gitattributes and .gitignore.",
)
@db_option()
@_record_option()
@format_option()
@output_option()
def sign(
    model_dir: Path,
    key_path: Path | None,
    signature_path: Path,
    shard_size: int | None,
    ignore_paths: tuple[Path, ...],
    ignore_git_paths: bool,
    db: str | None,
    no_record: bool,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Sign MODEL_DIR; the signature verifies with OpenSSF model-signing too."""
    key = load_signing_key(key_path or default_key_path())
    with byte_progress("hashing") as progress:
        result = sign_model(
            model_dir,
            key,
            signature_path=signature_path,
            shard_size=shard_size,
            ignore_paths=ignore_paths,
            ignore_git_paths=ignore_git_paths,
            progress=progress,
        )
    index = None if no_record else _record(result, "sign", key, db)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(_to_json(result, "sign", index), fh)
            return
        con = stdout_console(fh)
        n = len({e.path for e in result.manifest.entries})
        con.print(
            f"signed {n} files ({result.manifest.total_size} bytes, by {result.signed.method}) "
            f"of {model_dir} -> {signature_path}",
            markup=False,
        )
        con.print(f"model digest {result.model_digest}", markup=False)
        con.print(f"keyid        {result.keyid}", markup=False)


@click.command(name="verify")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_paths",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="Trusted public key (PEM); repeat to accept any of several.",
)
@click.option(
    "--signature",
    "signature_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("model.sig"),
    show_default=True,
    help="The signature to check.",
)
@click.option(
    "--evidence-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="AISEC_KEY",
    default=None,
    help="Private key that signs the attestation [env AISEC_KEY; default: .aisec/keys/aisec.key]",
)
@db_option()
@_record_option()
@format_option()
@output_option()
def verify(
    model_dir: Path,
    key_paths: tuple[Path, ...],
    signature_path: Path,
    evidence_key: Path | None,
    db: str | None,
    no_record: bool,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Verify MODEL_DIR against a model signature. Exit 0 valid, 1 invalid, 2 bad input."""
    keys: list[PublicKey] = [load_public_key(p) for p in key_paths]
    attest_key = None if no_record else load_signing_key(evidence_key or default_key_path())
    with byte_progress("hashing") as progress:
        result = verify_model(model_dir, keys, signature_path=signature_path, progress=progress)
    index = None if attest_key is None else _record(result, "verify", attest_key, db)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(_to_json(result, "verify", index), fh)
        else:
            con = stdout_console(fh)
            if result.valid:
                con.print(
                    f"valid: {model_dir} matches {signature_path} (keyid {result.keyid})",
                    markup=False,
                )
            else:
                con.print(f"INVALID: {model_dir} does not match {signature_path}", markup=False)
                for reason in result.reasons:
                    con.print(f"  - {reason}", markup=False)
    if not result.valid:
        raise click.exceptions.Exit(EXIT_FINDINGS)
