"""Tests of the one hashing path: plain SHA-256 interop, manifests, shards, hostile trees."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aisec.core._digest_io as io_mod
import aisec.core.digest as digest_mod
from aisec.core.digest import (
    Manifest,
    ManifestDiff,
    ManifestEntry,
    SkippedEntry,
    digest_bytes,
    digest_file,
    digest_path,
    parse_digest,
)
from aisec.core.errors import FormatError, InputError

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")
EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def reference_digest(
    kind: str, entries: list[tuple[str, int, int, bytes]], shard_size: int | None, skipped=()
) -> str:
    """The encoding exactly as the module docstring states it, written independently."""

    def u64(n: int) -> bytes:
        return n.to_bytes(8, "big")

    def s(text: str) -> bytes:
        return u64(len(text.encode())) + text.encode()

    out = b"aisec.manifest/v1\n" + s(kind) + u64(shard_size or 0) + u64(len(entries))
    for path, start, end, content in sorted(entries, key=lambda e: (e[0].encode(), e[1])):
        out += s("" if kind == "file" else path) + u64(start) + u64(end)
        out += hashlib.sha256(content[start:end]).digest()
    out += u64(len(skipped))
    for path, reason in sorted(skipped, key=lambda x: x[0].encode()):
        out += s(path) + s(reason)
    return sha(out)


def expected_entries(
    files: dict[str, bytes], shard_size: int | None
) -> list[tuple[str, int, int, bytes]]:
    out = []
    for path, data in files.items():
        step = shard_size or len(data) or 1
        out += [(path, a, min(a + step, len(data)), data) for a in range(0, len(data) or 1, step)]
    return out


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory per hypothesis example (tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="aisec-digest-") as d:
        yield Path(d)


@contextmanager
def small_chunks(size: int = 7) -> Iterator[None]:
    """Make reads cross many chunk boundaries with tiny files."""
    with mock.patch.object(io_mod, "CHUNK_SIZE", size):
        yield


def finishes(fn: Callable[[], Any], timeout: float = 5.0, *, fifo: Path | None = None) -> Any:
    """Run fn in a thread; fail (and unblock a FIFO reader) instead of hanging the suite."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        if fifo is not None:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"did not finish within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


# --- plain digests ---------------------------------------------------------------------------


def test_public_api_is_exactly_all() -> None:
    assert set(digest_mod.__all__) == {
        "CHUNK_SIZE",
        "DEFAULT_SHARD_SIZE",
        "MANIFEST_SCHEMA",
        "Manifest",
        "ManifestDiff",
        "ManifestEntry",
        "SkippedEntry",
        "digest_bytes",
        "digest_file",
        "digest_path",
        "parse_digest",
    }
    assert all(hasattr(digest_mod, name) for name in digest_mod.__all__)


def test_digest_bytes_known_vector() -> None:
    assert digest_bytes(b"abc") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert digest_bytes(b"") == EMPTY


