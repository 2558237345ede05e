"""The deploy gate: is what we deploy exactly what was signed, scanned and red-teamed?

:func:`check_deployment` recomputes the digests of the model folder on disk, then looks the
evidence up **by digest** in the evidence store (only through its public API) and checks each
rule of the policy (:mod:`aisec.deployment.gate_policy`):

* ``signature``: a valid OpenSSF model signature by one of the policy's keys, matching disk;
* ``formats``: only the allowed model formats (by magic bytes);
* ``scan``: for every file digest, a ``deployment/model-scan:v1`` attestation that says clean;
* ``redteam``: an ``evaluation/redteam:v1`` attestation for this model digest (and the system
  prompt's digest when the policy names one), every category's CI upper bound below its limit;
* ``data``: a ``data/audit:v1`` attestation for each listed dataset digest, risk below a limit;
* ``evidence``: attestations count only if signed by a trusted key and not older than N days.

Every check gives reasons, passed or failed; the model is allowed only if none failed. The
model's digest is the manifest digest of its files (:func:`aisec.deployment.signing.hash_model`,
the git paths and the signature file left out): the ``digest_path`` value other stages record,
whenever the folder holds nothing else.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aisec.core.controls import ControlResult
from aisec.core.digest import Manifest, digest_file
from aisec.core.errors import FormatError, InputError
from aisec.core.evidence import PublicKey, Statement, load_public_key
from aisec.core.evidence.chain import walk_chain
from aisec.core.evidence.triage import active_decisions, triage_states
from aisec.core.findings import Finding
from aisec.core.predicates._base import InputRef, Predicate, SubjectRef
from aisec.core.predicates.data import AuditPredicate
from aisec.core.predicates.deployment import (
    GatePredicate,
    GateReasonInfo,
    ModelFileInfo,
    ScanPredicate,
)
from aisec.core.predicates.enums import GateDecisionKind, ScanVerdict, TriageState
from aisec.core.predicates.evaluation import RedteamPredicate, ValidationPredicate
from aisec.deployment._gate_rules import RULE_FOR_CHECK
from aisec.deployment.gate_formats import detect_format
from aisec.deployment.gate_policy import (
    MODEL_FORMATS,
    ChainPolicy,
    GatePolicy,
    LoadedPolicy,
    RedteamPolicy,
    TriagePolicy,
    ValidationPolicy,
)
from aisec.deployment.signing import DEFAULT_IGNORE_PATHS, _resolve_ignore, hash_model, verify_model

if TYPE_CHECKING:
    from aisec.core.evidence import EvidenceStore, LogEntry

__all__ = [
    "GATE_PREDICATE",
    "FileVerdict",
    "GateDecision",
    "GateOutcome",
    "Reason",
    "check_deployment",
    "gate_predicate",
    "gate_statement",
]

GATE_PREDICATE = GatePredicate.predicate_type()
P = TypeVar("P", bound=Predicate)

Check = Literal["input", "signature", "formats", "scan", "redteam", "validation", "data", "chain"]


@dataclass(frozen=True)
class Reason:
    """One finding of the gate: a check, whether it passed, and why (naming the file).

    ``covers`` are the recorded findings behind a failure (a scan's, a red-team category's):
    signed triage decisions about all of them can accept it, where the policy allows;
    ``triage`` are the entries of the decisions that did.
    """

    check: Check
    ok: bool
    message: str
    path: str | None = None
    covers: tuple[Finding, ...] = field(default=(), compare=False, repr=False)
    triage: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "message": self.message,
            "path": self.path,
            "triage": list(self.triage),
        }


@dataclass(frozen=True)
class FileVerdict:
    path: str
    digest: str
    format: str


@dataclass(frozen=True)
class GateDecision:
    """allow/deny, with every reason; ``model_digest`` is what the evidence was looked up by."""

    allow: bool
    model_dir: str
    model_digest: str
    reasons: tuple[Reason, ...]
    files: tuple[FileVerdict, ...]
    policy_digest: str
    policy_source: str
    ignored: tuple[str, ...] = field(default=())
    #: what else the decision read, by digest: (name, digest, role)
    read: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def decision(self) -> Literal["allow", "deny"]:
        return "allow" if self.allow else "deny"

    @property
    def failures(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.gate-decision/v1",
            "decision": self.decision,
            "model": self.model_dir,
            "model_digest": self.model_digest,
            "policy": self.policy_source,
            "policy_digest": self.policy_digest,
            "reasons": [r.to_json() for r in self.reasons],
            "files": [{"path": f.path, "digest": f.digest, "format": f.format} for f in self.files],
            "ignored": list(self.ignored),
        }


# --- evidence look-up --------------------------------------------------------------------------


@dataclass
class _Evidence:
    store: EvidenceStore
    keys: list[PublicKey]
    max_age: timedelta | None
    now: datetime

    def entries(self, model: type[Predicate], digest: str | None = None) -> list[LogEntry]:
        """Entries of ``model``'s predicate type (any version it reads), oldest first."""
        found = {
            e.index: e
            for t in (model.predicate_type(), *model.legacy_types())
            for e in self.store.entries(subject_digest=digest, predicate_type=t)
        }
        return [found[i] for i in sorted(found)]

    def find(
        self, digest: str, model: type[P], accept: Callable[[P], str | None]
    ) -> tuple[P | None, str]:
        """The newest trusted, fresh predicate about this subject that ``accept`` takes
        (returns None for), or ``None`` with the best reason there is none. Only the newest
        counts: an older clean verdict never outvotes a newer one."""
        what = f"{model.STAGE}/{model.CONTROL}"
        why = f"no {what} attestation for {_abbrev(digest)}"
        for entry in reversed(self.entries(model, digest)):
            problem = self._trust(entry)
            if problem is None:
                try:
                    predicate = model.from_statement(entry.envelope.verify(self.keys))
                except FormatError as exc:
                    problem = f"cannot be read ({exc.message})"
                else:
                    problem = accept(predicate)
                    if problem is None:
                        return predicate, ""
            why = f"{what} attestation #{entry.index} {problem}"
        return None, why

    def _trust(self, entry: LogEntry) -> str | None:
        if not entry.envelope.verified_keyids(self.keys):
            return f"is signed by key {entry.keyid[:16]}…, which the policy does not trust"
        if self.max_age is not None:
            # the record time that counts is the one its signed tree head attests
            stamp = self.store.signed_time(entry, self.keys)
            if stamp is None:
                return "has no record time signed by a trusted key (its tree head is missing)"
            try:
                created = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                return f"has an unreadable signed time {stamp!r}"
            if self.now - created > self.max_age:
                days = self.max_age / timedelta(days=1)
                return f"expired: recorded {stamp}, older than {days:g} days"
        return None


