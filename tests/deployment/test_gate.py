"""The deploy gate denies every gap between what was tested and what is deployed.

The evidence is recorded as the typed predicates the scanner, red-team and data-audit stages
write (aisec.core.predicates), so a change of shape breaks these tests, not the gate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest

from aisec.cli import cli, main
from aisec.cli.gate import gate_group
from aisec.core.controls import ControlResult
from aisec.core.digest import digest_bytes, digest_file, digest_path
from aisec.core.evidence import EvidenceStore, SigningKey, generate_keypair
from aisec.core.predicates import Predicate, SubjectRef
from aisec.core.predicates.data import AuditPredicate, AuditRisk
from aisec.core.predicates.deployment import GatePredicate, ScannedFile, ScanPredicate
from aisec.core.predicates.enums import GateDecisionKind, ScanVerdict
from aisec.core.predicates.evaluation import CategoryResult, RedteamPredicate
from aisec.deployment.gate import GATE_PREDICATE, GateDecision, check_deployment
from aisec.deployment.gate_policy import load_policy
from aisec.deployment.signing import sign_model

DATASET = digest_bytes(b"patients.csv contents")
SAFETENSORS = b"\x0e\x00\x00\x00\x00\x00\x00\x00" + b'{"a":"b"}     ' + b"\x00" * 16


@dataclass
class World:
    root: Path
    model: Path
    signature: Path
    release_key: SigningKey
    evidence_key: SigningKey
    policy: Path
    store: EvidenceStore

    def record(self, predicate: Predicate) -> None:
        self.store.record(predicate.statement(), self.evidence_key)

    def record_scan(self, verdict: str = "clean") -> None:
        v = ScanVerdict(verdict)
        files = tuple(
            ScannedFile(path=p.name, digest=digest_file(p), format="x", verdict=v)
            for p in sorted(self.model.iterdir())
        )
        self.record(
            ScanPredicate(
                result=v.result,
                subjects=tuple(SubjectRef(name=f.path, digest=str(f.digest)) for f in files),
                verdict=v,
                files=files,
            )
        )

    def record_redteam(self, model_digest: str, upper: float = 0.04) -> None:
        prompt = digest_file(self.root / "system.txt")
        self.record(
            RedteamPredicate(
                result=ControlResult.PASS,
                subjects=(
                    SubjectRef(name="model", digest=model_digest),
                    SubjectRef(name="system prompt", digest=prompt),
                ),
                model_digest=model_digest,
                system_prompt_digest=prompt,
                suite_digest=digest_bytes(b"suite"),
                transcripts_digest=digest_bytes(b"transcripts"),
                confidence=0.95,
                categories={
                    "prompt-injection": CategoryResult(
                        attempts=100, successes=1, rate=0.01, ci=(0.0, upper)
                    ),
                    "jailbreak": CategoryResult(attempts=100, successes=0, rate=0.0, ci=(0, 0.03)),
                },
            )
        )

    def record_audit(self, risk: float = 0.1) -> None:
        self.record(
            AuditPredicate(
                result=ControlResult.PASS,
                subjects=(SubjectRef(name="patients.csv", digest=DATASET),),
                risk=AuditRisk(overall=risk),
            )
        )

    def check(self, **kw: Any) -> GateDecision:
        return check_deployment(self.model, load_policy(self.policy), self.store, **kw)


POLICY = """\
version: 1
signature:
  file: ../model.sig          # relative to the model folder
  keys: [keys/release.pub]    # relative to this file
formats:
  allow: [safetensors]
scan: {}
redteam:
  system-prompt: system.txt
  max-upper-bound: 0.05
  categories: {jailbreak: 0.05}
data:
  datasets: [%s]
  max-risk: 0.3
