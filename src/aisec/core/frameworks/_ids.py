"""Turn what a user types into the catalog's canonical ids.

Canonical forms: ``AML.T0024`` ``AML.T0051.000`` ``AML.TA0002`` ``AML.M0004`` | ``LLM01`` |
``SAIF-1`` | ``GOVERN`` ``GOVERN 1`` ``GOVERN 1.1`` | ``A.6.2.4`` | CoSAI ids as written
(``riskDataPoisoning``). Accepted besides, case-insensitively: ``T0024``; ``LLM01:2025``,
``LLM1``; ``SAIF1``, ``SAIF 1``; ``GV-1.1``, ``MEASURE-2.7``, ``MS 2.7``; ``ISO 42001 A.7.5``.
"""

from __future__ import annotations

import re

from aisec.core.frameworks._nist import NIST_FUNCTION_ABBREVIATIONS

__all__ = ["candidate_ids", "squash"]

_ATLAS = re.compile(r"^(?:AML\.)?(TA\d{4}|T\d{4}(?:\.\d{3})?|M\d{4})$")
_OWASP = re.compile(r"^(?:OWASP[ :_-]?)?LLM[ _-]?(\d{1,2})(?::2025)?$")
_SAIF = re.compile(r"^SAIF[ _-]?(\d)$")
_NIST = re.compile(r"^(GOVERN|GV|MAP|MP|MEASURE|MS|MANAGE|MG)(?:[ _-]?(\d{1,2})(?:\.(\d{1,2}))?)?$")
_ISO = re.compile(r"^(?:ISO(?:/IEC)?[ _-]?42001(?::2023)?[ :_-]*)?A\.?(\d{1,2}(?:\.\d{1,2}){0,2})$")


def squash(raw: str) -> str:
    """Upper case with runs of whitespace folded to one space: the lookup key of an id."""
    return " ".join(raw.split()).upper()


def candidate_ids(raw: str) -> tuple[str, ...]:
    """Upper-cased keys to try, most literal first."""
    key = squash(raw)
    out = [key]
    if m := _ATLAS.match(key):
        out.append(f"AML.{m.group(1)}")
    elif m := _OWASP.match(key):
        out.append(f"LLM{int(m.group(1)):02d}")
    elif m := _SAIF.match(key):
        out.append(f"SAIF-{m.group(1)}")
    elif m := _NIST.match(key):
        function = NIST_FUNCTION_ABBREVIATIONS.get(m.group(1), m.group(1))
        if m.group(2) is None:
            out.append(function)
        elif m.group(3) is None:
            out.append(f"{function} {int(m.group(2))}")
        else:
            out.append(f"{function} {int(m.group(2))}.{int(m.group(3))}")
    elif m := _ISO.match(key):
        out.append(f"A.{m.group(1)}")
    return tuple(dict.fromkeys(out))
