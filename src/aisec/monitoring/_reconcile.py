"""Entity resolution: observations -> one system per real thing; systems <-> registry entries.

The rules, in order (each merge records why, shown in ``match.merged`` and by ``--explain``):

1. **Explicit keys.** Observations that share a key are one system: a tenant resource
   (``res:azure-openai:<resource>`` from a host ``<resource>.openai.azure.com``, a billing
   resource name or a URL in code), an AWS service in one account and region
   (``aws:<service>:<account>:<region>``), a SageMaker endpoint, a GCP project's service, a
   SaaS product, an internal model-server host, a resource tag / project / repository name,
   a model name (a model file, a loader call, a registry ``model`` column).
2. **Soft keys, only when they point at one system.** Evidence that names only a provider
   (``prov:openai``: a public API host, an SDK import without an endpoint, API credits on a
   card) or a provider and region (``region:aws-bedrock:us-east-1``) joins the one system of
   that provider whose team agrees (evidence without a team may join a system with one;
   evidence with a team joins a team-less system only when it has explicit keys), systems
   with explicit keys first; when several remain, the one whose names share a word with the
   evidence's repository, client or team; else it stays a system of its own (one per
   provider and team).
3. **Registry rows** are matched to systems by the keys their endpoint, provider and model
   columns give (as above), then by the soft keys, and last by a fuzzy name
   (:class:`difflib.SequenceMatcher` ratio >= 0.85 of the letters and digits, or one name
   containing the other), with the reason recorded. A registered system is reconciled, never
   re-reported as shadow AI.
4. **Not AI.** A group with only supporting evidence (GPU spend, a model download, ML
   libraries) or only a cloud resource is not a system unless a registry row names it.

Owners: the registry's team for a registered system; else the teams evidence names (resource
tags and labels, the SaaS department), then the asset inventory's team of the clients that
made the calls (a client that only forwards others' traffic - a proxy seen in Zeek for
services the proxy logs also show - is not an owner), then CODEOWNERS / git authors. A system
without any is reported with an explicit "unknown owner" finding.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from aisec.core.findings import Finding, Subject
from aisec.monitoring._assets import Assets
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Decision, Observation, RegistryEntry
from aisec.monitoring._rules import NO_OWNER, SHADOW_RULE, SHADOW_SELF_HOSTED, make_finding

__all__ = ["NAME_THRESHOLD", "System", "reconcile"]

NAME_THRESHOLD = 0.85
_MAX_EVIDENCE = 50
_SOURCE_RANK = {"registry": 0, "saas": 1, "billing": 2, "cloudtrail": 3, "code": 4, "network": 5}


@dataclass
class System:
    """One AI system of the inventory, with all the evidence that points at it."""

    key: str
    name: str
    kind: str
    provider: str
    observations: list[Observation] = field(default_factory=list)
    registry: RegistryEntry | None = None
    match: dict[str, Any] | None = None
    team: str | None = None
    team_evidence: str | None = None
    owners: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        basis = self.registry.id if self.registry else self.key
        return "sys-" + hashlib.sha256(basis.encode()).hexdigest()[:12]

    def identifiers(self) -> set[str]:
        out = {self.key.lower(), self.provider.lower(), self.name.lower()}
        for o in self.observations:
            out.update(i.lower() for i in o.identifiers if i)
        return out

    def owner_candidates(self) -> list[str]:
        return list(self.owners)

    def to_json(self) -> dict[str, Any]:
        obs = sorted(self.observations, key=lambda o: (_SOURCE_RANK.get(o.source, 9), -o.count))
        seen = sorted(t for o in obs for t in (o.first_seen, o.last_seen) if t)
        owner = self.registry.owner if self.registry and self.registry.owner else None
        keys = sorted({k for o in obs for k in o.keys if not k.startswith("code:")})
        return {
            "id": self.id,
            "name": self.registry.name if self.registry else self.name,
            "kind": self.kind,
            "registered": self.registry is not None,
            "registry_id": self.registry.id if self.registry else None,
            "description": self.registry.description if self.registry else None,
            "provider": self.provider,
            "owner": owner,
            "team": self.team,
            "team_evidence": self.team_evidence,
            "owner_candidates": self.owner_candidates(),
            "first_seen": seen[0] if seen else None,
            "last_seen": seen[-1] if seen else None,
            "sources": sorted({o.source for o in obs}),
            "calls": sum(o.count for o in obs if o.source in ("network", "cloudtrail")),
            "cost": round(sum(o.cost for o in obs), 2),
            "users": sorted({o.user for o in obs if o.user})[:20],
            "hosts": sorted({o.host for o in obs if o.host})[:20],
            "clients": sorted({o.client for o in obs if o.client})[:20],
            "keys": keys[:40],
            "cost_centres": sorted({o.team for o in obs if o.team and o.source == "billing"}),
            "match": self.match,
            "evidence": [o.to_json() for o in obs[:_MAX_EVIDENCE]],
            "evidence_total": len(obs),
        }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) >= 3 and not w.isdigit()}


class _Groups:
    """Union-find over observation indices, with the reason of every merge."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.reasons: dict[int, list[str]] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, reason: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        self.parent[rb] = ra
        self.reasons.setdefault(ra, []).extend([*self.reasons.pop(rb, []), reason])


