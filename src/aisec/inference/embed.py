"""A sentence embedding built locally: hashed character n-grams, weighted by how many accounts
use each n-gram.

Paraphrases of one question share stems and fragments even under typos, casing, politeness
wrappers and reordering; character 3-5-grams of the normalised words capture that without a
model download (the "hashing trick", Weinberger et al. 2009). Words used by almost every
account (greetings, thanks, function words) carry no topic: their weight is an inverse
*account* frequency kept online, so one busy account cannot make its own topic look generic.

Pure numpy; one query costs a few tens of microseconds. Deterministic (crc32, not ``hash``), so
replicas and offline replays embed a text identically.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["DIM", "Embedder", "normalise", "segments"]

DIM = 2048
_NGRAMS = (3, 4, 5)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
# a segment ends at a line break or after sentence punctuation
_SEGMENT = re.compile(r"\n+|(?<=[.!?;:])\s+")
_MAX_CHARS = 2000  # a query's topic is in its first sentences; long documents are capped


def normalise(text: str) -> str:
    """Lower case, every number as ``0``, punctuation as spaces."""
    return " ".join(_WORD.findall(_DIGITS.sub("0", text[:_MAX_CHARS].lower())))


def segments(text: str) -> list[str]:
    """The text's sentences and lines, normalised; empty ones dropped."""
    out = []
    for part in _SEGMENT.split(text[:_MAX_CHARS]):
        norm = normalise(part)
        if norm:
            out.append(norm)
    return out


@lru_cache(maxsize=65536)
def _word_grams(word: str) -> tuple[int, ...]:
    """The buckets of one word's n-grams (cached: words recur far more than texts do)."""
    padded = f" {word} "
    return tuple(
        zlib.crc32(padded[i : i + n].encode()) % DIM
        for n in _NGRAMS
        for i in range(len(padded) - n + 1)
    )


def _grams(norm: str) -> list[int]:
    idx: list[int] = []
    for word in norm.split():
        if len(word) >= 3:  # shorter: letters, numbers (all 0 by now), short function words
            idx.extend(_word_grams(word))
    return idx


class Embedder:
    """Unit vectors of :data:`DIM` floats; the weights learn from the accounts seen so far."""

    def __init__(self) -> None:
        self._df = np.zeros(DIM, dtype=np.float32)  # accounts that used each bucket
        self._seen: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}

    @property
    def accounts(self) -> int:
        return len(self._seen)

    def weights(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        n = max(len(self._seen), 1)
        w: np.ndarray[Any, np.dtype[np.float32]] = (
            np.log((n + 1) / (self._df + 1)).astype(np.float32) + 1.0
        )
        return w

    def learn(self, account: str, norm: str) -> None:
        """Count the buckets of ``norm`` as used by ``account``."""
        idx = _grams(norm)
        if not idx:
            return
        seen = self._seen.get(account)
        if seen is None:
            seen = self._seen[account] = np.zeros(DIM, dtype=np.bool_)
        hit = np.zeros(DIM, dtype=np.bool_)
        hit[idx] = True
        new = hit & ~seen
        self._df += new
        seen |= hit

    def embed(self, norm: str) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """The unit vector of a normalised text, or None when it has no words."""
        idx = _grams(norm)
        if not idx:
            return None
        vec = np.bincount(np.asarray(idx), minlength=DIM).astype(np.float32)
        vec = np.sqrt(vec) * self.weights()  # sublinear tf: a repeated word is not a topic
        norm2 = float(np.linalg.norm(vec))
        if norm2 == 0.0:
            return None
        out: np.ndarray[Any, np.dtype[np.float32]] = vec / norm2
        return out
