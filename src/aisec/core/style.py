"""One visual style for every page aisec renders: the dashboard and the HTML reports.

Plain CSS (no web fonts, no script): every HTML document of aisec embeds :data:`CSS`, so a
report saved from CI and the dashboard look alike and print alike.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["CSS", "page"]

# plain CSS shipped as a package file; read once at import
CSS = (resources.files("aisec.core") / "style.css").read_text(encoding="utf-8")


def page(title: str, body: str) -> str:
    """A whole HTML document in the house style around ``body`` (already escaped HTML)."""
    from html import escape

    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
