"""The evidence chain itself: verify the whole log, then show what tampering looks like."""

from __future__ import annotations

import shutil
import sqlite3

from aisec.core.evidence import EvidenceStore
from aisec.demo._context import DemoContext

__all__ = ["verify_chain"]


def verify_chain(ctx: DemoContext) -> None:
    with ctx.stage("evidence", "verify the signed chain of evidence") as s:
        report = ctx.store.verify([ctx.key.public])
        s.ok = report.ok
        s.facts.update(
            entries=report.entries_checked,
            heads=report.heads_checked,
            ok=report.ok,
            root=report.root,
        )
        s.lines.append(
            f"log {'verified' if report.ok else 'FAILED'} with the public key: "
            f"{report.entries_checked} entries, {report.heads_checked} signed tree heads"
        )
        for p in report.problems[:5]:
            s.lines.append(f"problem: {p.message}")

        # Tamper with a copy, so the real evidence stays untouched.
        copy = ctx.home / "tamper-demo.db"
        copy.unlink(missing_ok=True)
        # the backup API copies a consistent snapshot, including what is still in the WAL
        src, dst = sqlite3.connect(ctx.home / "evidence.db"), sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        victim = max(0, report.entries_checked // 2)
        con = sqlite3.connect(copy)
        try:
            con.execute(
                "UPDATE aisec_entries SET envelope = replace(envelope, '\"payloadType\"', "
                "'\"payloadtype\"') WHERE idx = ?",
                (victim,),
            )
            con.commit()
        finally:
            con.close()
        witness = ctx.home / "witness-copy"
        try:
            with EvidenceStore.open(f"sqlite:///{copy}", witness_dir=witness) as tampered:
                t = tampered.verify([ctx.key.public], use_local_witness=False)
        finally:
            copy.unlink(missing_ok=True)
            shutil.rmtree(witness, ignore_errors=True)
        caught = [p.message for p in t.problems]
        s.facts["tamper_caught"] = bool(caught)
        s.ok = s.ok and bool(caught)
        s.lines.append(
            "one changed byte in a copy of the log: "
            + ("; ".join(caught) if caught else "NOT DETECTED")
        )
