"""RFC 6962 Merkle tree: roots against the RFC's recursive definition, every proof checked."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from aisec.core.evidence.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    prefix_roots,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def _mth(data: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 defines it."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(data[:k]) + _mth(data[k:])).digest()


DATA = [f"entry {i}".encode() for i in range(40)]
LEAVES = [leaf_hash(d) for d in DATA]


def test_roots_match_the_rfc_definition() -> None:
    assert root_hash([]) == EMPTY_ROOT == _mth([])
    roots = prefix_roots(LEAVES)
    for n in range(1, len(DATA) + 1):
        assert root_hash(LEAVES[:n]) == _mth(DATA[:n]) == roots[n - 1]


def test_every_inclusion_proof_verifies_and_only_for_its_leaf() -> None:
    for n in range(1, 34):
        root = root_hash(LEAVES[:n])
        for m in range(n):
            proof = inclusion_proof(LEAVES, m, n)
            assert verify_inclusion(LEAVES[m], m, n, proof, root)
            assert not verify_inclusion(LEAVES[(m + 1) % 40], m, n, proof, root) or n == 1
            assert not verify_inclusion(LEAVES[m], m, n, proof, bytes(32))


def test_every_consistency_proof_verifies() -> None:
    for n in range(1, 34):
        new_root = root_hash(LEAVES[:n])
        for m in range(1, n + 1):
            old_root = root_hash(LEAVES[:m])
            proof = consistency_proof(LEAVES, m, n)
            assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
            if m < n:
                assert not verify_consistency(m, n, bytes(32), new_root, proof)
                assert not verify_consistency(m, n, old_root, bytes(32), proof)


def test_rfc_9162_known_shapes() -> None:
    # size 7, leaf 3: path is [leaf 2, hash(0,1), hash(4..6)] — three hashes
    assert len(inclusion_proof(LEAVES, 3, 7)) == 3
    # consistency 3 -> 7 takes four hashes (RFC 6962 2.1.3 example)
    assert len(consistency_proof(LEAVES, 3, 7)) == 4
    assert len(consistency_proof(LEAVES, 4, 7)) == 1
    assert len(consistency_proof(LEAVES, 6, 7)) == 3


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70))
def test_frontier_round_trip_and_root(data: list[bytes]) -> None:
    leaves = [leaf_hash(d) for d in data]
    f = Frontier()
    for leaf in leaves:
        f.append(leaf)
        f = Frontier.from_json(f.to_json())
    assert f.root() == _mth(data)
