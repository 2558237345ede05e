#!/usr/bin/env python3
"""Write docs/predicates.md from the predicate models (``--check``: exit 1 when it differs).

python scripts/gen_predicates_doc.py
python scripts/gen_predicates_doc.py --check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aisec.core.predicates._doc import render_predicates_doc
from aisec.core.predicates._registry import MODELS

PAGE = Path(__file__).resolve().parent.parent / "docs" / "predicates.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale")
    args = parser.parse_args()
    text = render_predicates_doc(MODELS)
    if args.check:
        if PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is stale: run python scripts/gen_predicates_doc.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
