"""``python -m aisec``."""

from __future__ import annotations

import sys

from aisec.cli import main

sys.exit(main())
