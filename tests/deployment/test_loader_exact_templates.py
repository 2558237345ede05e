"""Differential tests for chat templates and archives: what the real library does decides.

* Chat templates: hypothesis builds templates from many spellings of the classic Jinja
  escapes (dunder names built by ``~``, ``attr``, subscripts, ``set``, globals such as
  ``cycler``/``lipsum``/``self``) mixed with ordinary template code. Each is rendered by a plain
  ``jinja2.Environment`` — the unsandboxed renderer a careless loader would use — in a
  sandboxed child with a marker payload. Whenever rendering creates the marker, the scanner
  must have flagged the template. The scanner never renders it.
* Archives: ``tarfile``'s own extraction (the ``fully_trusted`` filter, what older loaders
  did) in a child writes where a member points; whenever a member lands outside the target
  folder, the scanner must have reported the archive.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import sandbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.deployment import scan_file

_PREFIX = sandbox.prefix()


_limits = sandbox.limits(20, 2 << 30)  # the child's, set before exec


def _child(code: str, *args: str, cwd: Path) -> None:
    subprocess.run(
        [*_PREFIX, sys.executable, "-I", "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        preexec_fn=_limits,
    )


_RENDER = (
    "import jinja2,sys\n"
    "src=open(sys.argv[1]).read()\n"
    "try:\n"
    "    jinja2.Environment().from_string(src).render(messages=[{'role':'user','content':'hi'}],"
    " x='', add_generation_prompt=True)\n"
    "except Exception as e:\n"
    "    print(type(e).__name__)\n"
)

# Ways to reach a function's globals, and ways to spell each dunder step.
_ROOTS = ["cycler.__init__", "joiner.__init__", "namespace.__init__", "lipsum", "self.__init__"]
_GLOBALS = ["__globals__"]


def _spell(name: str, how: str) -> str:
    """``.name`` in one of the spellings Jinja accepts."""
    half = len(name) // 2
    return {
        "dot": f".{name}",
        "sub": f"['{name}']",
        "concat": f"[('{name[:half]}' ~ '{name[half:]}')]",
        "attr": f"|attr('{name}')",
        "attr-concat": f"|attr('{name[:half]}' ~ '{name[half:]}')",
    }[how]


_HOW = st.sampled_from(["dot", "sub", "concat", "attr", "attr-concat"])
_NOISE = st.sampled_from(
    [
        "",
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}",
        "{% if add_generation_prompt %}assistant:{% endif %}",
        "{{ messages|length }}",
    ]
)


@st.composite
def _template(draw: st.DrawFn, marker: str) -> str:
    root = draw(st.sampled_from(_ROOTS))
    base, *rest = root.split(".")
    expr = base + "".join(_spell(part, draw(_HOW)) for part in rest)
    expr += _spell("__globals__", draw(_HOW))
    # from the globals to os: lipsum's globals hold os; the others through __builtins__
    if draw(st.booleans()):
        call = f"{expr}['os'].popen('touch {marker}').read()"
    else:
        call = f"{expr}['__builtins__']['__import__']('os').popen('touch {marker}').read()"
    if draw(st.booleans()):
        body = f"{{{{ ({call}) if messages else '' }}}}"
    else:
        body = f"{{% set r = {call} %}}{{{{ r }}}}"
    return draw(_NOISE) + body + draw(_NOISE)


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_template_that_runs_code_when_rendered_is_never_clean(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    work = tmp_path_factory.mktemp("tpl")
    marker = work / "marker"
    template = data.draw(_template(str(marker)))
    path = work / "chat_template.jinja"
    path.write_text(template)
    verdict = scan_file(path).verdict
    _child(_RENDER, str(path), cwd=work)
    if marker.exists():
        assert verdict != "clean", template


def test_the_generator_reaches_code_execution(tmp_path: Path) -> None:
    """The oracle works: a plain-Environment render does run these payloads."""
    marker = tmp_path / "marker"
    path = tmp_path / "chat_template.jinja"
    path.write_text(f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}")
    _child(_RENDER, str(path), cwd=tmp_path)
    assert marker.exists()
    assert scan_file(path).verdict != "clean"


# ---------------------------------------------------------------- archives
_EXTRACT = (
    "import tarfile,sys\n"
    "t=tarfile.open(sys.argv[1])\n"
    "for m in t.getmembers():\n"
    "    try:\n"
    "        t.extract(m, sys.argv[2], filter='fully_trusted')\n"
    "    except Exception as e:\n"
    "        print(type(e).__name__)\n"
)

_NAMES = st.sampled_from(
    [
        "weights.bin",
        "sub/config.json",
        "../escape.txt",
        "sub/../../escape.txt",
        "./ok/../weights2.bin",
        "a/b/../../../escape.txt",
    ]
)
_LINKS = st.sampled_from(["", "../", "../../", "sub/", "/tmp/"])


def _tar(members: list[tuple[str, str, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for kind, name, target in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                body = json.dumps({"n": name}).encode()
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
            else:
                info.type = tarfile.SYMTYPE
                info.linkname = target
                tar.addfile(info)
    return buf.getvalue()


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    members=st.lists(
        st.tuples(st.sampled_from(["file", "link"]), _NAMES, _LINKS), min_size=1, max_size=4
    )
)
def test_an_archive_that_writes_outside_its_folder_is_never_clean(
    tmp_path_factory: pytest.TempPathFactory, members: list[tuple[str, str, str]]
) -> None:
    work = tmp_path_factory.mktemp("tar")
    target = work / "out" / "model"
    target.mkdir(parents=True)
    # a link's target names a place the loader would write through on a later member
    resolved = [(k, n, (t + "escape-dir") if t else "inside") for k, n, t in members]
    path = work / "model.tar"
    path.write_bytes(_tar(resolved))
    verdict = scan_file(path).verdict
    _child(_EXTRACT, str(path), str(target), cwd=work)
    outside = [p for p in work.rglob("*") if p.is_file() and target not in p.parents and p != path]
    escaped_links = [
        p
        for p in target.rglob("*")
        if p.is_symlink() and not p.resolve().is_relative_to(target.resolve())
    ]
    if outside or escaped_links:
        assert verdict != "clean", resolved
