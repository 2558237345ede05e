"""The corpus, built once per session in a temporary folder."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the corpus generator is a plain module here

from corpus import Sample, build_corpus, torch_checkpoints

HAS_TORCH = importlib.util.find_spec("torch") is not None


@dataclass(frozen=True)
class Corpus:
    root: Path
    markers: Path
    samples: list[Sample]
    checkpoints: list[Path]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("model-corpus")
    markers = base / "markers"
    markers.mkdir()
    torch_dir = base / "torch"
    checkpoints = torch_checkpoints(torch_dir) if HAS_TORCH else []
    samples = build_corpus(base / "files", markers, torch_dir=torch_dir)
    return Corpus(base / "files", markers, samples, checkpoints)
