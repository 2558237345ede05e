"""Verification of a log, from the database or from an export, by one pure function.

Each append writes one signed tree head that commits to the new size, the root, and
the hash of the leaf just added. Checking every head against the recomputed leaves
therefore names *which* entry was changed, removed, reordered or cut off, not only
that the root differs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aisec.core.errors import FormatError
from aisec.core.evidence.attestation import Envelope, canonical_json, pae
from aisec.core.evidence.keys import PublicKey
from aisec.core.evidence.merkle import leaf_hash, prefix_roots

__all__ = [
    "HEAD_SCHEMA",
    "Problem",
    "ProblemKind",
    "RawEntry",
    "TreeHead",
    "VerifyReport",
    "verify_log",
]

HEAD_SCHEMA = "aisec.tree-head/v1"


class ProblemKind(StrEnum):
    CHANGED = "changed"
    REMOVED = "removed"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad-signature"
    TREE_HEAD = "tree-head"
    INDEX = "index"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    index: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "index": self.index, "message": self.message}


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An entry as stored: its position, the leaf hash recorded beside it, its bytes."""

    index: int
    leaf_hash: str
    envelope: bytes


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed tree head. ``body`` holds the exact signed bytes."""

    body: bytes
    keyid: str
    signature: bytes

    @classmethod
    def create(
        cls,
        *,
        log_id: str,
        size: int,
        root: bytes,
        last_leaf: bytes,
        timestamp: str,
        sign: Any,
        keyid: str,
    ) -> TreeHead:
        body = canonical_json(
            {
                "schema": HEAD_SCHEMA,
                "log_id": log_id,
                "size": size,
                "root": root.hex(),
                "last_leaf": last_leaf.hex(),
                "timestamp": timestamp,
            }
        )
        return cls(body=body, keyid=keyid, signature=sign(pae(HEAD_SCHEMA, body)))

    def fields(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise FormatError("tree head body is not JSON") from exc
        if not isinstance(data, dict) or data.get("schema") != HEAD_SCHEMA:
            raise FormatError(f"tree head body is not {HEAD_SCHEMA}")
        return data

    @property
    def size(self) -> int:
        return int(self.fields()["size"])

    @property
    def root(self) -> str:
        return str(self.fields()["root"])

    def verified_by(self, keys: Sequence[PublicKey]) -> bool:
        message = pae(HEAD_SCHEMA, self.body)
        return any(k.verify(self.signature, message) for k in keys if k.keyid == self.keyid)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.fields(),
            "keyid": self.keyid,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, data: Any) -> TreeHead:
        """Rebuild from :meth:`to_json` (the body is re-encoded canonically)."""
        if not isinstance(data, dict):
            raise FormatError("tree head must be a JSON object")
        try:
            body = {
                k: data[k] for k in ("schema", "log_id", "size", "root", "last_leaf", "timestamp")
            }
            sig = base64.b64decode(str(data["signature"]), validate=True)
            keyid = str(data["keyid"])
        except (KeyError, ValueError) as exc:
            raise FormatError(
                "tree head needs schema, log_id, size, root, last_leaf, timestamp, keyid, signature"
            ) from exc
        return cls(body=canonical_json(body), keyid=keyid, signature=sig)


@dataclass(frozen=True)
class VerifyReport:
    size: int
    entries_checked: int
    heads_checked: int
    signatures_checked: int
    root: str | None
    pinned_keys: tuple[str, ...]
    problems: tuple[Problem, ...] = field(default=())
    witness_size: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.evidence-verify/v1",
            "ok": self.ok,
            "size": self.size,
            "root": self.root,
            "entries_checked": self.entries_checked,
            "heads_checked": self.heads_checked,
            "signatures_checked": self.signatures_checked,
            "pinned_keys": list(self.pinned_keys),
            "witness_size": self.witness_size,
            "problems": [p.to_json() for p in self.problems],
        }


def verify_log(
    entries: Sequence[RawEntry],
    heads: Sequence[TreeHead],
    keys: Sequence[PublicKey],
    *,
    pinned: bool,
    witness: TreeHead | None = None,
) -> VerifyReport:
    """Recompute everything; report each problem once, naming the entry it concerns."""
    problems: list[Problem] = []
    entries = sorted(entries, key=lambda e: e.index)

    # 1. positions: a hole in the numbering is a removed entry
    present = {e.index for e in entries}
    top = max(present, default=-1)
    problems.extend(
        Problem(ProblemKind.REMOVED, i, f"entry #{i} is missing: it was removed from the log")
        for i in range(top + 1)
        if i not in present
    )

    # 2. each entry's bytes against the leaf hash stored beside them, and its signature
    actual: dict[int, bytes] = {}
    sigs = 0
    for e in entries:
        leaf = leaf_hash(e.envelope)
        actual[e.index] = leaf
        if leaf.hex() != e.leaf_hash:
            problems.append(
                Problem(
                    ProblemKind.CHANGED,
                    e.index,
                    f"entry #{e.index} was changed: its content no longer hashes to its "
                    "recorded leaf",
                )
            )
            continue
        try:
            env = Envelope.from_bytes(e.envelope)
        except FormatError as exc:
            problems.append(Problem(ProblemKind.CHANGED, e.index, f"entry #{e.index}: {exc}"))
            continue
        sigs += 1
        if not env.verified_keyids(keys):
            who = "the pinned key(s)" if pinned else "any key recorded in the log"
            problems.append(
                Problem(
                    ProblemKind.BAD_SIGNATURE,
                    e.index,
                    f"entry #{e.index}: its envelope signature does not verify with {who}",
                )
            )

    # 3. signed heads: each commits to (size, root, last leaf)
    expected: dict[int, str] = {}
    head_roots: dict[int, str] = {}
    good_heads: list[TreeHead] = []
    for h in heads:
        try:
            f = h.fields()
            size, root, last = int(f["size"]), str(f["root"]), str(f["last_leaf"])
        except (FormatError, KeyError, ValueError):
            problems.append(Problem(ProblemKind.TREE_HEAD, None, "a tree head is unreadable"))
            continue
        if not h.verified_by(keys):
            problems.append(
                Problem(
                    ProblemKind.TREE_HEAD,
                    size - 1,
                    f"tree head of size {size}: signature does not verify (head replaced?)",
                )
            )
            continue
        good_heads.append(h)
        expected[size - 1] = last
        head_roots[size] = root

    signed_size = max(head_roots, default=0)
    log_size = max(signed_size, top + 1)
    by_leaf = {v: k for k, v in expected.items()}
    named = {p.index for p in problems if p.index is not None}
    renumbered_from = _renumbered_from(expected, actual, top)
    for pos in sorted(expected):
        if pos in named or pos not in actual:
            continue
        if renumbered_from is not None and pos >= renumbered_from:
            problems.append(
                Problem(
                    ProblemKind.REMOVED,
                    pos,
                    f"entry #{pos} was removed and the {top + 1 - pos} later entries renumbered",
                )
            )
            break
        got = actual[pos].hex()
        if got == expected[pos]:
            continue
        other = by_leaf.get(got)
        if other is not None and other != pos:
            msg = f"entry #{pos} was reordered: it holds the entry signed at #{other}"
            problems.append(Problem(ProblemKind.REORDERED, pos, msg))
        else:
            problems.append(
                Problem(
                    ProblemKind.CHANGED,
                    pos,
                    f"entry #{pos} was changed: it differs from the entry its signed tree "
                    "head committed to",
                )
            )
    if top + 1 < signed_size and renumbered_from is None:
        problems.append(
            Problem(
                ProblemKind.TRUNCATED,
                top + 1,
                f"log truncated: signed heads cover {signed_size} entries but entries "
                f"#{top + 1}..#{signed_size - 1} are gone",
            )
        )

    # 4. roots: a head whose root disagrees though every leaf matched was replaced
    leaves = [actual.get(i, b"") for i in range(top + 1)]
    roots = prefix_roots(leaves) if leaves and present == set(range(top + 1)) else []
    if roots and not problems:
        for size, root in sorted(head_roots.items()):
            if size <= len(roots) and roots[size - 1].hex() != root:
                problems.append(
                    Problem(
                        ProblemKind.TREE_HEAD,
                        size - 1,
                        f"tree head of size {size}: its root does not match the entries",
                    )
                )

    # 5. a witness: a head seen earlier (kept outside the database)
    witness_size = None
    earlier = bool(problems)
    shortened = any(p.kind in (ProblemKind.TRUNCATED, ProblemKind.REMOVED) for p in problems)
    if witness is not None:
        try:
            witness_size = witness.size
            w_root = witness.root
        except (FormatError, KeyError, ValueError):
            witness_size, w_root = None, ""
            problems.append(Problem(ProblemKind.TREE_HEAD, None, "the witness head is unreadable"))
        if witness_size is not None:
            if not witness.verified_by(keys):
                problems.append(
                    Problem(
                        ProblemKind.TREE_HEAD,
                        None,
                        f"witness head of size {witness_size}: signature does not verify",
                    )
                )
            elif witness_size > top + 1 and not shortened:
                problems.append(
                    Problem(
                        ProblemKind.TRUNCATED,
                        top + 1,
                        f"log truncated: a head of size {witness_size} was witnessed but the "
                        f"log holds {top + 1} entries; entries #{top + 1}..#{witness_size - 1} "
                        "and their heads are gone",
                    )
                )
            elif (
                not earlier
                and witness_size <= len(roots)
                and roots[witness_size - 1].hex() != w_root
            ):
                problems.append(
                    Problem(
                        ProblemKind.TREE_HEAD,
                        witness_size - 1,
                        f"the log was rewritten: its first {witness_size} entries no longer "
                        "match the witnessed head",
                    )
                )

    root_hex = roots[-1].hex() if roots else None
    return VerifyReport(
        size=log_size,
        entries_checked=len(entries),
        heads_checked=len(good_heads),
        signatures_checked=sigs,
        root=root_hex,
        pinned_keys=tuple(k.keyid for k in keys) if pinned else (),
        problems=tuple(sorted(problems, key=lambda p: (p.index is None, p.index or 0))),
        witness_size=witness_size,
    )


def _renumbered_from(expected: dict[int, str], actual: dict[int, bytes], top: int) -> int | None:
    """First position p whose entry and all later ones hold what was signed one place later.

    That is the trace of a deleted entry whose successors were moved up to hide the hole.
    """
    first = None
    for pos in range(top + 1):
        got = actual.get(pos)
        if got is None or got.hex() == expected.get(pos):
            if first is not None:
                return None
            continue
        if expected.get(pos + 1) != got.hex():
            return None
        if first is None:
            first = pos
    return first
