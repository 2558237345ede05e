"""The lifecycle dashboard over the evidence store."""

from __future__ import annotations

from aisec.dashboard.app import create_app

__all__ = ["create_app"]
