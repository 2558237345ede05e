"""The asset inventory: client IPs and host names (and cloud accounts, projects, repos) -> team.

A CSV with a header; columns (any subset, case-insensitive): ``ip``, ``hostname`` (or
``host``), ``team``, ``owner_email`` (or ``owner``), and optionally ``account``,
``subscription``, ``project``, ``repo`` for cloud accounts, projects and repositories.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from aisec.core.errors import FormatError, InputError

__all__ = ["Assets", "load_assets"]

_MAX_ROWS = 2_000_000
#: other common names of the columns
_ALIAS = {
    "ip_address": "ip",
    "address": "ip",
    "ipaddress": "ip",
    "fqdn": "hostname",
    "host_name": "hostname",
    "department": "team",
    "business_unit": "team",
    "owner_team": "team",
    "email": "owner_email",
    "owner_mail": "owner_email",
    "account_id": "account",
    "subscription_id": "subscription",
    "project_id": "project",
    "repository": "repo",
}


@dataclass
class Assets:
    """Lookups from a client address, a host name or a cloud id to (host, team, owner)."""

    by_ip: dict[str, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    by_name: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    source: str = ""

    def host(self, client: str | None) -> str | None:
        if not client:
            return None
        hit = self.by_ip.get(client.strip())
        return hit[0] if hit else None

    def team(self, ident: str | None) -> tuple[str | None, str | None]:
        """(team, owner) for an IP, a host name (short or full) or a cloud id."""
        if not ident:
            return None, None
        i = ident.strip().lower()
        if i in self.by_ip:
            _, team, owner = self.by_ip[i]
            return team, owner
        hit = self.by_name.get(i) or self.by_name.get(i.split(".", 1)[0])
        return hit if hit else (None, None)


def load_assets(path: Path) -> Assets:
    """Read an asset inventory CSV (one clear error when it is not one)."""
    if not path.is_file():
        raise InputError("asset inventory not found", path=path)
    out = Assets(source=str(path))
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.DictReader(fh)
            cols = {
                _ALIAS.get(c.strip().lower(), c.strip().lower()) for c in reader.fieldnames or []
            }
            if "team" not in cols or not cols & {"ip", "hostname", "host", "account", "project"}:
                raise FormatError(
                    "asset inventory needs a team column and an ip/hostname/account/project column",
                    path=path,
                )
            for n, row in enumerate(reader):
                if n >= _MAX_ROWS:
                    raise FormatError(f"asset inventory longer than {_MAX_ROWS} rows", path=path)
                low = {
                    _ALIAS.get(str(k).strip().lower(), str(k).strip().lower()): (v or "").strip()
                    for k, v in row.items()
                    if k
                }
                team = low.get("team") or None
                owner = low.get("owner_email") or low.get("owner") or None
                host = low.get("hostname") or low.get("host") or None
                if low.get("ip"):
                    out.by_ip[low["ip"].lower()] = (host, team, owner)
                for k in ("hostname", "host", "account", "subscription", "project", "repo"):
                    if low.get(k):
                        out.by_name.setdefault(low[k].lower(), (team, owner))
                        if k in ("hostname", "host"):
                            out.by_name.setdefault(low[k].lower().split(".", 1)[0], (team, owner))
    except (OSError, csv.Error) as exc:
        raise FormatError(f"cannot read asset inventory: {exc}", path=path) from exc
    return out