def test_digest_file_equals_sha256sum(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    assert digest_file(f) == sha(data)
    tool = shutil.which("sha256sum")
    if tool:
        out = subprocess.run([tool, str(f)], check=True, capture_output=True, text=True).stdout
        assert digest_file(f) == "sha256:" + out.split()[0]
    with small_chunks(4096):
        assert digest_file(str(f)) == sha(data)


def test_single_file_manifest_is_the_plain_digest(tmp_path: Path) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(b"x" * 1000)
    m = digest_path(f)
    assert m.kind == "file"
    assert m.digest == digest_file(f) == sha(b"x" * 1000)
    assert [(e.path, e.size, e.start, e.end) for e in m.entries] == [
        ("weights.bin", 1000, None, None)
    ]
    assert m.complete


def test_sharded_file_identity_ignores_its_name(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"0123456789")
    (tmp_path / "b.bin").write_bytes(b"0123456789")
    a, b = (
        digest_path(tmp_path / "a.bin", shard_size=4),
        digest_path(tmp_path / "b.bin", shard_size=4),
    )
    assert a.digest == b.digest != digest_file(tmp_path / "a.bin")
    assert [e.label for e in a.entries] == ["a.bin:0:4", "a.bin:4:8", "a.bin:8:10"]
    assert not a.diff(b)


def test_progress_counts_every_byte(tmp_path: Path) -> None:
    files = {"a": b"1" * 100, "b/c": b"2" * 55, "d": b""}
    make_tree(tmp_path, files)
    for workers in (1, 3):
        seen: list[int] = []
        with small_chunks(16):
            digest_path(tmp_path, shard_size=32, workers=workers, progress=seen.append)
        assert sum(seen) == 155
        assert all(0 < n <= 16 for n in seen)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=600),
    shard_size=st.integers(min_value=1, max_value=200),
    workers=st.integers(min_value=2, max_value=4),
)
def test_shards_cover_the_file_and_ignore_worker_count(
    data: bytes, shard_size: int, workers: int
) -> None:
    with scratch() as d, small_chunks(13):
        f = d / "model.bin"
        f.write_bytes(data)
        one = digest_path(f, shard_size=shard_size, workers=1)
        many = digest_path(f, shard_size=shard_size, workers=workers)
    assert one == many and one.digest == many.digest
    position = 0
    for e in one.entries:
        assert e.start == position and e.end is not None
        assert e.size == e.end - e.start <= shard_size
        assert e.digest == sha(data[e.start : e.end])
        position = e.end
    assert position == len(data) and one.total_size == len(data)
    assert len(one.entries) == max(1, -(-len(data) // shard_size))
    expected = reference_digest("file", expected_entries({"x": data}, shard_size), shard_size)
    assert one.digest == expected


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=6
)
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map(
        # "d" and "f" prefixes keep a name from being both a file and a directory
        lambda parts: "/".join([*("d" + p for p in parts[:-1]), "f" + parts[-1]])
    ),
    st.binary(max_size=40),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(files=trees, shard_size=st.one_of(st.none(), st.integers(1, 16)), seed=st.randoms())
def test_directory_digest_follows_the_documented_encoding_whatever_the_creation_order(
    files: dict[str, bytes], shard_size: int | None, seed: Any
) -> None:
    order = list(files.items())
    seed.shuffle(order)
    with scratch() as d1, scratch() as d2:
        make_tree(d1, files)
        make_tree(d2, dict(order))
        m1 = digest_path(d1, shard_size=shard_size, workers=2)
        m2 = digest_path(d2, shard_size=shard_size, workers=1)
    assert m1 == m2 and m1.digest == m2.digest
    assert m1.digest == reference_digest(
        "directory", expected_entries(files, shard_size), shard_size
    )
    assert [e.path.encode() for e in m1.entries] == sorted(e.path.encode() for e in m1.entries)
    assert not m1.diff(m2)


@settings(max_examples=40, deadline=None)
@given(files=trees, shard_size=st.one_of(st.none(), st.integers(1, 16)))
def test_manifest_json_round_trip(files: dict[str, bytes], shard_size: int | None) -> None:
    with scratch() as d:
        m = digest_path(make_tree(d, files), shard_size=shard_size)
    doc = json.loads(json.dumps(m.to_json()))
    assert doc["schema"] == "aisec.manifest/v1"
    back = Manifest.from_json(doc)
    assert back == m and back.digest == m.digest and back.root == m.root


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=300),
    where=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_one_changed_byte_changes_every_digest(data: bytes, where: int, flip: int) -> None:
    i = where % len(data)
    changed = data[:i] + bytes([data[i] ^ flip]) + data[i + 1 :]
    with scratch() as d:
        (d / "t").mkdir()
        f = d / "t" / "w.bin"
        f.write_bytes(data)
        before = (digest_file(f), digest_path(f, shard_size=32).digest, digest_path(d / "t").digest)
        f.write_bytes(changed)
        after = (digest_file(f), digest_path(f, shard_size=32).digest, digest_path(d / "t").digest)
        assert digest_path(d / "t").diff(digest_path(d / "t")) == ManifestDiff((), (), ())
    assert all(b != a for b, a in zip(before, after, strict=True))


