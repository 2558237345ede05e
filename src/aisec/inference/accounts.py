"""API keys, stored only as hashes.

Keys are looked up by their plain SHA-256 (``digest_bytes``). A slow KDF (scrypt, argon2)
protects *low-entropy passwords* against offline guessing; API keys are random tokens of at
least 16 characters, so a fast hash is already infeasible to invert and keeps the lookup a
constant-time dict access on the hot path (a KDF would add ~50 ms per request or need a
plaintext cache, which defeats the point). A key is never logged: only the account name is.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from aisec.core.digest import digest_bytes

__all__ = ["Account", "AccountTable", "hash_api_key"]


def hash_api_key(api_key: str) -> str:
    """Hex SHA-256 of the key, the only form in which the gateway keeps it."""
    return digest_bytes(api_key.encode()).removeprefix("sha256:")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    key_hash: str


class AccountTable:
    """Key hash → account."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._by_hash = {a.key_hash: a for a in accounts}
        self.names = tuple(a.name for a in self._by_hash.values())

    def lookup(self, api_key: str | None) -> Account | None:
        if not api_key:
            return None
        h = hash_api_key(api_key)
        acct = self._by_hash.get(h)
        # the dict lookup already compared hashes; compare again in constant time so a
        # timing difference cannot reveal a prefix of a stored hash
        if acct is not None and hmac.compare_digest(acct.key_hash, h):
            return acct
        return None
