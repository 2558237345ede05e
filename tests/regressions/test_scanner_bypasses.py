"""One test per published bypass of a model scanner, with its advisory.

Each file would run a harmless command if loaded; the scanner must flag it at ``high`` or
above without running it.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "deployment"))

from corpus import _patch_crc, _rename_local, _torch_like_zip, call_p2, call_p4, memo_indirect

from aisec.core.findings import Severity
from aisec.deployment import scan_file


def _flagged(tmp_path: Path, data: bytes, name: str = "model.pkl") -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    result = scan_file(path)
    assert result.verdict != "clean"
    assert any(f.severity.rank >= Severity.HIGH.rank for f in result.findings)
    return [f.id for f in result.findings]


# (advisory, module, name) for blocklist misses published against picklescan
_MISSED_GLOBALS = [
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-xp4f-hrf8-rxw7
    ("GHSA-xp4f-hrf8-rxw7", "ensurepip", "_run_pip"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-v7x6-rv5q-mhwc
    ("GHSA-v7x6-rv5q-mhwc", "timeit", "timeit"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vvpj-8cmc-gx39
    ("GHSA-vvpj-8cmc-gx39", "pkgutil", "resolve_name"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-7wx9-6375-f5wh
    ("GHSA-7wx9-6375-f5wh", "profile", "run"),
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-955r-x9j8-7rhh
    ("GHSA-955r-x9j8-7rhh", "_operator", "attrgetter"),
    # https://github.com/mmaitre314/picklescan/issues/66 (importlib indirection)
    ("picklescan#66", "importlib", "import_module"),
    # https://github.com/protectai/modelscan/issues/338 (false negatives seen on the Hub)
    ("modelscan#338", "torch.utils.collect_env", "run"),
    ("modelscan#338", "multiprocessing.util", "spawnv_passfds"),
    ("modelscan#338", "mlflow.projects.backend.local", "_run_entry_point"),
    ("modelscan#338", "pandas.io.parsers.readers", "read_csv"),
    # https://github.com/protectai/modelscan/issues/28 (dill-serialised models)
    ("modelscan#28", "dill._dill", "_create_function"),
]


@pytest.mark.parametrize(("advisory", "module", "name"), _MISSED_GLOBALS)
def test_blocklist_misses_are_caught_by_the_allowlist(
    tmp_path: Path, advisory: str, module: str, name: str
) -> None:
    ids = _flagged(tmp_path, call_p4(module, name, "true"))
    assert "AISEC-DEP-001" in ids or "AISEC-DEP-002" in ids, advisory


def test_memo_stack_global_bypass(tmp_path: Path) -> None:
    # https://github.com/mmaitre314/picklescan/issues/22 : names fetched back from the memo
    ids = _flagged(tmp_path, memo_indirect("os", "system", "true"))
    assert "AISEC-DEP-001" in ids


def test_parsing_flaw_after_stop(tmp_path: Path) -> None:
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-9gvj-pp9x-gcfr :
    # content a lenient parser skips; here a second pickle follows a benign first one
    ids = _flagged(tmp_path, b"\x80\x02N." + call_p2("os", "system", "true"))
    assert "AISEC-DEP-001" in ids


def test_zip_crc_bypass(tmp_path: Path) -> None:
    # https://github.com/mmaitre314/picklescan/security/advisories/GHSA-gx77-x2pv-48v7
    # (JFrog: a bad CRC makes zipfile raise, so the scanner skipped what torch still loads)
    data = _patch_crc(_torch_like_zip(call_p2("os", "system", "true")), "archive/data.pkl")
    with pytest.raises(zipfile.BadZipFile), zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.read("archive/data.pkl")
    ids = _flagged(tmp_path, data, "model.pt")
    assert "AISEC-DEP-001" in ids and "AISEC-DEP-004" in ids


def test_zip_local_name_mismatch(tmp_path: Path) -> None:
    # zipfile refuses a local header name that differs from the central directory; miniz does not
    data = _rename_local(
        _torch_like_zip(call_p2("os", "system", "true")), "archive/data.pkl", "archive/data.pkX"
    )
    with pytest.raises(zipfile.BadZipFile), zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.read("archive/data.pkl")
    ids = _flagged(tmp_path, data, "model.pt")
    assert "AISEC-DEP-001" in ids


def test_torch_really_loads_what_zipfile_refuses(tmp_path: Path) -> None:
    """The bypass is real: torch 2.13 loads a benign checkpoint with a wrong CRC."""
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    raw = buf.getvalue()
    name = zipfile.ZipFile(io.BytesIO(raw)).namelist()[0]
    patched = _patch_crc(raw, name)
    path = tmp_path / "bad_crc.pt"
    path.write_bytes(patched)
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["w"], torch.ones(2))
    assert any(f.id == "AISEC-DEP-004" for f in scan_file(path).findings)


def test_protocol_0_pickle_hidden_after_the_first(tmp_path: Path) -> None:
    # a reader that calls pickle.load in a loop runs the second pickle; it has no PROTO
    # opcode, so "continue while the next byte is PROTO" would stop before it
    ids = _flagged(tmp_path, b"\x80\x02N." + b"cos\nsystem\n(Vtrue\ntR.")
    assert "AISEC-DEP-001" in ids


@pytest.mark.parametrize(
    ("magic", "name"),
    [
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "model.7z"),
        (b"Rar!\x1a\x07\x01\x00", "weights.rar"),
        (b"\x04\x22\x4d\x18\x64\x40", "scaler.joblib"),
        (b"\x28\xb5\x2f\xfd\x00\x58", "weights.bin"),
    ],
)
def test_archives_the_scanner_cannot_open_are_never_clean(
    tmp_path: Path, magic: bytes, name: str
) -> None:
    """picklescan's test data ships a pickle inside a .7z archive (malicious1.7z); a
    scanner that does not open a container must not call it clean."""
    path = tmp_path / name
    path.write_bytes(magic + b"cos\nsystem\n(S'touch pwned'\ntR." * 4)
    result = scan_file(path)
    assert result.verdict == "unverified", result
