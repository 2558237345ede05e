"""Where aisec keeps its state: the ``.aisec`` folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["aisec_home"]


def aisec_home() -> Path:
    """``$AISEC_HOME`` (the ``.aisec`` folder itself) or ``./.aisec`` in the working directory."""
    env = os.environ.get("AISEC_HOME")
    return Path(env) if env else Path.cwd() / ".aisec"