# --- trees -----------------------------------------------------------------------------------


def test_empty_file_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(b"")
    assert digest_file(tmp_path / "e") == EMPTY
    sharded = digest_path(tmp_path / "e", shard_size=8)
    assert [e.label for e in sharded.entries] == ["e:0:0"]
    assert sharded.entries[0].digest == EMPTY

    empty = tmp_path / "empty"
    empty.mkdir()
    m = digest_path(empty)
    assert m.entries == () and m.kind == "directory"
    assert m.digest == reference_digest("directory", [], None)
    (empty / "a" / "b").mkdir(parents=True)
    assert digest_path(empty).digest == m.digest  # directories are not entries, as in git
    assert digest_path(empty, shard_size=8).digest != m.digest


def test_nested_and_unicode_names(tmp_path: Path) -> None:
    files = {
        "Z": b"1",
        "a/b/c.txt": b"2",
        "a/é.bin": b"3",
        "模型/权重.safetensors": b"4",
        "\uff21": b"5",
        "\U0001f600": b"6",
        "a b/c d": b"",
    }
    m = digest_path(make_tree(tmp_path, files))
    assert [e.path for e in m.entries] == sorted(files, key=str.encode)
    assert {e.path: e.digest for e in m.entries} == {p: sha(d) for p, d in files.items()}
    assert m.digest == reference_digest("directory", expected_entries(files, None), None)


@posix_only
def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a/f": b"data"})
    (tmp_path / "a" / "up").symlink_to("..")
    (tmp_path / "self").symlink_to("self")
    (tmp_path / "l1").symlink_to("l2")
    (tmp_path / "l2").symlink_to("l1")
    (tmp_path / "gone").symlink_to("nowhere")
    m = finishes(lambda: digest_path(tmp_path))
    assert [e.path for e in m.entries] == ["a/f"]
    assert {(s.path, s.reason) for s in m.skipped} == {
        ("a/up", "symlink-to-directory"),
        ("self", "symlink-broken"),
        ("l1", "symlink-broken"),
        ("l2", "symlink-broken"),
        ("gone", "symlink-broken"),
    }
    assert not m.complete


@posix_only
def test_symlinks_hash_inside_the_root_and_never_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside")
    root = make_tree(tmp_path / "model", {"weights.bin": b"w"})
    (root / "alias.bin").symlink_to("weights.bin")
    (root / "escape").symlink_to(secret)
    (root / "escape_rel").symlink_to("../secret.txt")
    m = digest_path(root)
    assert {e.path: e.digest for e in m.entries} == {
        "alias.bin": sha(b"w"),
        "weights.bin": sha(b"w"),
    }
    assert [(s.path, s.reason) for s in m.skipped] == [
        ("escape", "symlink-outside-root"),
        ("escape_rel", "symlink-outside-root"),
    ]
    skipped = [("escape", "symlink-outside-root"), ("escape_rel", "symlink-outside-root")]
    entries = expected_entries({"alias.bin": b"w", "weights.bin": b"w"}, None)
    assert m.digest == reference_digest("directory", entries, None, skipped)
    # The skipped link counts: removing it changes the digest.
    (root / "escape").unlink()
    assert digest_path(root).digest != m.digest
    # The root itself may be a link: the caller named it.
    (tmp_path / "link_to_model").symlink_to(root)
    assert digest_path(tmp_path / "link_to_model").digest == digest_path(root).digest


