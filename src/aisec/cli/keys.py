"""``aisec keys``: make and inspect signing keys."""

from __future__ import annotations

import os
from pathlib import Path

import click

from aisec.cli._common import (
    OutputFormat,
    format_option,
    open_output,
    output_option,
    stdout_console,
    write_json,
)
from aisec.core.errors import InputError
from aisec.core.evidence.keys import (
    PASSPHRASE_ENV,
    KeyType,
    default_key_path,
    generate_keypair,
    load_public_key,
)

__all__ = ["keys_group"]


@click.group(name="keys")
def keys_group() -> None:
    """Make and inspect the keys that sign attestations (ECDSA P-256 or Ed25519, PEM)."""


@keys_group.command(name="generate")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file; the public key goes beside it as .pub "
    "[default: .aisec/keys/aisec.key].",
)
@click.option(
    "--type",
    "key_type",
    type=click.Choice([t.value for t in KeyType]),
    default=KeyType.ECDSA_P256.value,
    show_default=True,
)
@click.option(
    "--passphrase",
    "ask_passphrase",
    is_flag=True,
    help=f"Encrypt the private key; asks for the passphrase (or reads ${PASSPHRASE_ENV}).",
)
@click.option("--force", is_flag=True, help="Replace an existing key (the old one is lost).")
@format_option()
@output_option()
def generate(
    out: Path | None,
    key_type: str,
    ask_passphrase: bool,
    force: bool,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Write a new key pair; the private key file gets mode 0600."""
    passphrase = None
    if ask_passphrase:
        passphrase = os.environ.get(PASSPHRASE_ENV) or click.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=True, err=True
        )
        if not passphrase:
            raise InputError("an empty passphrase does not protect anything")
    key, priv, pub = generate_keypair(
        out or default_key_path(),
        key_type=KeyType(key_type),
        passphrase=passphrase,
        overwrite=force,
    )
    result = {
        "schema": "aisec.key/v1",
        "key_type": key.public.key_type.value,
        "keyid": key.keyid,
        "private_key": str(priv),
        "public_key": str(pub),
        "encrypted": passphrase is not None,
    }
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result, fh)
            return
        con = stdout_console(fh)
        con.print(f"Generated {result['key_type']} key {key.keyid[:16]}…")
        con.print(f"  private key: {priv} (mode 0600{', encrypted' if passphrase else ''})")
        con.print(f"  public key:  {pub}")
        con.print("Share the public key with whoever verifies your evidence.")


@keys_group.command(name="show")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@format_option()
@output_option()
def show(path: Path | None, fmt: OutputFormat, output: Path) -> None:
    """Print the type and key id of a public (or unencrypted private) key file."""
    path = path or default_key_path().with_suffix(".pub")
    key = load_public_key(path)
    result = {
        "schema": "aisec.key/v1",
        "path": str(path),
        "key_type": key.key_type.value,
        "keyid": key.keyid,
        "public_key_pem": key.pem().decode(),
    }
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result, fh)
        else:
            stdout_console(fh).print(f"{path}: {key.key_type.value} key id {key.keyid}")