def _client_team(o: Observation, assets: Assets | None, forwarders: set[str]) -> str | None:
    if assets is None or not o.client or o.client in forwarders:
        return None
    return assets.team(o.client)[0]


def _forwarders(obs: Sequence[Observation]) -> set[str]:
    """Clients seen in Zeek for >= 2 AI services that proxy logs show too: forward proxies."""
    proxied = {
        (o.host or "").split(":", 1)[0]
        for o in obs
        if (o.host and "squid" in o.location) or "proxy" in o.location
    }
    per_client: dict[str, set[str]] = {}
    for o in obs:
        if o.client and o.host and o.location.startswith("zeek"):
            per_client.setdefault(o.client, set()).add(o.host.split(":", 1)[0])
    return {c for c, hosts in per_client.items() if len(hosts & proxied) >= 2 and hosts <= proxied}


def _entry_keys(entry: RegistryEntry, catalog: AiCatalog) -> tuple[set[str], set[str], set[str]]:
    """(strong keys, soft keys, plain tokens) a registry row names."""
    from aisec.monitoring._logs import host_keys, short_host

    strong: set[str] = set()
    soft: set[str] = set()
    tokens: set[str] = set()
    ep = (entry.endpoint or "").strip().lower()
    if ep:
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", ep).split("/", 1)[0]
        hit = catalog.host_info(host)
        if hit is not None:
            s, w = host_keys(hit)
            strong.update(s)
            soft.update(w if not s else ())
        else:
            tokens.add(short_host(host))
            tokens.add(host)
    for text in (entry.provider or "", entry.name):
        sid = catalog.lookup_id(text) if text else None
        if sid and sid in catalog.saas:
            strong.add(f"saas:{sid}")
        elif sid and not strong and not tokens:
            soft.add(f"prov:{sid}")
    if entry.model:
        strong.add(f"model:{_norm(entry.model)}")
    return strong, soft, tokens