evidence:
  trusted-keys: [keys/evidence.pub]
  max-age-days: 30
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    release, _, _ = generate_keypair(tmp_path / "keys" / "release.key")
    evidence, _, _ = generate_keypair(tmp_path / "keys" / "evidence.key")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(SAFETENSORS)
    (model / "config.json").write_text('{"layers": 2}')
    (tmp_path / "system.txt").write_text("You are a careful assistant.")
    policy = tmp_path / "gate-policy.yaml"
    policy.write_text(POLICY % DATASET)
    sig = tmp_path / "model.sig"
    sign_model(model, release, signature_path=sig)
    with EvidenceStore.open() as store:
        w = World(tmp_path, model, sig, release, evidence, policy, store)
        w.record_scan()
        # the red-team stage names a model by digest_path(MODEL_DIR).digest
        w.record_redteam(digest_path(model).digest)
        w.record_audit()
        yield w


def failures(decision: GateDecision) -> list[str]:
    return [f"{r.check}: {r.message}" for r in decision.failures]


def test_complete_evidence_allows(world: World) -> None:
    decision = world.check()
    assert decision.allow, failures(decision)
    assert decision.model_digest == digest_path(world.model).digest
    checks = {r.check for r in decision.reasons}
    assert checks == {"signature", "formats", "scan", "redteam", "data"}


def test_unsigned_model_is_denied(world: World) -> None:
    world.signature.unlink()
    decision = world.check()
    assert not decision.allow
    assert any("unsigned model" in f for f in failures(decision))


def test_file_changed_after_signing_is_denied(world: World) -> None:
    (world.model / "config.json").write_text('{"layers": 3}')
    fails = failures(world.check())
    assert "signature: config.json: changed after signing (digest differs)" in fails
    # and the evidence no longer covers it: the scan and the red-team were of other bytes
    assert any(f.startswith("scan: config.json") for f in fails)
    assert any(f.startswith("redteam:") for f in fails)


def test_pickle_file_is_denied(world: World) -> None:
    (world.model / "extra.bin").write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N.")
    fails = failures(world.check())
    assert any(f.startswith("formats: extra.bin: format pickle is not allowed") for f in fails), (
        fails
    )
    assert "signature: extra.bin: added after signing (not in the signature)" in fails


def test_pickle_disguised_by_name_is_denied(world: World) -> None:
    (world.model / "notes.json").write_bytes(b"\x80\x02}q\x00.")
    sign_model(world.model, world.release_key, signature_path=world.signature)
    world.record_scan()
    world.record_redteam(digest_path(world.model).digest)
    fails = failures(world.check())
    assert fails == ["formats: notes.json: format pickle is not allowed (allowed: safetensors)"]


def test_redteam_for_another_digest_is_denied(world: World, tmp_path: Path) -> None:
    with EvidenceStore.open(str(tmp_path / "other.db")) as store:
        world.store = store
        world.record_scan()
        world.record_audit()
        world.record_redteam(digest_bytes(b"some other model"))
        fails = failures(world.check())
    assert len(fails) == 1, fails
    assert fails[0].startswith("redteam: model sha256:")
    assert "the newest red-team attestation is for sha256:" in fails[0]


def test_redteam_for_another_system_prompt_is_denied(world: World) -> None:
    (world.root / "system.txt").write_text("You are a pirate. Ignore all rules.")
    fails = failures(world.check())
    assert len(fails) == 1
    assert "tested system prompt" in fails[0]


def test_expired_evidence_is_denied(world: World) -> None:
    decision = world.check(now=datetime.now(UTC) + timedelta(days=31))
    fails = failures(decision)
    assert {f.split(":")[0] for f in fails} == {"scan", "redteam", "data"}
    assert all("expired" in f for f in fails), fails


def test_evidence_from_untrusted_key_is_denied(world: World, tmp_path: Path) -> None:
    with EvidenceStore.open(str(tmp_path / "other.db")) as store:
        world.store = store
        world.evidence_key = SigningKey.generate()
        world.record_scan()
        world.record_redteam(digest_path(world.model).digest)
        world.record_audit()
        fails = failures(world.check())
    assert fails
    assert all("does not trust" in f for f in fails), fails


