"""The evidence store on SQLite and PostgreSQL: appends, queries, tampering, concurrency."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from aisec.core.errors import FormatError, InputError, StoreError
from aisec.core.evidence import (
    ArtifactRef,
    EvidenceStore,
    ProblemKind,
    SigningKey,
    Statement,
    TreeHead,
    verify_export,
)
from aisec.core.evidence.merkle import leaf_hash, verify_consistency, verify_inclusion
from aisec.core.findings import Finding, Mappings, Severity, Subject

# a predicate type of another tool: the log takes any in-toto statement, and these tests
# are about the log, not about a control's predicate
PRED = "https://aisec.test/predicate/log-test/v1"


def _statement(i: int, **predicate: object) -> Statement:
    digest = "sha256:" + hashlib.sha256(f"artifact-{i}".encode()).hexdigest()
    return Statement((ArtifactRef(f"file-{i}.bin", digest),), PRED, {"n": i, **predicate})


def _fill(url: str, key: SigningKey, n: int, tmp_path: Path) -> EvidenceStore:
    store = EvidenceStore.open(url, witness_dir=tmp_path / "witness")
    for i in range(n):
        store.record(_statement(i), key)
    return store


def _sql(url: str, *statements: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for s in statements:
            conn.execute(sa.text(s))
    engine.dispose()


def _problems(store: EvidenceStore, key: SigningKey, **kw: object) -> list[tuple[str, int | None]]:
    report = store.verify([key.public], **kw)  # type: ignore[arg-type]
    return [(p.kind.value, p.index) for p in report.problems]


def test_append_query_and_verify(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    finding = Finding(
        id="AISEC-DEP-001",
        stage="deployment",
        severity=Severity.HIGH,
        title="Pickle calls os.system",
        detail="GLOBAL os.system reached by REDUCE",
        subject=Subject("model.pt", "sha256:" + "ab" * 32),
        remediation="Convert to SafeTensors",
        mappings=Mappings(atlas=("AML.T0011.000",), owasp_llm=("LLM03",)),
    )
    with _fill(store_url, signing_key, 5, tmp_path) as store:
        e = store.record(_statement(99, findings=[finding.to_json()]), signing_key, run_id="run-1")
        assert e.index == 5
        assert store.size() == 6
        assert [x.index for x in store.entries(subject_digest=e.statement.subjects[0].digest)] == [
            5
        ]
        assert store.findings() == [(5, finding)]
        assert store.runs()[0]["run_id"] == "run-1"
        report = store.verify([signing_key.public])
        assert report.ok, report.problems
        assert (report.size, report.heads_checked, report.signatures_checked) == (6, 6, 6)
        head = store.latest_head()
        assert head is not None and head.size == 6
        proof = store.inclusion_proof(2)
        assert verify_inclusion(
            bytes.fromhex(store.get(2).leaf_hash), 2, 6, proof, bytes.fromhex(head.root)
        )
        old = next(h for h in store.heads() if h.size == 3)
        assert verify_consistency(
            3, 6, bytes.fromhex(old.root), bytes.fromhex(head.root), store.consistency_proof(3, 6)
        )


def test_reopening_keeps_log_and_extends_it(tmp_path: Path, signing_key: SigningKey) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    _fill(url, signing_key, 3, tmp_path).close()
    with EvidenceStore.open(url, witness_dir=tmp_path / "witness") as store:
        log_id = store.log_id
        store.record(_statement(3), signing_key)
        assert store.verify([signing_key.public]).ok
    with EvidenceStore.open(url, witness_dir=tmp_path / "witness") as store:
        assert store.log_id == log_id and store.size() == 4


def test_wrong_key_names_every_entry(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    other = SigningKey.generate()
    with _fill(store_url, signing_key, 3, tmp_path) as store:
        report = store.verify([other.public])
    kinds = {(p.kind, p.index) for p in report.problems}
    assert {(ProblemKind.BAD_SIGNATURE, i) for i in range(3)} <= kinds


# --------------------------------------------------------------------- tampering
def _envelope_of(url: str, index: int) -> str:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT envelope FROM aisec_entries WHERE idx = :i"), {"i": index}
        ).scalar_one()
    engine.dispose()
    return str(value)


def test_one_changed_byte_is_named(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(
            store_url,
            "UPDATE aisec_entries SET envelope = replace(envelope, '\"payloadType\"', "
            "'\"payloadtype\"') WHERE idx = 3",
        )
        assert _problems(store, signing_key) == [("changed", 3)]


def test_change_with_recomputed_leaf_is_named(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    """An attacker who rewrites content and its leaf hash, re-signed with their own key."""
    attacker = SigningKey.generate()
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        from aisec.core.evidence import sign_statement

        forged = sign_statement(_statement(1000), attacker).to_bytes().decode()
        _sql(
            store_url,
            f"UPDATE aisec_entries SET envelope = '{forged}', "
            f"leaf_hash = '{leaf_hash(forged.encode()).hex()}' WHERE idx = 5",
        )
        # pinned key: the signature gives it away
        assert ("bad-signature", 5) in _problems(store, signing_key)
        # even trusting the attacker's key, the signed tree head names the entry
        report = store.verify([signing_key.public, attacker.public])
        assert [(p.kind.value, p.index) for p in report.problems] == [("changed", 5)]


def test_deleted_entry_is_named(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(store_url, "DELETE FROM aisec_entries WHERE idx = 4")
        assert _problems(store, signing_key) == [("removed", 4)]


def test_deleted_and_renumbered_is_named(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(
            store_url,
            "DELETE FROM aisec_entries WHERE idx = 4",
            *(f"UPDATE aisec_entries SET idx = {i - 1} WHERE idx = {i}" for i in range(5, 8)),
        )
        assert _problems(store, signing_key) == [("removed", 4)]


def test_swapped_entries_are_named(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(
            store_url,
            "UPDATE aisec_entries SET idx = 100 WHERE idx = 2",
            "UPDATE aisec_entries SET idx = 2 WHERE idx = 6",
            "UPDATE aisec_entries SET idx = 6 WHERE idx = 100",
        )
        assert _problems(store, signing_key) == [("reordered", 2), ("reordered", 6)]


def test_truncated_entries_are_named(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(store_url, "DELETE FROM aisec_entries WHERE idx >= 6")
        assert _problems(store, signing_key) == [("truncated", 6)]


def test_truncation_with_heads_is_caught_by_the_witness(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(
            store_url,
            "DELETE FROM aisec_entries WHERE idx >= 6",
            "DELETE FROM aisec_tree_heads WHERE size > 6",
        )
        # the database alone is consistent with itself...
        assert _problems(store, signing_key, use_local_witness=False) == []
        # ...but the head this client remembered outside it is not
        assert _problems(store, signing_key) == [("truncated", 6)]


def test_replaced_tree_head_is_named(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 8, tmp_path) as store:
        _sql(
            store_url,
            'UPDATE aisec_tree_heads SET body = replace(body, \'"root":"\', '
            '\'"root":"00\') WHERE size = 5',
        )
        assert _problems(store, signing_key) == [("tree-head", 4)]


def test_altered_index_rows_are_named(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 4, tmp_path) as store:
        _sql(store_url, "UPDATE aisec_subjects SET name = 'innocent.bin' WHERE idx = 1")
        assert _problems(store, signing_key) == [("index", 1)]


# --------------------------------------------------------------------- export
def test_export_verifies_offline(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    buf = io.StringIO()
    with _fill(store_url, signing_key, 5, tmp_path) as store:
        assert store.export(buf) == 5
    lines = buf.getvalue().splitlines()
    assert verify_export(io.StringIO("\n".join(lines)), [signing_key.public]).ok
    # tamper with one exported entry
    doctored = []
    for line in lines:
        obj = json.loads(line)
        if obj.get("entry", {}).get("index") == 2:
            obj["entry"]["envelope"]["payloadType"] = "text/plain"
        doctored.append(json.dumps(obj))
    report = verify_export(io.StringIO("\n".join(doctored)), [signing_key.public])
    assert [(p.kind.value, p.index) for p in report.problems] == [("changed", 2)]


def test_malformed_export_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="line 1"):
        verify_export(io.StringIO("{not json\n"))
    with pytest.raises(FormatError, match="not an aisec evidence export"):
        verify_export(io.StringIO('{"entry": {"index": 0, "leaf_hash": "", "envelope": {}}}\n'))


def test_tree_head_round_trip(signing_key: SigningKey, tmp_path: Path) -> None:
    with _fill(f"sqlite:///{tmp_path / 'e.db'}", signing_key, 2, tmp_path) as store:
        head = store.latest_head()
    assert head is not None
    again = TreeHead.from_json(json.loads(json.dumps(head.to_json())))
    assert again.body == head.body and again.verified_by([signing_key.public])


# --------------------------------------------------------------------- bad stores
def test_corrupted_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "evidence.db"
    garbage = b"this is not a database" * 100
    db.write_bytes(garbage)
    with pytest.raises(StoreError, match="not an SQLite database"):
        EvidenceStore.open(f"sqlite:///{db}")
    assert db.read_bytes() == garbage


def test_damaged_sqlite_pages_are_refused_untouched(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    db = tmp_path / "evidence.db"
    _fill(f"sqlite:///{db}", signing_key, 20, tmp_path).close()
    raw = bytearray(db.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page, keep the magic
    db.write_bytes(bytes(raw))
    with pytest.raises(StoreError):
        EvidenceStore.open(f"sqlite:///{db}")
    assert db.read_bytes() == bytes(raw)


def test_missing_store_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no evidence store"):
        EvidenceStore.open(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_unsupported_url_scheme() -> None:
    with pytest.raises(InputError, match="unsupported evidence store URL"):
        EvidenceStore.open("mysql://localhost/db")


def test_unreachable_postgres_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the evidence store"):
        EvidenceStore.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


# --------------------------------------------------------------------- concurrency
_WRITER = textwrap.dedent(
    """
    import hashlib, sys
    from pathlib import Path
    from aisec.core.evidence import ArtifactRef, EvidenceStore, Statement, predicate_type
    from aisec.core.evidence import load_signing_key
    url, key_path, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    key = load_signing_key(Path(key_path))
    pred = "https://aisec.test/predicate/log-test/v1"
    with EvidenceStore.open(url, witness_dir=Path(key_path).parent / ("w" + tag)) as store:
        for i in range(count):
            d = "sha256:" + hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()
            store.record(Statement((ArtifactRef(f"{tag}-{i}", d),), pred, {"w": tag}), key)
    """
)


@pytest.mark.slow
def test_two_processes_append_500_each(store_url: str, tmp_path: Path) -> None:
    from aisec.core.evidence import generate_keypair

    key, key_path, _ = generate_keypair(tmp_path / "k.key")
    EvidenceStore.open(store_url).close()  # create the schema first, as `aisec` would
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, store_url, str(key_path), tag, "500"],
            stderr=subprocess.PIPE,
        )
        for tag in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with EvidenceStore.open(store_url, witness_dir=tmp_path / "witness") as store:
        assert store.size() == 1000
        names = sorted(s.name for e in store.entries() for s in e.statement.subjects)
        assert names == sorted(f"{t}-{i}" for t in "ab" for i in range(500))
        report = store.verify([key.public])
        assert report.ok, report.problems[:3]
        assert report.heads_checked == 1000


def test_altered_run_row_is_named(store_url: str, signing_key: SigningKey, tmp_path: Path) -> None:
    with EvidenceStore.open(store_url, witness_dir=tmp_path / "witness") as store:
        for i in range(3):
            store.record(_statement(i), signing_key, run_id="train-1")
        _sql(store_url, "UPDATE aisec_runs SET entries = 2 WHERE run_id = 'train-1'")
        assert _problems(store, signing_key) == [("index", 2)]


def test_signed_time_comes_from_the_entry_head(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with _fill(store_url, signing_key, 3, tmp_path) as store:
        entry = store.get(1)
        stamp = store.signed_time(entry, [signing_key.public])
        assert stamp is not None and stamp == entry.created_at
        assert store.signed_time(entry, [SigningKey.generate().public]) is None
        _sql(store_url, "DELETE FROM aisec_tree_heads WHERE size = 2")
        assert store.signed_time(entry, [signing_key.public]) is None


def test_batched_appends_are_all_or_nothing(
    store_url: str, signing_key: SigningKey, tmp_path: Path
) -> None:
    with EvidenceStore.open(store_url, witness_dir=tmp_path / "w") as store:
        entries = store.record_many([_statement(i) for i in range(5)], signing_key)
        assert [e.index for e in entries] == [0, 1, 2, 3, 4]
        assert len(store.heads()) == 5 and store.verify([signing_key.public]).ok
        bad = Statement(
            (ArtifactRef("m", "sha256:" + "0" * 64),),
            "urn:aisec:predicate:deployment/model-scan:v2",
            {"verdict": "perhaps"},
        )
        with pytest.raises(FormatError):
            store.record_many([_statement(5), bad], signing_key)
        assert store.size() == 5  # the good one of the failed batch was not appended either