def reconcile(
    observations: Iterable[Observation],
    registry: Iterable[RegistryEntry],
    *,
    catalog: AiCatalog | None = None,
    assets: Assets | None = None,
    decisions: list[Decision] | None = None,
) -> tuple[list[System], list[Finding]]:
    """The inventory (registered systems first, then shadow AI) and its findings."""
    from aisec.monitoring._catalog import load_ai_catalog

    cat = catalog or load_ai_catalog()
    obs = list(observations)
    entries = list(registry)
    forwarders = _forwarders(obs)
    # a model download or an internal host named by IP belongs to the client host
    fixed: list[Observation] = []
    for o in obs:
        keys = list(o.keys)
        if o.role == "support" and o.source == "network" and o.client and "/dns" not in o.location:
            name = (assets.host(o.client) if assets else None) or o.client
            keys.append(f"host:{name.lower()}")
        for i, k in enumerate(keys):
            if k.startswith("host:") and re.fullmatch(r"host:[0-9.]+", k) and assets:
                h = assets.host(k[5:])
                if h:
                    keys[i] = f"host:{h.lower()}"
        if keys != list(o.keys):
            o = dataclasses.replace(o, keys=tuple(keys))
        fixed.append(o)
    obs = fixed
    groups = _Groups(len(obs))
    first: dict[str, int] = {}
    for i, o in enumerate(obs):
        for k in o.keys:
            if k in first:
                groups.union(first[k], i, f"same {k.split(':', 1)[0]} key {k}")
            else:
                first[k] = i
    teams = [
        o.team or (_client_team(o, assets, forwarders) if o.role != "support" else None)
        for o in obs
    ]

    def members() -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(obs)):
            out.setdefault(groups.find(i), []).append(i)
        return out

    # soft-only observations: first one group per (first soft key, team)
    soft_first: dict[tuple[str, str | None], int] = {}
    for i, o in enumerate(obs):
        if o.soft and not o.keys:  # code evidence is already one group per repository
            pair = (o.soft[0], teams[i])
            if pair in soft_first:
                groups.union(soft_first[pair], i, f"same provider and team {pair}")
            else:
                soft_first[pair] = i
    for _ in range(4):
        changed = False
        mem = members()
        info: dict[int, dict[str, Any]] = {
            r: {
                "strong": any(not k.startswith("code:") for i in idx for k in obs[i].keys),
                "soft": {k for i in idx for k in obs[i].soft},
                "teams": {t for i in idx if (t := teams[i])},
                "words": set().union(
                    *(
                        _words(
                            " ".join(
                                (
                                    *obs[i].identifiers,
                                    obs[i].name,
                                    (assets.host(obs[i].client) if assets and obs[i].client else "")
                                    or "",
                                    teams[i] or "",
                                )
                            )
                        )
                        for i in idx
                    )
                ),
                "ai": any(obs[i].role == "ai" for i in idx),
            }
            for r, idx in mem.items()
        }
        for r, meta in info.items():
            if meta["strong"] or groups.find(r) != r:
                continue
            target = None
            reason = ""
            for k in sorted(meta["soft"], key=lambda s: not s.startswith("region:")):
                cands = [
                    t
                    for t, m in info.items()
                    if t != r
                    and groups.find(t) == t
                    and k in m["soft"]
                    and m["ai"]
                    and (
                        meta["teams"] & m["teams"]
                        or (not meta["teams"] and not m["teams"] and m["strong"])
                        or (not meta["teams"] and m["teams"])
                        or (not m["teams"] and m["strong"])
                    )
                ]
                if not cands:
                    continue
                strong = [t for t in cands if info[t]["strong"]]
                cands = strong or cands  # a resource or account system before other sightings
                same = [t for t in cands if meta["teams"] & info[t]["teams"]]
                pick = same if len(same) == 1 else cands
                if len(pick) > 1:
                    scored = sorted(
                        ((len(meta["words"] & info[t]["words"]), t) for t in pick), reverse=True
                    )
                    if scored[0][0] > 0 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
                        pick = [scored[0][1]]
                if len(pick) == 1:
                    target = pick[0]
                    reason = f"{k}: the one system of that provider" + (
                        f" with team {', '.join(sorted(meta['teams']))}"
                        if meta["teams"]
                        else " (team unknown)"
                    )
                    break
            if target is not None:
                groups.union(target, r, reason)
                changed = True
        if not changed:
            break
    mem = members()
    # registry rows
    suffix: dict[str, set[int]] = {}
    keyidx: dict[str, set[int]] = {}
    for r, idx in mem.items():
        for i in idx:
            for k in obs[i].keys:
                keyidx.setdefault(k, set()).add(r)
                suffix.setdefault(k.rsplit(":", 1)[-1], set()).add(r)
            for ident in obs[i].identifiers:
                suffix.setdefault(ident.lower(), set()).add(r)
    claimed: dict[int, tuple[RegistryEntry, dict[str, Any]]] = {}
    by_entry: dict[str, list[int]] = {}
    for e in entries:
        e_strong, e_soft, tokens = _entry_keys(e, cat)
        found: set[int] = set()
        how: list[str] = []
        for sk in sorted(e_strong):
            e_got = {groups.find(r) for r in keyidx.get(sk, set())}
            if e_got:
                found |= e_got
                how.append(f"key {sk}")
        for tok in sorted(tokens):
            e_got = {groups.find(r) for r in suffix.get(tok, set())}
            if e_got:
                found |= e_got
                how.append(f"endpoint {tok}")
        if not found and e_soft:
            e_cands = {
                groups.find(r)
                for r, members_ in mem.items()
                if any(w in obs[i].soft for i in members_ for w in e_soft)
            }
            if e.team:
                e_same = {c for c in e_cands if any(teams[i] == e.team for i in mem.get(c, []))}
                e_cands = e_same or e_cands
            if len(e_cands) == 1:
                found = e_cands
                how.append(f"soft key {', '.join(sorted(e_soft))} (the one such system)")
        if not found or not any(obs[i].source == "code" for h in found for i in mem.get(h, [])):
            wanted = _norm(e.name)
            best: tuple[float, int] | None = None
            fuzzy = ""
            for r, members_ in mem.items():
                if groups.find(r) != r or r in claimed or r in found:
                    continue
                if not any(obs[i].role == "ai" for i in members_):
                    continue
                names = {obs[i].name for i in members_}
                names |= {x for i in members_ for x in obs[i].identifiers}
                plain = [_norm(tok) for tok in tokens if "." not in tok]  # endpoint names
                for n in names:
                    nn = _norm(n)
                    if not nn or not wanted:
                        continue
                    ratio = SequenceMatcher(None, wanted, nn).ratio()
                    for w in (wanted, *plain):
                        if min(len(nn), len(w)) >= 5 and (nn in w or w in nn):
                            ratio = max(ratio, 0.9)
                    shared = _words(n) & _words(f"{e.name} {e.model or ''}")
                    if len(shared) >= 2:
                        ratio = max(ratio, 0.86)
                    if ratio >= NAME_THRESHOLD and (best is None or ratio > best[0]):
                        best = (ratio, r)
                        fuzzy = f"fuzzy name {e.name!r} ~ {n!r} ({ratio:.2f})"
            if best is not None and (
                not found or any(obs[i].kind == "self-hosted-model" for i in mem[best[1]])
            ):
                found = found | {best[1]}
                how.append(fuzzy)
        found = {gid for gid in found if gid not in claimed}
        if not found:
            continue
        e_root = sorted(found)[0]
        for gid in found:
            if gid != e_root:
                groups.union(e_root, gid, f"registry {e.id} names both")
        e_root = groups.find(e_root)
        method = how[0].split(" ", 1)[0] if how else "key"
        claimed[e_root] = (e, {"method": method, "via": "; ".join(how)[:500], "registry_id": e.id})
        by_entry[e.id] = [e_root]
    mem = members()
    claimed = {groups.find(r): v for r, v in claimed.items()}
    systems: list[System] = []
    registered: dict[str, System] = {}
    for r, idx in mem.items():
        group = [obs[i] for i in idx]
        entry = claimed.get(r)
        if entry is None and not any(o.role == "ai" for o in group):
            dns = all("/dns" in o.location for o in group)
            if decisions is not None and not dns and any(o.role == "support" for o in group):
                gpu = [o for o in group if o.role == "support"]
                decisions.append(
                    Decision(
                        gpu[0].name,
                        "supporting evidence only (GPU spend, model download or ML libraries); "
                        "no model, model server or AI API tied to it by tags, names or code",
                        gpu[0].file,
                        gpu[0].location,
                    )
                )
            continue
        s = _system(
            group, [teams[i] for i in idx], entry[0] if entry else None, cat, assets, forwarders
        )
        s.merged = list(dict.fromkeys(groups.reasons.get(r, [])))
        if entry:
            s.match = {**entry[1], "merged": s.merged[:20]}
            registered[entry[0].id] = s
        else:
            s.match = {"method": "evidence", "merged": s.merged[:20]} if s.merged else None
            systems.append(s)
    out: list[System] = []
    for e in entries:
        s = registered.get(e.id) or System(
            key=e.id,
            name=e.name,
            kind="registered-internal",
            provider=e.provider or "internal",
            registry=e,
            team=e.team,
            team_evidence="registry" if e.team else None,
        )
        out.append(s)
    out += sorted(systems, key=lambda s: (s.kind, s.name.lower()))
    return out, _findings(out)


