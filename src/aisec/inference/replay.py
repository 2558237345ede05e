"""Offline detection over recorded traffic, honouring each request's own timestamp.

One JSON object per line: ``t`` (seconds or ISO 8601), ``api_key`` or ``account``, ``route``,
``body`` and optionally ``response`` (a classifier's reply, for boundary probing). The same
detectors as the live gateway run over the same records, so live and replayed results agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError
from aisec.inference.accounts import Account, AccountTable
from aisec.inference.campaign import request_shape
from aisec.inference.config import GuardConfig, RouteKind
from aisec.inference.detect import Detection, QueryEvent
from aisec.inference.harden import classifier_margin, logit_probe, prompt_text
from aisec.inference.state import MemoryState

__all__ = ["Replay", "replay_detail", "replay_events", "replay_traffic"]


def _time(value: Any, line: int, path: Path) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    raise FormatError(f"line {line}: 't' must be seconds or an ISO 8601 time", path=path)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read traffic: {exc.strerror}", path=path) from exc
    with fh:
        for i, raw in enumerate(fh):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                raise FormatError(f"line {i + 1}: not a JSON object", path=path) from None
            if not isinstance(obj, dict):
                raise FormatError(f"line {i + 1}: not a JSON object", path=path)
            yield i, obj


@dataclass
class Replay:
    alerts: list[dict[str, Any]]  # one per alert, in traffic order
    order: list[str]  # the account of every replayed line (alert "i" is the line index)
    detection: Detection


async def replay_traffic(path: Path, cfg: GuardConfig) -> list[dict[str, Any]]:
    """Run the detectors over ``path``; one alert dict per alert, in traffic order."""
    return (await replay_detail(path, cfg)).alerts


async def replay_detail(path: Path, cfg: GuardConfig) -> Replay:
    """:func:`replay_traffic` with the request order and the detectors' final state."""
    return await _replay(_lines(path), cfg, path)


async def replay_events(rows: list[dict[str, Any]], cfg: GuardConfig) -> list[dict[str, Any]]:
    """:func:`replay_traffic` over rows already in memory."""
    return (await _replay(enumerate(rows), cfg, Path("<memory>"))).alerts


async def _replay(
    items: Iterable[tuple[int, dict[str, Any]]], cfg: GuardConfig, path: Path
) -> Replay:
    table = AccountTable(Account(a.name, a.key_hash()) for a in cfg.accounts)
    names = set(table.names)
    routes = {r.path: r for r in cfg.routes}
    detection = Detection(cfg.detectors, MemoryState(), hash_prompts=cfg.hash_prompts)
    out: list[dict[str, Any]] = []
    order: list[str] = []
    for i, obj in items:
        t = _time(obj.get("t"), i + 1, path)
        if "api_key" in obj:
            acct = table.lookup(str(obj["api_key"]))
            account = acct.name if acct is not None else None
        else:
            account = str(obj.get("account", "")) or None
        order += [""] * (i - len(order))  # blank lines
        order.append(account or "")
        if account is None or ("api_key" not in obj and account not in names):
            continue  # unknown key: the live gateway would have answered 401
        route = routes.get(str(obj.get("route", "")))
        body = obj.get("body")
        if route is None or not isinstance(body, dict):
            continue
        margin = None
        if route.kind is RouteKind.CLASSIFIER and "response" in obj:
            margin = classifier_margin(obj["response"], route)
        event = QueryEvent(
            account, t, prompt_text(body, route), str(i), margin, logit_probe(body),
            request_shape(body, route),
        )  # fmt: skip
        for alert in await detection.observe(event):
            record = alert.to_json()
            record |= {"i": i, "t": t, "time": t}
            out.append(record)
    return Replay(out, order, detection)
