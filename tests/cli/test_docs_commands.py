"""Every `aisec …` command line in the README and docs/ names a real command and real options.

A user copies these lines first; a renamed command or flag must fail here, not in their shell.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from aisec.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"```(?:sh|bash|console|shell)\n(.*?)```", re.DOTALL)


def _command_lines(text: str) -> list[str]:
    lines: list[str] = []
    for block in _FENCE.findall(text):
        joined = block.replace("\\\n", " ")
        for raw in joined.splitlines():
            line = raw.strip().removeprefix("$ ").strip()
            parts = re.split(r"\s*(?:&&|\|\||;|\|)\s*", line)
            lines.extend(p for p in parts if p.startswith("aisec "))
    return lines


def _examples() -> list[tuple[str, str]]:
    return [
        (page.name, line)
        for page in PAGES
        for line in _command_lines(page.read_text(encoding="utf-8"))
    ]


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    ctx = click.Context(cli)
    command: click.Command = cli
    rest = words[1:]
    while isinstance(command, click.Group) and rest:
        word = rest[0]
        if word.startswith("-"):
            # a root option (e.g. --root DIR) before the command
            rest = rest[2:] if word == "--root" else rest[1:]
            continue
        sub = command.get_command(ctx, word)
        if sub is None:
            break
        command, rest = sub, rest[1:]
    return command, rest


EXAMPLES = _examples()


def test_the_pages_show_commands() -> None:
    assert len(EXAMPLES) > 20


@pytest.mark.parametrize(("page", "line"), EXAMPLES, ids=[f"{p}:{x[:60]}" for p, x in EXAMPLES])
def test_documented_command_exists(page: str, line: str) -> None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        pytest.skip("not a shell line on its own")
    command, rest = _resolve(words)
    assert not isinstance(command, click.Group) or command is not cli, f"{page}: {line}"
    if isinstance(command, click.Group):
        assert not rest or rest[0].startswith("-") or rest[0] in ("--help", "-h"), (
            f"{page}: unknown subcommand in {line!r}"
        )
        return
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    known |= {"--help", "-h"}
    for word in rest:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            assert name in known, f"{page}: {line!r}: {command.name} has no option {name}"