def _abbrev(digest: str) -> str:
    return digest[:19] + "…"


# --- keys --------------------------------------------------------------------------------------


def _keys(refs: Sequence[str], loaded: LoadedPolicy, store: EvidenceStore) -> list[PublicKey]:
    known = {k.keyid: k for k in store.keys()}  # noqa: SIM118 - a method, not a dict
    out = []
    for ref in refs:
        value = ref.strip().lower().removeprefix("sha256:")
        if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            if value not in known:
                raise InputError(
                    f"{loaded.source}: keyid {value[:16]}… is not known to the evidence store; "
                    "give the public key file instead"
                )
            out.append(known[value])
        else:
            out.append(load_public_key(loaded.resolve(ref)))
    return out


# --- the checks --------------------------------------------------------------------------------


def check_deployment(
    model_dir: str | os.PathLike[str],
    policy: LoadedPolicy | GatePolicy,
    store: EvidenceStore,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> GateDecision:
    """Decide whether ``model_dir`` may be deployed under ``policy``, from evidence in ``store``.

    Raises :class:`InputError` for a missing folder or unreadable policy keys (exit 2 in the
    CLI); everything about the model itself is a reason in the decision.
    """
    loaded = (
        policy if isinstance(policy, LoadedPolicy) else LoadedPolicy(policy, Path.cwd(), "", "")
    )
    pol = loaded.policy
    root = Path(model_dir)
    if not root.is_dir():
        raise InputError(f"{root}: no such model folder", path=root)
    reasons: list[Reason] = []
    manifest: Manifest | None = None
    ignored: tuple[str, ...] = ()

    if pol.signature is not None:
        sig_path = Path(pol.signature.file)
        sig_path = sig_path if sig_path.is_absolute() else root / sig_path
        keys = _keys(pol.signature.keys, loaded, store)
        if not sig_path.is_file():
            reasons.append(
                Reason("signature", False, f"unsigned model: no signature at {sig_path}")
            )
        else:
            try:
                check = verify_model(root, keys, signature_path=sig_path, progress=progress)
            except FormatError as exc:
                reasons.append(Reason("signature", False, exc.message))
            else:
                if check.valid:
                    assert check.signed is not None  # noqa: S101 - valid implies signed
                    reasons.append(
                        Reason(
                            "signature",
                            True,
                            f"signed by {check.keyid[:16] if check.keyid else '?'}… "
                            f"({check.signed.method}); every file matches",
                        )
                    )
                else:
                    reasons += [
                        Reason("signature", False, r, r.split(":", 1)[0]) for r in check.reasons
                    ]
                if check.signed is not None and check.signed.method == "files":
                    manifest, ignored = check.manifest, check.ignored
                elif check.signed is not None:
                    ignore = sorted(
                        {*check.signed.ignore_paths, *_resolve_ignore(root, [sig_path])}
                    )
                    manifest, ignored = hash_model(root, ignore=ignore, progress=progress)
    if manifest is None:
        extra = []
        if pol.signature is not None:
            sig = Path(pol.signature.file)
            extra = _resolve_ignore(root, [sig if sig.is_absolute() else root / sig])
        manifest, ignored = hash_model(
            root, ignore=sorted({*DEFAULT_IGNORE_PATHS, *extra}), progress=progress
        )

    files = tuple(
        FileVerdict(e.path, e.digest, detect_format(root / e.path)) for e in manifest.entries
    )
    if not files:
        reasons.append(Reason("input", False, f"{root}: the model folder holds no files"))
    model_digest = manifest.digest

    if pol.formats is not None:
        # files a signature leaves out still ship with the folder: sniff them too (not .git)
        sniffed = files + _ignored_files(root, ignored)
        reasons += _check_formats(sniffed, pol.formats.allow, allow_other=pol.formats.allow_other)

    read: list[tuple[str, str, str]] = []
    if pol.data is not None:
        read += [("training data", d, "requires:dataset") for d in pol.data.datasets]
    if pol.redteam is not None and pol.redteam.system_prompt is not None:
        prompt = loaded.resolve(pol.redteam.system_prompt)
        if prompt.is_file():
            read.append((prompt.name, digest_file(prompt), "requires:system-prompt"))
    if pol.evidence is not None:
        ev = pol.evidence
        evidence = _Evidence(
            store,
            _keys(ev.trusted_keys, loaded, store),
            None if ev.max_age_days is None else timedelta(days=ev.max_age_days),
            now or datetime.now(UTC),
        )
        if pol.scan is not None and pol.scan.required:
            reasons += _check_scan(files, evidence)
        if pol.redteam is not None:
            reasons += _check_redteam(model_digest, pol.redteam, loaded, evidence)
        if pol.validation is not None:
            reasons += _check_validation(model_digest, files, pol.validation, evidence)
        if pol.data is not None:
            for ds in pol.data.datasets:
                reasons.append(_check_dataset(ds, pol.data.max_risk, evidence))
        if pol.chain is not None:
            reasons += _check_chain(model_digest, files, pol.chain, evidence)
        if pol.triage is not None:
            reasons = _apply_triage(reasons, pol.triage, evidence)

    return GateDecision(
        allow=all(r.ok for r in reasons),
        model_dir=str(root),
        model_digest=model_digest,
        reasons=tuple(reasons),
        files=files,
        policy_digest=loaded.digest,
        policy_source=loaded.source,
        ignored=ignored,
        read=tuple(read),
    )


def _ignored_files(root: Path, ignored: Sequence[str]) -> tuple[FileVerdict, ...]:
    """Regular files under the ignored paths (git paths excepted), with their sniffed format."""
    out = []
    for rel in ignored:
        if rel.split("/", 1)[0] in DEFAULT_IGNORE_PATHS:
            continue
        top = root / rel
        found = [top] if top.is_file() and not top.is_symlink() else []
        if top.is_dir() and not top.is_symlink():
            found = [p for p in sorted(top.rglob("*")) if p.is_file() and not p.is_symlink()]
        for p in found:
            path = p.relative_to(root).as_posix()
            out.append(FileVerdict(f"{path} (ignored by the signature)", "", detect_format(p)))
    return tuple(out)


def _check_formats(
    files: Sequence[FileVerdict], allow: Sequence[str], *, allow_other: bool
) -> list[Reason]:
    out = []
    for f in files:
        if f.format in allow or (f.format == "other" and allow_other):
            continue
        what = "not a model format" if f.format == "other" else f"format {f.format}"
        out.append(
            Reason(
                "formats",
                False,
                f"{f.path}: {what} is not allowed (allowed: {', '.join(allow)})",
                f.path,
            )
        )
    if not out:
        found = sorted({f.format for f in files if f.format in MODEL_FORMATS})
        out.append(Reason("formats", True, f"only allowed formats: {', '.join(found) or 'none'}"))
    return out


def _check_scan(files: Sequence[FileVerdict], evidence: _Evidence) -> list[Reason]:
    out = []
    for f in files:

        def lists(scan: ScanPredicate, digest: str = f.digest) -> str | None:
            return None if scan.file(digest) else "does not list this file's digest"

        found, why = evidence.find(f.digest, ScanPredicate, lists)
        covers: tuple[Finding, ...] = ()
        if found is not None:
            entry = found.file(f.digest)
            verdict = entry.verdict if entry is not None else None
            if verdict is not ScanVerdict.CLEAN:
                why = f"the newest scan says {verdict.value if verdict else '?'!r} for this file"
                covers = tuple(x for x in found.findings if x.subject.digest == f.digest)
                found = None
        if found is None:
            msg = f"{f.path} ({_abbrev(f.digest)}): {why}"
            out.append(Reason("scan", False, msg, f.path, covers=covers))
    if not out:
        out.append(Reason("scan", True, f"all {len(files)} files have a clean scan attestation"))
    return out


def _check_redteam(
    model_digest: str, rt: RedteamPolicy, loaded: LoadedPolicy, evidence: _Evidence
) -> list[Reason]:
    prompt_digest = None
    if rt.system_prompt is not None:
        prompt_digest = digest_file(loaded.resolve(rt.system_prompt))

    def matches(rt_run: RedteamPredicate) -> str | None:
        if rt_run.model_digest != model_digest:
            return f"is for model {rt_run.model_digest[:19]}…, not this one"
        if prompt_digest is not None and rt_run.system_prompt_digest != prompt_digest:
            return (
                f"tested system prompt {str(rt_run.system_prompt_digest)[:19]}…, "
                f"not {rt.system_prompt} ({_abbrev(prompt_digest)})"
            )
        return None

    found, why = evidence.find(model_digest, RedteamPredicate, matches)
    if found is None:
        others = evidence.entries(RedteamPredicate)
        if others and why.startswith("no "):
            try:
                other = RedteamPredicate.from_statement(others[-1].statement).model_digest
            except FormatError:
                other = "an unreadable entry"
            why += f" (the newest red-team attestation is for {other[:19]}…)"
        return [Reason("redteam", False, f"model {_abbrev(model_digest)}: {why}")]
    cats = found.categories
    out = [
        Reason("redteam", False, f"category {name!r} was not tested")
        for name in rt.required_categories
        if name not in cats
    ]
    for name, result in sorted(cats.items()):
        limit = rt.categories.get(name, rt.max_upper_bound)
        upper = float(result.ci[1])
        if math.isnan(upper) or upper >= limit:
            covers = tuple(x for x in found.findings if x.evidence.get("category") == name)
            out.append(
                Reason(
                    "redteam",
                    False,
                    f"category {name!r}: attack success upper bound {upper:.3f} "
                    f"is not below {limit:g}",
                    covers=covers,
                )
            )
    if not out:
        out.append(
            Reason("redteam", True, f"{len(cats)} categories below their limits for this model")
        )
    return out


def _check_validation(
    model_digest: str, files: Sequence[FileVerdict], pol: ValidationPolicy, evidence: _Evidence
) -> list[Reason]:
    """The newest trusted validation of the folder's digest, else of one of its files."""
    found: ValidationPredicate | None = None
    why = ""
    for digest in (model_digest, *(f.digest for f in files)):
        found, reason = evidence.find(digest, ValidationPredicate, lambda _v: None)
        why = why or reason
        if found is not None:
            break
    if found is None:
        return [Reason("validation", False, f"model {_abbrev(model_digest)}: {why}")]
    out = [
        Reason("validation", False, f"check {c!r} was not run")
        for c in pol.required_checks
        if c not in found.checks or not any(k.startswith(c + ".") for k in found.metrics)
    ]
    for name, limit in sorted(pol.max.items()):
        m = found.metrics.get(name)
        if m is None:
            out.append(Reason("validation", False, f"metric {name!r} was not measured"))
        elif math.isnan(m.ci[1]) or m.ci[1] > limit:
            out.append(
                Reason("validation", False, f"{name}: upper bound {m.ci[1]:.3f} is above {limit:g}")
            )
    for name, limit in sorted(pol.min.items()):
        m = found.metrics.get(name)
        if m is None:
            out.append(Reason("validation", False, f"metric {name!r} was not measured"))
        elif math.isnan(m.ci[0]) or m.ci[0] < limit:
            out.append(
                Reason("validation", False, f"{name}: lower bound {m.ci[0]:g} is below {limit:g}")
            )
    if not out:
        n = len(pol.max) + len(pol.min)
        out.append(Reason("validation", True, f"validation within {n} limits for this model"))
    return out


def _check_dataset(digest: str, max_risk: float, evidence: _Evidence) -> Reason:
    found, why = evidence.find(digest, AuditPredicate, lambda _audit: None)
    if found is None:
        return Reason("data", False, f"dataset {_abbrev(digest)}: {why}")
    overall = found.risk.overall
    if not overall < max_risk:
        return Reason(
            "data",
            False,
            f"dataset {_abbrev(digest)}: the newest audit says risk {overall:.3f}, "
            f"not below {max_risk:g}",
            covers=found.findings,
        )
    return Reason("data", True, f"dataset {_abbrev(digest)}: audited, risk below {max_risk:g}")


@dataclass(frozen=True)
class GateOutcome:
    """A decision as a control outcome: its failed reasons as findings, its predicate."""

    decision: GateDecision

    @property
    def findings(self) -> tuple[Finding, ...]:
        return gate_predicate(self.decision).findings

    def to_json(self) -> dict[str, Any]:
        return self.decision.to_json()

    def predicates(self) -> tuple[GatePredicate]:
        return (gate_predicate(self.decision),)


def _check_chain(
    model_digest: str, files: Sequence[FileVerdict], chain: ChainPolicy, evidence: _Evidence
) -> list[Reason]:
    """No gap in the chain of evidence from the data up to ``chain.until``."""
    found = walk_chain(
        evidence.store,
        [model_digest],
        files=[f.digest for f in files],
        keys=evidence.keys,
        max_age=evidence.max_age,
        until=chain.until,
        now=evidence.now,
    )
    if found.complete:
        return [Reason("chain", True, f"the chain of evidence is complete up to {chain.until}")]
    return [Reason("chain", False, f"{g.stage}: {g.message}") for g in found.gaps]


def _apply_triage(reasons: list[Reason], pol: TriagePolicy, evidence: _Evidence) -> list[Reason]:
    """Failed reasons whose findings all carry an active, allowed, trusted triage decision
    become accepted ones, naming the decisions; nothing else changes."""
    states = triage_states(evidence.store, keys=evidence.keys)
    allowed = [TriageState(s) for s in pol.honour]
    today = evidence.now.date()
    out = []
    for r in reasons:
        if r.ok or r.check not in pol.checks or not r.covers:
            out.append(r)
            continue
        decisions = active_decisions(r.covers, states, allowed, today)
        if decisions and pol.max_days is not None:
            limit = timedelta(days=pol.max_days)
            decisions = [
                t
                for t in decisions
                if t.until is None
                or t.until - datetime.fromisoformat(t.recorded_at.replace("Z", "+00:00")).date()
                <= limit
            ]
            if len(decisions) != len(r.covers):
                decisions = None
        if not decisions:
            out.append(r)
            continue
        who = "; ".join(
            f"{t.state.value} by {t.by}" + (f" until {t.until}" if t.until else "")
            for t in {t.index: t for t in decisions}.values()
        )
        out.append(
            Reason(
                r.check,
                True,
                f"{r.message} — accepted: {who}",
                r.path,
                triage=tuple(sorted({t.index for t in decisions})),
            )
        )
    return out


def gate_predicate(decision: GateDecision) -> GatePredicate:
    """The ``deployment/gate`` predicate of a decision: every failed reason is a finding."""
    name = Path(decision.model_dir).resolve().name or "model"
    findings = tuple(
        RULE_FOR_CHECK[r.check].finding(r.path or name, r.message, digest=decision.model_digest)
        for r in decision.failures
    )
    inputs = [InputRef(name=f.path, digest=f.digest, role="model-file") for f in decision.files]
    inputs += [InputRef(name=n, digest=d, role=r) for n, d, r in decision.read]
    if decision.policy_digest:
        inputs.append(InputRef(name="policy", digest=decision.policy_digest, role="policy"))
    return GatePredicate(
        result=ControlResult.PASS if decision.allow else ControlResult.FAIL,
        findings=findings,
        subjects=(SubjectRef(name=name, digest=decision.model_digest),),
        inputs=tuple(inputs),
        decision=GateDecisionKind(decision.decision),
        reasons=tuple(
            GateReasonInfo(check=r.check, ok=r.ok, message=r.message, path=r.path, triage=r.triage)
            for r in decision.reasons
        ),
        policy_digest=decision.policy_digest or None,
        files=tuple(
            ModelFileInfo(path=f.path, digest=f.digest, format=f.format) for f in decision.files
        ),
    )


def gate_statement(decision: GateDecision) -> Statement:
    """The signed form of :func:`gate_predicate`."""
    return gate_predicate(decision).statement()