@posix_only
def test_a_fifo_in_the_tree_does_not_hang(tmp_path: Path) -> None:
    make_tree(tmp_path, {"ok.bin": b"fine"})
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "to_pipe").symlink_to("pipe")
    m = finishes(lambda: digest_path(tmp_path, workers=2), fifo=fifo)
    assert [(s.path, s.reason) for s in m.skipped] == [
        ("pipe", "special-file"),
        ("to_pipe", "special-file"),
    ]
    with pytest.raises(InputError, match="FIFO"):
        finishes(lambda: digest_file(fifo), fifo=fifo)
    with pytest.raises(InputError, match="FIFO") as info:
        finishes(lambda: digest_path(fifo), fifo=fifo)
    assert info.value.path == fifo


@posix_only
def test_a_file_swapped_for_a_fifo_after_the_walk_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    (tmp_path / "x").write_bytes(b"")
    job = io_mod.Job("x", str(tmp_path / "x"), 0, 0, 0)
    (tmp_path / "x").unlink()
    os.mkfifo(tmp_path / "x")
    with pytest.raises(InputError, match="FIFO"):
        finishes(lambda: io_mod.hash_job(job, memoryview(bytearray(8)), None, None))


def test_file_changing_size_while_hashed(tmp_path: Path) -> None:
    f = tmp_path / "growing.bin"
    f.write_bytes(b"a" * 100)

    def grow(_: int) -> None:
        with f.open("ab") as out:
            out.write(b"more")

    with small_chunks(16):
        with pytest.raises(InputError, match="changed while being hashed") as info:
            digest_file(f, progress=grow)
        assert info.value.path == f
        f.write_bytes(b"a" * 100)
        with pytest.raises(InputError, match="changed while being hashed"):
            digest_path(tmp_path, shard_size=10, workers=2, progress=grow)
        f.write_bytes(b"a" * 100)
        with pytest.raises(InputError, match="changed while being hashed"):
            digest_path(f, progress=lambda _: f.write_bytes(b"short"))


# --- bad input -------------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    for call in (digest_file, digest_path):
        with pytest.raises(InputError, match="no such file or directory") as info:
            call(tmp_path / "nope")
        assert info.value.path == tmp_path / "nope"
        assert str(tmp_path / "nope") in info.value.diagnostics()


def test_directory_given_to_digest_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        digest_file(tmp_path)


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    make_tree(tmp_path, {"locked/f": b"x", "secret": b"y"})
    (tmp_path / "secret").chmod(0)
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            digest_file(tmp_path / "secret")
        with pytest.raises(InputError, match="permission denied"):
            digest_path(tmp_path / "locked")
    finally:
        (tmp_path / "locked").chmod(stat.S_IRWXU)


