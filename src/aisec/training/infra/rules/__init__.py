"""Infrastructure rules, one module per rule, registered explicitly in ``INFRA_RULES``.

Each module holds ``RULE``: its id, severity, title, remediation, framework mappings and
one small check over the normalised model; its fixtures live in
``tests/training/fixtures/<RULE.fixture>/``.
"""

from __future__ import annotations

from aisec.training.infra.rules import (
    egress_all,
    egress_port,
    exposed_admin,
    ingress_admin,
    ingress_anywhere,
    ingress_outside,
    k8s_egress_open,
    k8s_env_secrets,
    k8s_host_mounts,
    k8s_network_policy,
    k8s_privileged,
    k8s_root,
    k8s_sa_token,
    k8s_writable_weights,
    public_ip,
    public_storage,
    unencrypted_storage,
    unverified,
)
from aisec.training.infra.rules._base import Hit, InfraCheck

__all__ = ["INFRA_RULES", "Hit", "InfraCheck"]

INFRA_RULES: tuple[InfraCheck, ...] = (
    ingress_admin.RULE,
    ingress_anywhere.RULE,
    ingress_outside.RULE,
    egress_all.RULE,
    egress_port.RULE,
    public_ip.RULE,
    unencrypted_storage.RULE,
    public_storage.RULE,
    exposed_admin.RULE,
    unverified.RULE,
    k8s_network_policy.RULE,
    k8s_egress_open.RULE,
    k8s_writable_weights.RULE,
    k8s_privileged.RULE,
    k8s_root.RULE,
    k8s_host_mounts.RULE,
    k8s_sa_token.RULE,
    k8s_env_secrets.RULE,
)