def _system(
    group: list[Observation],
    teams: list[str | None],
    entry: RegistryEntry | None,
    cat: AiCatalog,
    assets: Assets | None,
    forwarders: set[str],
) -> System:
    ai = [o for o in group if o.role == "ai"] or group
    lead = min(ai, key=lambda o: (_SOURCE_RANK.get(o.source, 9), -o.count))
    providers = Counter(o.provider for o in ai if o.provider not in ("self-hosted", "local"))
    provider = providers.most_common(1)[0][0] if providers else lead.provider
    kinds = Counter(o.kind for o in ai)
    kind = kinds.most_common(1)[0][0]
    votes: Counter[str] = Counter()
    why: dict[str, str] = {}
    for o, t in zip(group, teams, strict=True):
        if o.team:
            # a tag, label or department names the team; CODEOWNERS only the code's owners
            votes[o.team] += 1000 if o.source == "code" else 1_000_000
            why.setdefault(o.team, f"{o.source} {o.location}: team {o.team}")
        elif t:
            votes[t] += o.count
            host = assets.host(o.client) if assets and o.client else None
            why.setdefault(t, f"asset inventory: client {o.client} ({host or '?'}) is team {t}")
    owners: list[str] = []
    for o in group:
        if o.owner and o.owner not in owners:
            owners.append(o.owner)
        if assets and o.owner and not votes:
            team = assets.team(o.owner)[0]
            if team:
                votes[team] += 1
                why.setdefault(team, f"asset inventory: owner {o.owner} is team {team}")
    if not votes and assets is not None:  # cloud account / project / repo -> team mappings
        for o in group:
            parts = {p for k in o.keys for p in k.split(":")[1:]} | set(o.identifiers)
            for ident in sorted(parts):
                mapped = assets.team(ident)[0] if ident else None
                if mapped:
                    votes[mapped] += 1
                    why.setdefault(mapped, f"asset inventory maps {ident} to team {mapped}")
    team = votes.most_common(1)[0][0] if votes else None
    evidence = why.get(team) if team else None
    if entry is not None and entry.team:
        team, evidence = entry.team, f"registry {entry.id}"
    name = lead.name
    if lead.soft and not lead.keys and team:
        name = f"{lead.name} ({team})"
    return System(
        key=lead.key,
        name=name,
        kind=kind,
        provider=provider,
        observations=group,
        registry=entry,
        team=team,
        team_evidence=evidence,
        owners=([team] if team else []) + owners[:4],
    )


def _findings(systems: list[System]) -> list[Finding]:
    out = []
    for s in systems:
        data = s.to_json()
        subject = Subject(path=f"inventory:{data['id']}")
        evidence = {
            "system": data["id"],
            "name": data["name"],
            "kind": s.kind,
            "sources": data["sources"],
            "owner_candidates": data["owner_candidates"],
            "team": data["team"],
            "first_seen": data["first_seen"],
            "last_seen": data["last_seen"],
        }
        if s.registry is None:
            detail = (
                f"{data['name']} ({s.kind}) seen in {', '.join(data['sources'])}: "
                f"{len(s.observations)} evidence rows, {data['calls']} calls, "
                f"cost {data['cost']}; team: {data['team'] or 'unknown'}"
            )
            out.append(
                make_finding(SHADOW_RULE.get(s.kind, SHADOW_SELF_HOSTED), subject, detail, evidence)
            )
        if not s.team and not (s.registry and s.registry.owner):
            detail = (
                f"{data['name']}: unknown owner (no registry team, resource tag, SaaS "
                "department, asset inventory or CODEOWNERS evidence)"
            )
            out.append(make_finding(NO_OWNER, subject, detail, evidence))
    return out
