"""The scanner over the corpus: every technique detected, no false positives, nothing runs."""

from __future__ import annotations

import io
import pickle
import struct
import time
from pathlib import Path

import pytest
from corpus import call_p2, write_zip_bomb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.core.findings import Severity
from aisec.deployment import RULES, scan_file, scan_model
from aisec.deployment.scan import SAFE_CALLABLES, classify_callable


def test_corpus_has_enough_samples(corpus) -> None:  # type: ignore[no-untyped-def]
    malicious = [s for s in corpus.samples if s.malicious]
    benign = [s for s in corpus.samples if not s.malicious]
    assert len(malicious) >= 40
    assert len(benign) >= 15


def test_every_malicious_file_is_flagged_and_no_benign_file_is(corpus) -> None:  # type: ignore[no-untyped-def]
    report = scan_model([corpus.root])
    by_name = {Path(f.path).name: f for f in report.files}
    missed = [s.name for s in corpus.samples if s.malicious and not by_name[s.name].findings]
    noisy = {
        s.name: [f.detail for f in by_name[s.name].findings]
        for s in corpus.samples
        if not s.malicious and by_name[s.name].findings
    }
    assert missed == []
    assert noisy == {}
    for s in corpus.samples:
        result = by_name[s.name]
        assert result.verdict == ("clean" if not s.malicious else result.verdict)
        if s.malicious:
            assert result.verdict in ("unsafe", "unverified"), s.name
    assert list(corpus.markers.iterdir()) == []


def test_findings_name_file_member_offset_and_callable(corpus) -> None:  # type: ignore[no-untyped-def]
    result = scan_file(corpus.root / "crc_mismatch.pt")
    calls = [f for f in result.findings if f.id == "AISEC-DEP-001"]
    assert calls, result.findings
    ev = calls[0].evidence
    assert ev["member"] == "archive/data.pkl"
    assert ev["callable"] == "posix.system" or ev["callable"] == "os.system"
    assert isinstance(ev["offset"], int)
    assert calls[0].mappings.atlas and "LLM03" in calls[0].mappings.owasp_llm
    assert any(f.id == "AISEC-DEP-004" for f in result.findings)  # the CRC itself


def test_local_header_name_is_scanned_under_both_names(corpus) -> None:  # type: ignore[no-untyped-def]
    result = scan_file(corpus.root / "local_name.pt")
    members = {f.evidence.get("member") for f in result.findings if f.id == "AISEC-DEP-001"}
    assert "archive/data.pkl | archive/data.pkX" in members


def test_denylist_raises_severity_but_allowlist_decides() -> None:
    assert classify_callable("posix", "system") == "dangerous"
    assert classify_callable("__builtin__", "eval") == "dangerous"
    assert classify_callable("collections", "OrderedDict") == "safe"
    assert classify_callable("harmless.module", "thing") == "unknown"
    assert ("torch._utils", "_rebuild_tensor_v2") in SAFE_CALLABLES


def test_zip_bomb_is_a_bounded_finding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pt"
    write_zip_bomb(bomb)
    start = time.process_time()
    result = scan_file(bomb)
    assert result.verdict == "unverified"
    assert any("inflates past" in f.detail for f in result.findings)
    assert time.process_time() - start < 30  # bounded, not a benchmark: 300 MB never inflated


def test_huge_memo_index_and_deep_nesting_are_handled(tmp_path: Path) -> None:
    memo = tmp_path / "memo.pkl"
    memo.write_bytes(b"\x80\x02N" + b"r\xff\xff\xff\xff" + b"j\xff\xff\xff\xff" + b"\x86.")
    assert scan_file(memo).verdict == "clean"
    deep = tmp_path / "deep.pkl"
    deep.write_bytes(b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b".")
    assert scan_file(deep).verdict == "clean"
    unbalanced = tmp_path / "marks.pkl"
    unbalanced.write_bytes(b"\x80\x02" + b"(" * 100_000 + b".")
    assert scan_file(unbalanced).verdict == "unverified"


def test_multi_gigabyte_length_field_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "big.pkl"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc")
    result = scan_file(path)
    assert result.verdict == "unverified"


def test_legacy_stream_scans_all_five_pickles(tmp_path: Path) -> None:
    parts = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({}, protocol=2),
        pickle.dumps({}, protocol=2),
        call_p2("os", "system", "true"),
    ]
    path = tmp_path / "legacy.pt"
    path.write_bytes(b"".join(parts))
    assert scan_file(path).verdict == "unsafe"


def test_non_model_files_are_clean_and_not_model_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# a model\n")
    (tmp_path / "notes.json").write_text('{"a": 1}')
    (tmp_path / "config.json").write_text('{"a": 1}')  # read for auto_map: a config format
    report = scan_model([tmp_path])
    assert all(f.verdict == "clean" for f in report.files)
    assert [Path(f.path).name for f in report.scanned] == ["config.json"]
    assert report.verdict == "clean"