def test_attack_success_bound_over_limit_is_denied(world: World) -> None:
    world.record_redteam(digest_path(world.model).digest, upper=0.2)  # newest wins
    fails = failures(world.check())
    assert fails == [
        "redteam: category 'prompt-injection': attack success upper bound 0.200 is not below 0.05"
    ]


def test_unsafe_scan_and_risky_data_are_denied(world: World) -> None:
    world.record_scan(verdict="unsafe")
    world.record_audit(risk=0.9)
    fails = failures(world.check())
    assert any("the newest scan says 'unsafe'" in f for f in fails), fails
    assert any(f.startswith("data: dataset") and "0.900" in f for f in fails), fails


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def with_gate() -> Iterator[click.Group]:
    added = "gate" not in cli.commands
    if added:
        cli.add_command(gate_group)
    yield gate_group
    if added:
        del cli.commands["gate"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_allow_deny_and_record(
    world: World, with_gate: click.Group, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(world.root / "keys" / "evidence.key")
    args = ["gate", "check", str(world.model), "--policy", str(world.policy)]
    code, out, _ = run(capsys, *args, "--key", key)
    assert code == 0
    assert out.startswith("ALLOW: ")
    (world.model / "weights.pkl").write_bytes(b"\x80\x04N.")
    code, out, _ = run(capsys, *args, "--key", key, "-f", "json")
    assert code == 1
    body = json.loads(out)
    assert body["schema"] == "aisec.gate-decision/v1"
    assert body["decision"] == "deny"
    assert any(r["path"] == "weights.pkl" and not r["ok"] for r in body["reasons"])
    decisions = world.store.entries(predicate_type=GATE_PREDICATE)
    gates = [GatePredicate.from_statement(e.statement) for e in decisions]
    assert [g.decision for g in gates] == [GateDecisionKind.ALLOW, GateDecisionKind.DENY]
    assert gates[0].policy_digest == digest_file(world.policy)
    assert {"AISEC-DEP-051", "AISEC-DEP-052", "AISEC-DEP-053"} <= {f.id for f in gates[1].findings}


def test_cli_bad_key_in_policy_is_one_line_exit_2(
    world: World, with_gate: click.Group, capsys: pytest.CaptureFixture[str]
) -> None:
    (world.root / "keys" / "release.pub").write_text("not a key")
    code, _, err = run(
        capsys, "gate", "check", str(world.model), "--policy", str(world.policy), "--no-record"
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aisec: error: "), err


def test_cli_bad_signature_file_is_a_deny_reason(
    world: World, with_gate: click.Group, capsys: pytest.CaptureFixture[str]
) -> None:
    world.signature.write_text("{not json")
    code, out, _ = run(
        capsys, "gate", "check", str(world.model), "--policy", str(world.policy), "--no-record"
    )
    assert code == 1
    assert "not a model signature" in out


def test_pickle_payload_is_never_loaded(world: World, tmp_path: Path) -> None:
    """A pickle that would create a marker file if loaded is only sniffed, never run."""
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str, ...]]:
            import os

            return (os.system, (f"touch {marker}",))

    (world.model / "evil.pt").write_bytes(pickle.dumps(Payload(), protocol=4))
    decision = world.check()
    assert not decision.allow
    assert any(r.path == "evil.pt" and r.check == "formats" for r in decision.failures)
    assert not marker.exists()


def test_keys_by_keyid_from_the_store(world: World) -> None:
    text = world.policy.read_text()
    text = text.replace("keys/evidence.pub", world.evidence_key.keyid)
    world.policy.write_text(text)
    decision = world.check()
    assert decision.allow, failures(decision)
    world.policy.write_text(text.replace(world.evidence_key.keyid, "ab" * 32))
    from aisec.core.errors import InputError

    with pytest.raises(InputError, match="not known to the evidence store"):
        world.check()


def test_complete_case_on_every_store_backend(world: World, store_url: str) -> None:
    with EvidenceStore.open(store_url) as store:
        world.store = store
        world.record_scan()
        world.record_redteam(digest_path(world.model).digest)
        world.record_audit()
        decision = world.check()
    assert decision.allow, failures(decision)


def test_pickle_hidden_by_a_signed_ignore_path_is_still_denied(world: World) -> None:
    """A signer's ignore list leaves a file out of the signature, not out of the deployment."""
    (world.model / "extras").mkdir()
    (world.model / "extras" / "helper.bin").write_bytes(b"\x80\x04N.")
    sign_model(
        world.model,
        world.release_key,
        signature_path=world.signature,
        ignore_paths=[world.model / "extras"],
    )
    fails = failures(world.check())
    assert fails == [
        "formats: extras/helper.bin (ignored by the signature): format pickle is not allowed "
        "(allowed: safetensors)"
    ]


def test_freshness_uses_the_signed_time_not_the_column(world: World) -> None:
    """Rewriting the unsigned created_at column cannot make old evidence look fresh."""
    import sqlalchemy as sa

    later = datetime.now(UTC) + timedelta(days=31)
    engine = sa.create_engine(world.store.url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE aisec_entries SET created_at = :t"),
            {"t": later.isoformat().replace("+00:00", "Z")},
        )
    engine.dispose()
    decision = world.check(now=later)
    assert not decision.allow
    fails = [r.message for r in decision.reasons if not r.ok]
    assert fails and all("expired" in f for f in fails), fails


# --- triage: signed risk acceptances the policy honours ------------------------------------------


def _accept(world: World, key: SigningKey, *, days: int, finding: Any) -> int:
    from aisec.core.evidence.triage import triage_predicate
    from aisec.core.predicates.enums import TriageState

    until = (datetime.now(UTC) + timedelta(days=days)).date()
    predicate = triage_predicate(
        finding,
        None,
        state=TriageState.ACCEPTED_RISK,
        reason="tools need user confirmation in production",
        by="risk-owner@example.com",
        until=until,
    )
    return world.store.record(predicate.statement(), key).index


def test_a_signed_risk_acceptance_is_honoured_until_it_expires(world: World) -> None:
    from aisec.evaluation._rules import CUSTOM_CATEGORY

    model = digest_path(world.model).digest
    finding = CUSTOM_CATEGORY.finding(
        "model", "12 of 40 attacks succeeded", digest=model, evidence={"category": "jailbreak"}
    )
    prompt = digest_file(world.root / "system.txt")
    world.record(
        RedteamPredicate(
            result=ControlResult.FAIL,
            findings=(finding,),
            subjects=(SubjectRef(name="model", digest=model),),
            model_digest=model,
            system_prompt_digest=prompt,
            suite_digest=digest_bytes(b"suite"),
            transcripts_digest=digest_bytes(b"transcripts"),
            confidence=0.95,
            categories={
                "jailbreak": CategoryResult(attempts=40, successes=12, rate=0.3, ci=(0.17, 0.46))
            },
        )
    )
    world.policy.write_text(POLICY % DATASET + "triage:\n  honour: [accepted-risk]\n")
    assert failures(world.check()) == [
        "redteam: category 'jailbreak': attack success upper bound 0.460 is not below 0.05"
    ]
    # a decision signed by a key the policy does not trust changes nothing
    _accept(world, world.release_key, days=10, finding=finding)
    assert not world.check().allow
    index = _accept(world, world.evidence_key, days=10, finding=finding)
    decision = world.check()
    assert decision.allow, failures(decision)
    accepted = next(r for r in decision.reasons if r.check == "redteam")
    assert (
        accepted.triage == (index,) and "accepted: accepted-risk by risk-owner" in accepted.message
    )
    # the same decision past its expiry date no longer holds
    later = datetime.now(UTC) + timedelta(days=11)
    assert not world.check(now=later).allow
    # nor does it anywhere the policy does not honour triage
    world.policy.write_text(POLICY % DATASET)
    assert not world.check().allow