def test_permission_denied_even_as_root(tmp_path: Path) -> None:
    make_tree(tmp_path, {"d/f": b"x"})

    def deny(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    with mock.patch.object(io_mod.os, "open", deny):
        with pytest.raises(InputError, match="permission denied") as info:
            digest_file(tmp_path / "d" / "f")
        assert info.value.path == tmp_path / "d" / "f"
        with pytest.raises(InputError, match="permission denied"):
            digest_path(tmp_path, workers=2)
    with mock.patch.object(io_mod.os, "scandir", deny), pytest.raises(InputError) as info:
        digest_path(tmp_path)
    assert info.value.diagnostics() == f"{tmp_path}: permission denied"


@pytest.mark.skipif(sys.platform != "linux", reason="Linux names are bytes")
def test_name_that_is_not_utf8(tmp_path: Path) -> None:
    try:
        (Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff"))).write_bytes(b"x")
    except OSError:  # pragma: no cover - a filesystem that insists on UTF-8
        pytest.skip("filesystem refuses non-UTF-8 names")
    with pytest.raises(InputError, match="not valid UTF-8"):
        digest_path(tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shard_size": 0},
        {"shard_size": -1},
        {"shard_size": True},
        {"workers": 0},
        {"shard_size": 1.5},
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        digest_path(tmp_path, **kwargs)


def test_parse_digest() -> None:
    hexd = "ab" * 32
    assert parse_digest(f"sha256:{hexd}") == f"sha256:{hexd}"
    assert parse_digest(hexd.upper()) == f"sha256:{hexd}"
    assert parse_digest(f"  SHA256:{hexd}\n") == f"sha256:{hexd}"
    for bad in [
        "",
        "sha256:",
        "sha256:" + "g" * 64,
        hexd[:-1],
        f"sha512:{hexd}",
        f"md5:{hexd}",
        f"sha256:{hexd}00",
        "sha256 " + hexd,
        42,
    ]:
        with pytest.raises(InputError):
            parse_digest(bad)  # type: ignore[arg-type]


# --- manifests -------------------------------------------------------------------------------


def test_from_json_rejects_tampering(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a": b"1234567890", "b": b"x"})
    doc = digest_path(tmp_path, shard_size=4).to_json()

    def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        copy = json.loads(json.dumps(doc))
        change(copy)
        return copy

    cases = [
        lambda d: d["entries"][0].update(digest=EMPTY),  # stated digest no longer matches
        lambda d: d.update(digest="sha256:" + "0" * 64),
        lambda d: d["entries"].pop(1),  # a hole in the shards
        lambda d: d["entries"][0].update(end=5, size=5),  # shard longer than shard_size
        lambda d: d["entries"].append(dict(d["entries"][-1])),  # listed twice
        lambda d: d["entries"][0].update(path="../a"),
        lambda d: d["entries"][0].update(path="/etc/passwd"),
        lambda d: d["entries"][0].pop("start"),
        lambda d: d.update(shard_size=None),
        lambda d: d.update(kind="symlink"),
        lambda d: d.update(schema="aisec.manifest/v0"),
        lambda d: d.pop("digest"),
        lambda d: d.update(entries={"a": 1}),
        lambda d: d["entries"][0].update(size="4"),
        lambda d: d.update(skipped=[{"path": "a", "reason": "special-file"}]),
        lambda d: d.update(skipped=[{"path": "p", "reason": "because"}]),
    ]
    for change in cases:
        with pytest.raises(FormatError):
            Manifest.from_json(broken(change))
    assert Manifest.from_json(doc).digest == doc["digest"]
    with pytest.raises(FormatError):
        Manifest.from_json([])  # type: ignore[arg-type]


def test_manifest_normalises_entry_order() -> None:
    a = ManifestEntry("a", 1, sha(b"1"))
    b = ManifestEntry("b", 1, sha(b"2").upper().replace("SHA256", "sha256"))
    m1 = Manifest("x", "directory", (a, b))
    m2 = Manifest("y", "directory", (b, a))
    assert m1 == m2 and m1.digest == m2.digest and m1.entries == (a, b)
    assert b.digest == sha(b"2")
    with pytest.raises(FormatError):
        Manifest("x", "file", (a, b))
    with pytest.raises(FormatError):
        Manifest("x", "file", (a,), skipped=(SkippedEntry("p", "special-file"),))


def test_diff(tmp_path: Path) -> None:
    old = digest_path(make_tree(tmp_path / "old", {"keep": b"k", "edit": b"1", "gone": b"g"}))
    new = digest_path(make_tree(tmp_path / "new", {"keep": b"k", "edit": b"2", "fresh": b"f"}))
    change = old.diff(new)
    assert change == ManifestDiff(added=("fresh",), removed=("gone",), changed=("edit",))
    assert change and not old.diff(old)
    with pytest.raises(InputError, match="shard sizes"):
        old.diff(digest_path(tmp_path / "old", shard_size=1))
    sharded = digest_path(tmp_path / "old", shard_size=1)
    assert not sharded.diff(digest_path(tmp_path / "old", shard_size=1))
    one = digest_path(tmp_path / "old" / "keep")
    assert one.diff(digest_path(tmp_path / "new" / "edit")).changed == ("keep",)
