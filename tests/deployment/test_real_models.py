"""Real models pass: files made by scikit-learn, XGBoost, LightGBM, numpy, scipy, pandas and
torch come back clean; TorchScript is judged by the operators its code calls; the allowlist
is data generated from real pickles and never overrides the denylist."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest
from corpus import call_p2
from real_models import HAS, build_benign_corpus

from aisec.deployment import scan_file, scan_model
from aisec.deployment.scan._policy import allowlist, classify_callable, is_dangerous


@pytest.fixture(scope="session")
def benign(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return build_benign_corpus(tmp_path_factory.mktemp("real-models"))


def test_benign_corpus_of_real_models_has_no_findings(benign: list[Path]) -> None:
    assert len(benign) >= 60
    report = scan_model([benign[0].parent])
    assert {Path(f.path) for f in report.files} == set(benign)
    noisy = {f.path: [x.detail for x in f.findings] for f in report.files if f.findings}
    assert noisy == {}
    assert report.verdict == "clean"
    formats = {f.format for f in report.files}
    assert {"pickle", "zlib+pickle"} <= formats
    if HAS["torch"]:
        assert {"pytorch-zip", "torchscript", "torch-legacy"} <= formats


def test_the_allowlist_is_generated_data_that_the_denylist_overrides() -> None:
    entries = allowlist()
    assert len(entries) > 100
    roots = {m.split(".")[0] for m, _ in entries}
    assert {"sklearn", "numpy", "scipy", "pandas"} <= roots
    assert not [f"{m}.{n}" for m, n in entries if is_dangerous(m, n)]
    assert classify_callable("sklearn.pipeline", "Pipeline") == "safe"
    assert classify_callable("sklearn.pipeline", "os_system") == "unknown"
    assert classify_callable("os", "system") == "dangerous"


def test_protocol_0_and_1_reconstructor_is_judged_by_its_base(tmp_path: Path) -> None:
    from sklearn.preprocessing import StandardScaler

    est = StandardScaler().fit([[1.0], [2.0]])
    for proto in (0, 1):
        path = tmp_path / f"p{proto}.pkl"
        path.write_bytes(pickle.dumps(est, protocol=proto))
        assert scan_file(path).findings == ()
    # copyreg._reconstructor(cls, base, state) with a base whose __init__ is a gadget
    evil = (
        b"ccopy_reg\n_reconstructor\n(csklearn.preprocessing._data\nStandardScaler\n"
        b"csubprocess\nPopen\n(S'touch x'\ntRtR."
    )
    (tmp_path / "evil.pkl").write_bytes(evil)
    result = scan_file(tmp_path / "evil.pkl")
    assert result.verdict == "unsafe"
    assert any("_reconstructor" in f.detail for f in result.findings)
    bare = b"ccopy_reg\n_reconstructor\n."
    (tmp_path / "bare.pkl").write_bytes(bare)
    assert scan_file(tmp_path / "bare.pkl").verdict == "unsafe"


def test_torch_names_are_safe_only_inside_torchscript(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl"
    path.write_bytes(b"\x80\x02c__torch__.evil\nThing\n)R.")
    assert scan_file(path).verdict == "unsafe"


@pytest.mark.skipif(not HAS["torch"], reason="torch is not installed")
def test_nested_torch_load_bytes_are_scanned(tmp_path: Path) -> None:
    import torch

    marker = tmp_path / "marker"
    inner = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, inner)
    good = b"\x80\x02ctorch.storage\n_load_from_bytes\nB" + _len4(inner.getvalue()) + b"\x85R."
    (tmp_path / "good.pkl").write_bytes(good)
    assert scan_file(tmp_path / "good.pkl").findings == ()
    evil_inner = io.BytesIO()
    with zipfile.ZipFile(evil_inner, "w") as zf:
        zf.writestr("a/data.pkl", call_p2("os", "system", f"touch {marker}"))
        zf.writestr("a/version", "3\n")
    bad = b"\x80\x02ctorch.storage\n_load_from_bytes\nB" + _len4(evil_inner.getvalue()) + b"\x85R."
    (tmp_path / "bad.pkl").write_bytes(bad)
    result = scan_file(tmp_path / "bad.pkl")
    assert any(f.id == "AISEC-DEP-001" for f in result.findings), result.findings
    computed = b"\x80\x02ctorch.storage\n_load_from_bytes\ncbuiltins\nbytes\n)R\x85R."
    (tmp_path / "computed.pkl").write_bytes(computed)
    assert scan_file(tmp_path / "computed.pkl").verdict == "unsafe"
    assert not marker.exists()


def _len4(data: bytes) -> bytes:
    return len(data).to_bytes(4, "little") + data


def _rewrite(src: Path, dest: Path, edit: dict[str, str]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for suffix, extra in edit.items():
                if info.filename.endswith(suffix):
                    data = data.replace(b"    return _0", extra.encode() + b"\n    return _0")
            zout.writestr(info, data)


@pytest.mark.skipif(not HAS["torch"], reason="torch is not installed")
def test_torchscript_is_judged_by_what_its_code_calls(benign: list[Path], tmp_path: Path) -> None:
    src = next(p for p in benign if p.name == "torchscript-net.pt")
    clean = scan_file(src)
    assert clean.format == "torchscript" and clean.findings == ()
    assert "aten::relu" in clean.calls and "aten::softmax" in clean.calls
    custom = tmp_path / "custom.pt"
    _rewrite(src, custom, {"real_models.py": "    _1 = ops.evilns.run(x)"})
    result = scan_file(custom)
    assert [f.id for f in result.findings] == ["AISEC-DEP-012"]
    assert result.findings[0].evidence["callable"] == "evilns::run"
    reads = tmp_path / "reads.pt"
    _rewrite(src, reads, {"real_models.py": '    _1 = torch.from_file("/etc/passwd", False, 10)'})
    result = scan_file(reads)
    assert result.verdict == "unsafe"
    assert [f.id for f in result.findings] == ["AISEC-DEP-013"]
    broken = tmp_path / "broken.pt"
    _rewrite(src, broken, {"real_models.py": "    def (:"})
    assert scan_file(broken).verdict == "unverified"
    # a pickle payload in a TorchScript archive is still a finding
    gadget = tmp_path / "gadget.pt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(gadget, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/constants.pkl"):
                data = call_p2("os", "system", "true")
            zout.writestr(info, data)
    assert any(f.id == "AISEC-DEP-001" for f in scan_file(gadget).findings)
