"""Conversion to SafeTensors, compared bit for bit with torch.load(weights_only=True)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from aisec.core.errors import FormatError, InputError
from aisec.core.predicates.deployment import ConvertPredicate
from aisec.deployment import convert_statement, convert_to_safetensors

torch = pytest.importorskip("torch")


def _flat(obj: object, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    else:
        out[prefix] = obj
    return out


def test_every_checkpoint_converts_bit_for_bit(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import load_file

    assert len(corpus.checkpoints) >= 10
    for ckpt in corpus.checkpoints:
        out = tmp_path / (ckpt.name + ".safetensors")
        result = convert_to_safetensors(ckpt, out)
        expected = _flat(torch.load(ckpt, weights_only=True))
        got = load_file(out)
        assert set(got) == set(expected), ckpt.name
        assert result.tensors == len(expected)
        for name, ref in expected.items():
            assert isinstance(ref, torch.Tensor)
            mine = got[name]
            assert mine.dtype == ref.dtype and mine.shape == ref.shape, (ckpt.name, name)
            a = ref.detach().contiguous().reshape(-1).view(torch.uint8)
            b = mine.contiguous().reshape(-1).view(torch.uint8)
            assert torch.equal(a, b), (ckpt.name, name)


def test_metadata_records_the_source_digest(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from safetensors import safe_open

    out = tmp_path / "m.safetensors"
    result = convert_to_safetensors(corpus.root / "mlp.pt", out)
    with safe_open(str(out), "np") as fh:
        meta = fh.metadata()
    assert meta["aisec.source_digest"] == result.source_digest
    predicate = ConvertPredicate.from_statement(convert_statement(result))
    assert predicate.subjects[0].digest == result.output_digest
    assert predicate.source.digest == result.source_digest
    assert [(i.role, i.digest) for i in predicate.inputs] == [("source", result.source_digest)]


@pytest.mark.parametrize(
    "name",
    [
        "torch_reduce.pt",
        "legacy.pt",
        "object.npy",
        "p4_exec.pkl",
        "crc_mismatch.pt",
        "joblib_plain.joblib",
        "object.npz",
    ],
)
def test_malicious_sources_are_refused_and_nothing_is_written(
    corpus,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    name: str,
) -> None:
    out = tmp_path / "out.safetensors"
    with pytest.raises(FormatError):
        convert_to_safetensors(corpus.root / name, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    assert list(corpus.markers.iterdir()) == []


def test_non_tensor_content_is_refused_by_name(tmp_path: Path) -> None:
    src = tmp_path / "ckpt.pt"
    torch.save({"model": {"w": torch.ones(2)}, "epoch": 3}, src)
    with pytest.raises(FormatError, match="epoch"):
        convert_to_safetensors(src, tmp_path / "o.safetensors")


def test_existing_output_needs_overwrite(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "o.safetensors"
    out.write_bytes(b"x")
    with pytest.raises(InputError):
        convert_to_safetensors(corpus.root / "mlp.pt", out)
    convert_to_safetensors(corpus.root / "mlp.pt", out, overwrite=True)
    assert out.stat().st_size > 1


def test_numpy_sources_convert(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from safetensors.numpy import load_file

    for name in ("arrays.npz", "array.npy", "state_p2.pkl", "state_p4.pkl", "state_p5.pkl"):
        out = tmp_path / f"{name}.safetensors"
        convert_to_safetensors(corpus.root / name, out)
        got = load_file(out)
        assert got
        for arr in got.values():
            assert isinstance(arr, np.ndarray)


def test_whole_corpus_through_convert_runs_no_payload(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for sample in corpus.samples:
        with contextlib.suppress(FormatError, InputError):
            convert_to_safetensors(corpus.root / sample.name, tmp_path / f"{sample.name}.st")
    assert list(corpus.markers.iterdir()) == []


def test_mutated_files_fail_only_with_aisec_errors(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Random byte edits of real corpus files: scan and convert never crash, never run."""
    import random

    from aisec.core.errors import AisecError
    from aisec.deployment import scan_file

    rng = random.Random(7)  # noqa: S311 - reproducible fuzzing input, not a secret
    names = sorted(s.name for s in corpus.samples)
    for i in range(150):
        data = bytearray((corpus.root / rng.choice(names)).read_bytes())
        for _ in range(rng.randint(1, 6)):
            if not data:
                break
            pos = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[pos] = rng.randrange(256)
            else:
                del data[pos : pos + rng.randint(1, 40)]
        path = tmp_path / f"m{i}.pt"
        path.write_bytes(bytes(data))
        scan_file(path)
        with contextlib.suppress(AisecError):
            convert_to_safetensors(path, tmp_path / f"m{i}.safetensors")
    assert list(corpus.markers.iterdir()) == []
