"""Secrets written into a container's environment as literal values.

Hand-written name test (a library such as detect-secrets scans source text, not a pod
spec's env list): a literal value under a credential-like name. ``valueFrom`` secret
references and empty values are fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from aisec.core.findings import Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule
from aisec.training.infra.rules._k8s import CONTAINER, container_name

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential"
    r"|auth|dsn|conn(ection)?[_-]?str)",
    re.IGNORECASE,
)
# values that only point at a secret kept elsewhere
_POINTER = re.compile(r"^(\$\{[^}]*\}|\$[A-Z_]+|/run/secrets/.*|/var/run/secrets/.*|<.*>)$")


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        for c in w.containers():
            names = [
                str(e.get("name"))
                for e in c.get("env") or []
                if isinstance(e, Mapping)
                and SECRET_NAME.search(str(e.get("name", "")))
                and isinstance(e.get("value"), str)
                and e["value"].strip()
                and not _POINTER.match(e["value"].strip())
            ]
            if names:
                yield Hit(
                    w.file,
                    w.address,
                    f"{w.role}, container {container_name(c)!r}: literal secret values in env "
                    f"{', '.join(names)}",
                    f"env: {', '.join(f'{n}: <literal>' for n in names)}",
                    "secrets: [<name>]  # mounted at /run/secrets/<name>; pass "
                    "the file path, not the value"
                    if w.kind == "ComposeService"
                    else "env:\n"
                    + "".join(
                        f"- name: {n}\n  valueFrom:\n    secretKeyRef:\n"
                        f"      name: <secret>\n      key: {n.lower()}\n"
                        for n in names
                    ).rstrip(),
                )


RULE = infra_rule(
    id="AISEC-TRN-208",
    severity=Severity.HIGH,
    title="Secret in a container's environment",
    remediation="Move the value into a Secret (or the secrets manager) and reference it; "
    "rotate the exposed credential.",
    mappings=CONTAINER,
    check=check,
    fixture="k8s_env_secrets",
    target="inference container",
    rationale="Literal secrets in a manifest are readable by anyone who can read the manifest.",
)
