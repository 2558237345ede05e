"""aisec: security controls for each stage of an AI system's life, bound into signed evidence."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
