"""Stage 5 of the demo, in production: the release goes behind the gateway, by digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from aisec.core.evidence.recorder import StoreRecorder
from aisec.demo._context import DemoContext
from aisec.inference import load_config
from aisec.inference.alerts import attest_config

__all__ = ["serve_release"]

_CLIENT_KEY_HASH = hashlib.sha256(b"demo clinic-app key, never used to call anything").hexdigest()


def serve_release(ctx: DemoContext, release: Path) -> None:
    with ctx.stage("inference", "serve the release behind the gateway, bound to its digest") as s:
        config = ctx.path("inference", "guard.yaml")
        doc = {
            # where the model server would listen; the demo signs the config, it starts nothing
            "upstream": "http://127.0.0.1:8000",
            "model": str(release.resolve()),
            "routes": [
                {
                    "path": "/v1/classify",
                    "kind": "classifier",
                    "scores": "scores",
                    "hardening": {"round-decimals": 2, "top-k": 1},
                }
            ],
            # only the key's hash is configured; the demo never holds a client key
            "accounts": [{"name": "clinic-app", "key-sha256": _CLIENT_KEY_HASH}],
            "evidence": True,
        }
        config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        cfg, digest = load_config(config)
        entry = attest_config(cfg, digest, StoreRecorder.for_store(ctx.store, ctx.key))
        assert entry is not None  # noqa: S101 -- a store recorder always records
        s.lines.append(
            f"gateway config {digest[:19]}… serves the release; signed as entry #{entry.index}"
        )
        s.ok = True
        s.facts.update(config_digest=digest, entry=entry.index)
