"""docs/api.md runs as written: its Python blocks, in order, in one namespace, from an empty
folder, each printing exactly the ``text`` block shown under it (where one is shown)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.DOTALL)


def test_api_page_runs_as_written(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = _BLOCK.findall(text)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "__api_doc__"}
    for number, (code, shown) in enumerate(blocks, 1):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"docs/api.md block {number}", "exec"), namespace)  # noqa: S102 - our own docs
        if shown:
            assert out.getvalue() == shown, f"block {number}"
    assert not (tmp_path / "pwned").exists()
