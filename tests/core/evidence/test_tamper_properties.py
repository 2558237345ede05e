"""Property: any single tampering of a random log is caught and names the right entry."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from aisec.core.evidence import (
    ArtifactRef,
    KeyType,
    SigningKey,
    Statement,
    sign_statement,
)
from aisec.core.evidence.merkle import Frontier, leaf_hash
from aisec.core.evidence.verify import ProblemKind, RawEntry, TreeHead, verify_log

# Ed25519 signs deterministically, so a log rebuilt for a replayed example has the same
# bytes and hypothesis draws the same positions (ECDSA signatures vary in length).
KEY = SigningKey.generate(KeyType.ED25519)
# a predicate type of another tool: the log takes any in-toto statement, and these tests
# are about the log, not about a control's predicate
PRED = "https://aisec.test/predicate/log-test/v1"


def _build(payloads: list[bytes]) -> tuple[list[RawEntry], list[TreeHead]]:
    """Append like the store does: one signed head per entry."""
    entries, heads, frontier = [], [], Frontier()
    for i, p in enumerate(payloads):
        digest = "sha256:" + hashlib.sha256(p).hexdigest()
        env = sign_statement(Statement((ArtifactRef(f"a{i}", digest),), PRED, {"i": i}), KEY)
        raw = env.to_bytes()
        leaf = leaf_hash(raw)
        frontier.append(leaf)
        entries.append(RawEntry(i, leaf.hex(), raw))
        heads.append(
            TreeHead.create(
                log_id="log",
                size=frontier.size,
                root=frontier.root(),
                last_leaf=leaf,
                timestamp=f"t{i}",
                sign=KEY.sign,
                keyid=KEY.keyid,
            )
        )
    return entries, heads


payload_lists = st.lists(st.binary(min_size=1, max_size=16), min_size=3, max_size=24, unique=True)


@settings(max_examples=40, deadline=None)
@given(payload_lists)
def test_untouched_log_verifies(payloads: list[bytes]) -> None:
    entries, heads = _build(payloads)
    assert verify_log(entries, heads, [KEY.public], pinned=True).ok


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_one_flipped_byte_names_its_entry(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    i = data.draw(st.integers(0, len(entries) - 1))
    raw = bytearray(entries[i].envelope)
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= data.draw(st.integers(1, 255))
    entries[i] = replace(entries[i], envelope=bytes(raw))
    report = verify_log(entries, heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.CHANGED, i)]


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_rewritten_entry_with_its_leaf_is_named(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    i = data.draw(st.integers(0, len(entries) - 1))
    forged = sign_statement(
        Statement((ArtifactRef("forged", "sha256:" + "0" * 64),), PRED, {}), KEY
    ).to_bytes()
    entries[i] = RawEntry(i, leaf_hash(forged).hex(), forged)
    report = verify_log(entries, heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.CHANGED, i)]


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_deleted_entry_is_named(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    i = data.draw(st.integers(0, len(entries) - 2))  # not the last: that is truncation
    renumber = data.draw(st.booleans())
    del entries[i]
    if renumber:
        entries = [replace(e, index=e.index - 1) if e.index > i else e for e in entries]
    report = verify_log(entries, heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.REMOVED, i)]


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_swapped_entries_are_named(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(entries) - 1), min_size=2, max_size=2, unique=True))
    )
    a, b = entries[i], entries[j]
    entries[i], entries[j] = replace(b, index=i), replace(a, index=j)
    report = verify_log(entries, heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [
        (ProblemKind.REORDERED, i),
        (ProblemKind.REORDERED, j),
    ]


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_truncation_is_named(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    keep = data.draw(st.integers(1, len(entries) - 1))
    witness = heads[-1]
    # entries only: the remaining heads give it away
    report = verify_log(entries[:keep], heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.TRUNCATED, keep)]
    # entries and heads together: only a witnessed head gives it away
    assert verify_log(entries[:keep], heads[:keep], [KEY.public], pinned=True).ok
    report = verify_log(entries[:keep], heads[:keep], [KEY.public], pinned=True, witness=witness)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.TRUNCATED, keep)]


@settings(max_examples=60, deadline=None)
@given(payload_lists, st.data())
def test_replaced_tree_head_is_named(payloads: list[bytes], data: st.DataObject) -> None:
    entries, heads = _build(payloads)
    k = data.draw(st.integers(0, len(heads) - 1))
    resign = data.draw(st.booleans())
    fields = heads[k].fields()
    signer = SigningKey.generate() if resign else KEY
    forged = TreeHead.create(
        log_id=fields["log_id"],
        size=fields["size"],
        root=bytes(32),
        last_leaf=bytes.fromhex(fields["last_leaf"]),
        timestamp=fields["timestamp"],
        sign=signer.sign,
        keyid=KEY.keyid,  # claims to be the real key
    )
    heads[k] = forged if resign else TreeHead(forged.body, KEY.keyid, heads[k].signature)
    report = verify_log(entries, heads, [KEY.public], pinned=True)
    assert [(p.kind, p.index) for p in report.problems] == [(ProblemKind.TREE_HEAD, k)]