def test_h5_without_h5py_is_never_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` raise ImportError
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    result = scan_file(path)
    assert result.verdict == "unverified"
    assert "aisec[h5]" in result.findings[0].detail


def test_rules_have_unique_ids_and_mappings() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.mappings.atlas and rule.mappings.owasp_llm
        assert rule.severity in Severity


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["x.pkl", "x.pt", "x.bin", "x.onnx", "x.gguf"]))
def test_hostile_bytes_never_crash(data: bytes, name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = scan_file(path)
        assert result.verdict in ("clean", "unsafe", "unverified")


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        [b"\x80\x02", b"PK\x03\x04", b"GGUF\x03\x00\x00\x00", b"\x93NUMPY\x01\x00", b"\x1f\x8b"]
    ),
    st.binary(max_size=300),
)
def test_hostile_bytes_after_magic_never_crash(magic: bytes, data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.bin"
        path.write_bytes(magic + data)
        scan_file(path)


def test_truncations_of_a_real_pickle_are_never_clean(tmp_path: Path) -> None:
    full = call_p2("os", "getcwd", "x")
    buf = io.BytesIO(full)
    assert buf.getvalue()
    for cut in range(1, len(full) - 1):
        path = tmp_path / f"t{cut}.pkl"
        path.write_bytes(full[:cut])
        assert scan_file(path).verdict != "clean", cut


@pytest.mark.parametrize("width", [1, 100, 255])
def test_short_strings_across_the_decoders_refills_are_read_whole(
    tmp_path: Path, width: int
) -> None:
    # over 1 MiB of short strings: some straddle the decoder's buffer refills, which once read
    # them as truncated and called a benign list unverified
    path = tmp_path / "strings.pkl"
    items = [f"{i:0{width}d}" for i in range(2_000_000 // (width + 4))]
    path.write_bytes(pickle.dumps([items, [b"\x01" * width] * 9_000], protocol=4))
    assert path.stat().st_size > 1 << 20
    result = scan_file(path)
    assert result.verdict.value == "clean", [f.detail for f in result.findings]


def test_h5_model_config_is_read_with_h5py(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    import json

    lam = {
        "class_name": "Sequential",
        "config": {
            "layers": [{"class_name": "Lambda", "config": {"name": "l", "function": "4wEAAAAA"}}]
        },
    }
    dense = {
        "class_name": "Sequential",
        "config": {
            "layers": [{"class_name": "Dense", "module": "keras.layers", "config": {"name": "d"}}]
        },
    }
    for name, config in (("lambda.h5", lam), ("dense.h5", dense)):
        with h5py.File(tmp_path / name, "w") as fh:
            fh.attrs["model_config"] = json.dumps(config)
            fh.create_dataset("w", data=[1.0, 2.0])
    assert [f.id for f in scan_file(tmp_path / "lambda.h5").findings] == ["AISEC-DEP-005"]
    assert scan_file(tmp_path / "dense.h5").verdict == "clean"


def test_gguf_template_parse_failure_is_unverified(tmp_path: Path) -> None:
    from corpus import gguf

    path = tmp_path / "bad.gguf"
    path.write_bytes(gguf("{% for x in %}"))
    assert scan_file(path).verdict == "unverified"


def test_zip_entry_claiming_more_bytes_than_the_file_ends(tmp_path: Path) -> None:
    """Found by fuzzing: a deflated entry whose compressed size runs past the end of the
    file once made the reader loop forever."""
    import zipfile

    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00." * 50)
    raw = bytearray(path.read_bytes())
    cd = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, cd + 20, 0x7FFFFFFF)
    path.write_bytes(bytes(raw))
    assert scan_file(path).verdict in ("unsafe", "unverified")


def test_a_worker_pool_gives_the_same_report_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aisec.deployment.scan import _engine

    for i in range(12):
        (tmp_path / f"m{i:02}.pkl").write_bytes(pickle.dumps({"w": list(range(i))}))
    (tmp_path / "evil.pkl").write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    serial = _engine.scan_model([tmp_path])
    assert not _engine._worth_a_pool([tmp_path / "m00.pkl", tmp_path / "m01.pkl"])
    monkeypatch.setattr(_engine, "_POOL_MIN_FILES", 2)  # the pool path on a small folder
    pooled = _engine.scan_model([tmp_path], jobs=2)
    assert [(f.path, f.verdict) for f in pooled.scanned] == [
        (f.path, f.verdict) for f in serial.scanned
    ]
    assert pooled.verdict == serial.verdict == "unsafe"
