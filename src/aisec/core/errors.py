"""The one exception tree of aisec.

Library code raises these with a message a user can act on; the CLI catches
``AisecError`` alone, prints ``aisec: error: <message>`` on one line and exits 2.
Anything else escaping is a bug in aisec and is reported as such.

Findings are *not* errors: a detected problem is a ``Finding`` value.

::

    AisecError
     ├── InputError            bad input file or value (.path)
     │    └── FormatError      content that does not parse as the format it claims
     ├── KeyFileError          missing or unreadable key, wrong passphrase (.path)
     ├── SignatureError        a signature or envelope that does not verify
     ├── StoreError            the evidence store cannot be opened or written (.url)
     ├── CatalogError          an unknown framework id (.suggestions)
     └── MissingExtraError     an optional extra is not installed (.extra)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "AisecError",
    "CatalogError",
    "FormatError",
    "InputError",
    "KeyFileError",
    "MissingExtraError",
    "SignatureError",
    "StoreError",
]


class AisecError(Exception):
    """Root of every error aisec raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def diagnostics(self) -> str:
        """The one line the CLI prints."""
        return self.message


class InputError(AisecError):
    """Input that aisec cannot use: a missing file, a bad value, an unreadable document."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None

    def diagnostics(self) -> str:
        if self.path is not None and str(self.path) not in self.message:
            return f"{self.path}: {self.message}"
        return self.message


class FormatError(InputError):
    """Content that does not parse as the format it claims to be."""


class KeyFileError(InputError):
    """A key file that is missing, malformed, of an unsupported type or locked."""


class SignatureError(AisecError):
    """A signature, envelope or signed tree head that does not verify."""


class StoreError(AisecError):
    """The evidence store cannot be opened, read or written."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class CatalogError(AisecError):
    """An identifier the framework catalog does not know."""

    def __init__(self, message: str, *, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = tuple(suggestions)

    def diagnostics(self) -> str:
        if self.suggestions:
            return f"{self.message}; closest matches: {', '.join(self.suggestions)}"
        return self.message


class MissingExtraError(AisecError):
    """A command needs an optional extra that is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs an optional extra: pip install 'aisec[{extra}]'")
        self.extra = extra
