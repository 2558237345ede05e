"""Similarity sketches and a fast normality test for the extraction detectors.

MinHash signatures (datasketch) over the content words of a query, computed for a whole
batch in one numpy pass when that reproduces datasketch exactly, and scipy's Shapiro-Wilk
test without its wrapper when that agrees with the public function.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

import numpy as np
from datasketch import MinHash  # type: ignore[import-untyped]
from scipy.stats import shapiro  # type: ignore[import-untyped,unused-ignore]

__all__ = ["NUM_PERM", "SHAPIRO", "signature", "signatures"]

NUM_PERM = 64
_WORD = re.compile(r"[a-z0-9]+")
# function words and politeness carry no topic; paraphrases keep the content words and differ in
# these (a short hand list: a tokenizer library's list would be an extra dependency for 2 lines;
# SIM905 ignored below because a word list reads best as text)
_STOP = frozenset(
    """a about above after again all also am an and any are as at be been before being below
    between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once one only or other our ours out over own same say she
    should so some such tell than thank thanks that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom
    why will with would you your yours please quick question need know honestly exactly
    precisely hey records time give me kindly okay ok hi hello well really""".split()  # noqa: SIM905
)


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=7)
# the permutations are made once: building them costs more than hashing a query
_PERMS, _SCHEME = _TEMPLATE.permutations, _TEMPLATE.scheme


def _content_words(text: str) -> set[bytes]:
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        for suffix in ("ing", "ed", "es", "s"):  # crude stemming: dose/doses, recommend(ed)
            if len(word) > 4 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        out.add(word.encode())
    return out or {text.strip().lower().encode()}


def signature(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """MinHash (datasketch) of the set of content words of ``text`` (order-free, so a
    reordered paraphrase of a question stays close to it)."""
    mh = MinHash(num_perm=NUM_PERM, seed=7, permutations=_PERMS, scheme=_SCHEME)
    mh.update_batch(sorted(_content_words(text)))
    sig: np.ndarray[Any, np.dtype[np.uint32]] = mh.hashvalues.astype(np.uint32)
    return sig


def _fast_signatures(texts: list[str]) -> list[np.ndarray[Any, np.dtype[np.uint32]]]:
    """:func:`signature` of many texts at once: the same arithmetic as datasketch's 32-bit
    affine scheme (SHA-1 → MurmurHash3 fmix32 → ``a * h + b`` mod 2^32 → column minimum), in one
    numpy pass per batch instead of one MinHash object per query (~28 us → ~8 us a query)."""
    words = [_content_words(t) for t in texts]  # never empty
    counts = [len(w) for w in words]
    hv = np.fromiter(
        (
            int.from_bytes(hashlib.sha1(w).digest()[:4], "little")  # noqa: S324 -- MinHash, not security
            for w in itertools.chain.from_iterable(words)
        ),
        dtype=np.uint32,
        count=sum(counts),
    )
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    a, b = _PERMS
    phv = hv[:, None] * a + b
    starts = np.cumsum([0, *counts[:-1]])
    mins = np.minimum.reduceat(phv, starts, axis=0).astype(np.uint32)
    return list(mins)


def _fast_is_exact() -> bool:
    """The fast path is used only if it reproduces datasketch here (scheme and version)."""
    probe = ["What is the maximum dose of ibuprofen?", "x", "hello hello world 42", "the"]
    try:
        fast = _fast_signatures(probe)
    except Exception:  # e.g. another permutation layout in a future datasketch
        return False
    return _SCHEME == "affine32" and all(
        np.array_equal(f, signature(t)) for f, t in zip(fast, probe, strict=True)
    )


_FAST = _fast_is_exact()


def _plain_shapiro() -> Any:
    """``shapiro`` without scipy's axis/NaN-policy wrapper, which costs ~55 us of a ~65 us call
    on a 1-D list without NaNs (what PRADA passes); used only if it agrees with the wrapper."""
    inner = getattr(shapiro, "__wrapped__", None)
    probe = [((i * 7919) % 101) / 101 for i in range(50)]
    try:
        same = inner is not None and float(inner(probe)[0]) == float(shapiro(probe).statistic)
    except Exception:  # another scipy: keep the public function
        same = False
    return inner if same else shapiro


SHAPIRO = _plain_shapiro()


def signatures(texts: list[str]) -> list[np.ndarray[Any, np.dtype[np.uint32]]]:
    """``[signature(t) for t in texts]``, vectorised when that gives identical results."""
    if not texts:
        return []
    if _FAST:
        return _fast_signatures(texts)
    return [signature(t) for t in texts]
