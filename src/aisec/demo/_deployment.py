"""Stage 4 of the demo: scan, convert, sign, then gate on the evidence (deny, then allow)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from aisec.core.digest import digest_file
from aisec.demo._context import DemoContext
from aisec.deployment import (
    check_deployment,
    convert_statement,
    convert_to_safetensors,
    gate_statement,
    load_policy,
    scan_model,
    scan_statement,
    sign_model,
    signature_statement,
)

__all__ = ["Release", "gate_release", "prepare_release"]

# A pickle that would run a shell command when loaded: it would only create a marker file.
# aisec never loads it; the scanner must say so without running it.
_PAYLOAD = b"cos\nsystem\n(S'touch aisec-demo-payload-ran'\ntR."


@dataclass(frozen=True)
class Release:
    candidate: Path  # as pulled from a mirror: a pickle checkpoint
    release: Path  # converted to SafeTensors and signed
    signature: Path


def prepare_release(ctx: DemoContext, model_dir: Path) -> Release:
    with ctx.stage("deployment", "scan the candidate, convert to SafeTensors, sign") as s:
        candidate = ctx.workdir / "deployment" / "candidate"
        release = ctx.workdir / "deployment" / "release"
        for folder in (candidate, release):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        (candidate / "pytorch_model.bin").write_bytes(_PAYLOAD)
        shutil.copy(model_dir / "config.json", candidate / "config.json")

        report = scan_model([candidate], digest=True)
        ctx.store.record(scan_statement(report), ctx.key)
        for finding in report.findings[:2]:
            s.lines.append(
                f"candidate: {finding.severity.value.upper()} {finding.id} {finding.title} "
                f"({Path(finding.subject.path).name})"
            )

        converted = convert_to_safetensors(model_dir / "weights.npz", release / "model.safetensors")
        ctx.store.record(convert_statement(converted), ctx.key)
        shutil.copy(model_dir / "config.json", release / "config.json")
        clean = scan_model([release], digest=True)
        ctx.store.record(scan_statement(clean), ctx.key)
        s.lines.append(
            f"converted {converted.tensors} tensors to SafeTensors; release scan: {clean.verdict}"
        )

        signature = ctx.workdir / "deployment" / "release.sig"
        signed = sign_model(release, ctx.key, signature_path=signature)
        entry = ctx.store.record(signature_statement(signed, action="sign"), ctx.key)
        s.lines.append(f"signed the release (OpenSSF model signing bundle); entry #{entry.index}")
        s.ok = report.verdict == "unsafe" and clean.verdict == "clean"
        s.facts.update(candidate_verdict=report.verdict, release_verdict=clean.verdict)
        return Release(candidate, release, signature)


def _policy(ctx: DemoContext, rel: Release, prompt: Path, train_csv: Path) -> Path:
    """What this team requires before deploying; residual red-team risk it accepted is explicit."""
    public = ctx.key_path.with_suffix(".pub")
    text = f"""version: 1
signature:
  file: {rel.signature}
  keys: [{public}]
formats:
  allow: [safetensors]
scan:
  required: true
redteam:
  system-prompt: {prompt}
  max-upper-bound: 0.05
  categories:                       # accepted residual risk, with compensating controls
    prompt-injection-indirect: 0.40 # retrieved documents are sanitised upstream
    system-prompt-leakage: 0.35     # the prompt holds no secret in production
    excessive-agency: 0.30          # tools need user confirmation
    improper-output-handling: 0.20  # replies are rendered as plain text
  required-categories: [prompt-injection-direct, jailbreak, sensitive-information]
data:
  datasets: [{digest_file(train_csv)}]
  max-risk: 0.3
evidence:
  trusted-keys: [{public}]
  max-age-days: 30
"""
    path = ctx.workdir / "deployment" / "gate-policy.yaml"
    path.write_text(text)
    return path


def gate_release(ctx: DemoContext, rel: Release, prompt: Path, train_csv: Path) -> None:
    with ctx.stage("deployment", "deploy gate: the candidate is refused, the release passes") as s:
        policy = load_policy(_policy(ctx, rel, prompt, train_csv))
        decisions = {}
        for name, folder in (("candidate", rel.candidate), ("release", rel.release)):
            decision = check_deployment(folder, policy, ctx.store)
            ctx.store.record(gate_statement(decision), ctx.key)
            decisions[name] = decision
            failed = [r for r in decision.reasons if not r.ok]
            s.lines.append(f"{name}: {decision.decision.upper()}")
            for r in failed[:4]:
                s.lines.append(f"    FAIL {r.check}: {r.message}")
        s.ok = not decisions["candidate"].allow and decisions["release"].allow
        s.facts.update(
            candidate=decisions["candidate"].decision, release=decisions["release"].decision
        )
        # the marker would exist only if a payload had run
        s.facts["payload_ran"] = (ctx.workdir / "aisec-demo-payload-ran").exists() or Path(
            "aisec-demo-payload-ran"
        ).exists()
        s.ok = s.ok and not s.facts["payload_ran"]
