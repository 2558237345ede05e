"""A second evaluation set for infra-check, in another domain: a speech-model platform
(ASR fine-tuning jobs, diarisation and TTS serving) on AWS, GCP, Azure and Kubernetes.

    python bench/gen_infra_eval.py OUT_DIR [--seed 7] [--copies 2]

Each case is written twice, ``bad`` (one violation) and ``good`` (its fixed form), with
random names, namespaces, address ranges and admin ports; the violations take shapes the
rule fixtures do not (port ranges that include an admin port, all-protocol rules, named
and legacy Ingress backends, separate NSG rule resources, source-range-limited load
balancers, Terraform StorageClasses, connection strings in env, ...). ``TRUTH.json`` maps
every file to the rule id it must fire (``null``: nothing). Written by hand for aisec;
nothing in it comes from the shared evaluation data.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

ADMIN = [22, 3389, 6443, 2379, 10250, 8265]
WORDS = ["asr", "whisper-ft", "diarizer", "vad", "tts", "keyword-spot", "lang-id", "punct"]
CONTEXT = {"registry": ["10.99.0.0/24"]}

Case = Callable[[random.Random, bool], tuple[str, str, str | None]]


def _pub(rng: random.Random, bits: int = 32) -> str:
    """A documentation range address (RFC 5737), outside any cluster."""
    last = rng.randint(1, 250) if bits == 32 else 0
    return f"{rng.choice(['198.51.100', '203.0.113'])}.{last}/{bits}"


def _subnet(rng: random.Random) -> tuple[str, str]:
    cidr = f"10.{rng.randint(20, 90)}.0.0/16"
    return (
        cidr,
        f'resource "aws_subnet" "nodes" {{\n  vpc_id = "vpc-1"\n  cidr_block = "{cidr}"\n}}\n',
    )


def sg_port_range(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    cidr, sub = _subnet(rng)
    port = rng.choice(ADMIN)
    src = _pub(rng) if bad else cidr
    body = (
        f'resource "aws_security_group" "{rng.choice(WORDS)}" {{\n  name = "nodes"\n'
        f"  ingress {{\n    from_port = {port - 2}\n    to_port = {port + 3}\n"
        f'    protocol = "tcp"\n    cidr_blocks = ["{src}"]\n  }}\n}}\n' + sub
    )
    return "tf", body, "AISEC-TRN-101" if bad else None


def sg_rule_all_egress(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    dst = "0.0.0.0/0" if bad else "10.99.0.0/24"
    body = (
        f'resource "aws_security_group_rule" "{rng.choice(WORDS)}_out" {{\n  type = "egress"\n'
        f'  from_port = 0\n  to_port = 0\n  protocol = "-1"\n  cidr_blocks = ["{dst}"]\n'
        '  security_group_id = "sg-0abc"\n}\n'
    )
    return "tf", body, "AISEC-TRN-104" if bad else None


def gcp_all_protocols(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    body = (
        f'resource "google_compute_firewall" "{rng.choice(WORDS)}" {{\n  name = "x"\n'
        f'  network = "speech-vpc"\n  disabled = {"false" if bad else "true"}\n'
        f'  allow {{\n    protocol = "all"\n  }}\n  source_ranges = ["{_pub(rng, 24)}"]\n}}\n'
    )
    return "tf", body, "AISEC-TRN-101" if bad else None  # all protocols include admin ports


def gcp_https_egress(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    dst = "0.0.0.0/0" if bad else "10.99.0.0/24"
    name = rng.choice(WORDS)
    body = (
        f'resource "google_compute_network" "speech" {{\n  name = "speech-vpc"\n}}\n'
        f'resource "google_compute_firewall" "{name}_https" {{\n  name = "https-out"\n'
        '  network = google_compute_network.speech.name\n  direction = "EGRESS"\n'
        f'  destination_ranges = ["{dst}"]\n  allow {{\n    protocol = "tcp"\n'
        '    ports = ["443"]\n  }\n}\n'
        'resource "google_compute_firewall" "deny_out" {\n  name = "deny-out"\n'
        '  network = google_compute_network.speech.name\n  direction = "EGRESS"\n'
        '  priority = 65000\n  deny {\n    protocol = "all"\n  }\n}\n'
    )
    return "tf", body, "AISEC-TRN-105" if bad else None


def azure_rule_resource(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    port = rng.choice([22, 3389])
    src = "Internet" if bad else "VirtualNetwork"
    body = (
        'resource "azurerm_network_security_group" "speech" {\n  name = "nsg-speech"\n'
        '  location = "northeurope"\n  resource_group_name = "rg"\n}\n'
        f'resource "azurerm_network_security_rule" "{rng.choice(WORDS)}" {{\n'
        f'  name = "admin"\n  priority = {rng.randint(100, 400)}\n  direction = "Inbound"\n'
        '  access = "Allow"\n  protocol = "Tcp"\n  source_port_range = "*"\n'
        f'  destination_port_ranges = ["{port}", "8443"]\n  source_address_prefix = "{src}"\n'
        '  destination_address_prefix = "*"\n  resource_group_name = "rg"\n'
        "  network_security_group_name = azurerm_network_security_group.speech.name\n}\n"
        'resource "azurerm_network_security_rule" "deny_out" {\n  name = "deny-out"\n'
        '  priority = 4000\n  direction = "Outbound"\n  access = "Deny"\n  protocol = "*"\n'
        '  source_port_range = "*"\n  destination_port_range = "*"\n'
        '  source_address_prefix = "*"\n  destination_address_prefix = "*"\n'
        '  resource_group_name = "rg"\n'
        "  network_security_group_name = azurerm_network_security_group.speech.name\n}\n"
    )
    return "tf", body, "AISEC-TRN-102" if bad else None


def _svc_meta(rng: random.Random) -> tuple[str, str]:
    return rng.choice(WORDS), rng.choice(["speech", "asr-serving", "ml-train"])


def lb_source_ranges(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name, ns = _svc_meta(rng)
    port = rng.choice(ADMIN)
    extra = f"  loadBalancerSourceRanges: [{_pub(rng, 24)}]\n" if bad else ""
    ann = "" if bad else "  annotations:\n    networking.gke.io/load-balancer-type: Internal\n"
    body = (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n{ann}"
        f"spec:\n  type: LoadBalancer\n{extra}  selector: {{app: {name}}}\n"
        f"  ports:\n  - port: {port}\n"
    )
    return "yaml", body, "AISEC-TRN-110" if bad else None


def legacy_ingress(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name, ns = _svc_meta(rng)
    port = rng.choice([10250, 8265, 2379]) if bad else 8080
    body = (
        f"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: {name}\n"
        f"  namespace: {ns}\nspec:\n  backend:\n    serviceName: {name}\n"
        f"    servicePort: {port}\n"
    )
    return "yaml", body, "AISEC-TRN-110" if bad else None


def ebs_class(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    params = "  type: io2\n" if bad else '  type: io2\n  encrypted: "true"\n'
    body = (
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n"
        f"  name: {rng.choice(WORDS)}-ckpt\nprovisioner: kubernetes.io/aws-ebs\n"
        f"parameters:\n{params}"
    )
    return "yaml", body, "AISEC-TRN-107" if bad else None


def tf_storage_class(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    flag = "false" if bad else "true"
    body = (
        f'resource "kubernetes_storage_class_v1" "{rng.choice(WORDS)}" {{\n'
        '  metadata {\n    name = "audio-shards"\n  }\n'
        '  storage_provisioner = "ebs.csi.aws.com"\n'
        f'  parameters = {{\n    type = "gp3"\n    encrypted = "{flag}"\n  }}\n}}\n'
    )
    return "tf", body, "AISEC-TRN-107" if bad else None


def _deployment(name: str, ns: str, env: str = "", pod_extra: str = "") -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
        f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n"
        f"      serviceAccountName: {name}\n{pod_extra}"
        "      securityContext: {runAsNonRoot: true, runAsUser: 20001}\n"
        f"      containers:\n      - name: server\n        image: reg.example/{name}@sha256:00\n"
        "        securityContext:\n          allowPrivilegeEscalation: false\n"
        f"          capabilities: {{drop: [ALL]}}\n{env}"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        f"  name: {name}\n  namespace: {ns}\nspec:\n  podSelector:\n"
        f"    matchLabels: {{app: {name}}}\n  policyTypes: [Ingress, Egress]\n"
    )


def sa_automount_true(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name, ns = _svc_meta(rng)
    flag = "true" if bad else "false"
    body = (
        f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"automountServiceAccountToken: {flag}\n---\n" + _deployment(name, ns)
    )
    return "yaml", body, "AISEC-TRN-207" if bad else None


def conn_string_env(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name, ns = _svc_meta(rng)
    if bad:
        env = (
            "        env:\n        - name: TRANSCRIPT_DB_DSN\n"
            f"          value: postgres://svc:{rng.randint(10**6, 10**7)}pw@db.{ns}:5432/asr\n"
        )
    else:
        env = (
            "        env:\n        - name: TRANSCRIPT_DB_DSN\n          valueFrom:\n"
            "            secretKeyRef: {name: transcript-db, key: dsn}\n"
        )
    body = _deployment(name, ns, env, "      automountServiceAccountToken: false\n")
    return "yaml", body, "AISEC-TRN-208" if bad else None


def job_without_policy(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name = rng.choice(WORDS)
    body = (
        f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}-finetune\n"
        "  namespace: ml-train\nspec:\n  template:\n    metadata:\n"
        f"      labels: {{job: {name}}}\n    spec:\n      automountServiceAccountToken: false\n"
        "      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n"
        "      restartPolicy: Never\n"
        f"      containers:\n      - name: train\n        image: reg.example/{name}@sha256:00\n"
    )
    if not bad:
        body += (
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {name}\n  namespace: ml-train\nspec:\n  podSelector:\n"
            f"    matchLabels: {{job: {name}}}\n  policyTypes: [Ingress, Egress]\n"
        )
    return "yaml", body, "AISEC-TRN-201" if bad else None


def eip_instance(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    attach = "  instance = aws_instance.gpu.id\n" if bad else ""
    body = (
        'resource "aws_instance" "gpu" {\n  ami = "ami-1"\n  instance_type = "g5.12xlarge"\n'
        "  root_block_device {\n    encrypted = true\n  }\n}\n"
        f'resource "aws_eip" "{rng.choice(WORDS)}" {{\n  domain = "vpc"\n{attach}}}\n'
    )
    return "tf", body, "AISEC-TRN-106" if bad else None


def gcs_uniform(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    flag = "false" if bad else "true"
    body = (
        f'resource "google_storage_bucket" "{rng.choice(WORDS)}_audio" {{\n'
        f'  name = "speech-audio-{rng.randint(100, 999)}"\n  location = "EU"\n'
        f"  uniform_bucket_level_access = {flag}\n}}\n"
    )
    return "tf", body, "AISEC-TRN-108" if bad else None


def aks_authorized_any(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    access = (
        '  api_server_access_profile {\n    authorized_ip_ranges = ["0.0.0.0/0"]\n  }\n'
        if bad
        else "  private_cluster_enabled = true\n"
    )
    body = (
        f'resource "azurerm_kubernetes_cluster" "{rng.choice(WORDS)}" {{\n  name = "aks"\n'
        '  location = "northeurope"\n  resource_group_name = "rg"\n  dns_prefix = "s"\n'
        f'{access}  default_node_pool {{\n    name = "gpu"\n    vm_size = "Standard_NC6s_v3"\n'
        "  }\n}\n"
    )
    return "tf", body, "AISEC-TRN-110" if bad else None


def gke_pool_public(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    flag = "false" if bad else "true"
    body = (
        f'resource "google_container_node_pool" "{rng.choice(WORDS)}" {{\n  name = "gpu"\n'
        f'  cluster = "speech"\n  network_config {{\n    enable_private_nodes = {flag}\n  }}\n}}\n'
    )
    return "tf", body, "AISEC-TRN-106" if bad else None


def compose_pid_host(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    name = rng.choice(WORDS)
    pid = "    pid: host\n" if bad else ""
    body = (
        f"services:\n  {name}:\n    image: reg.example/{name}:2\n    user: '20001'\n{pid}"
        "    volumes:\n      - ./weights:/weights:ro\n    networks: [inner]\n"
        "networks:\n  inner:\n    internal: true\n"
    )
    return "yaml", body, "AISEC-TRN-206" if bad else None


def gcloud_rdp(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    net = "https://www.googleapis.com/compute/v1/projects/speech/global/networks/speech-vpc"
    rules = [
        {
            "kind": "compute#firewall", "name": f"{rng.choice(WORDS)}-rdp", "network": net,
            "direction": "INGRESS", "priority": 1000, "disabled": not bad,
            "sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["3389"]}],
        },
        {
            "kind": "compute#firewall", "name": "deny-egress", "network": net,
            "direction": "EGRESS", "priority": 65000, "disabled": False,
            "destinationRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "all"}],
        },
    ]  # fmt: skip
    return "json", json.dumps(rules, indent=1), "AISEC-TRN-102" if bad else None


def az_outbound(rng: random.Random, bad: bool) -> tuple[str, str, str | None]:
    def rule(name: str, prio: int, access: str, dst: str) -> dict[str, object]:
        return {
            "name": name, "priority": prio, "direction": "Outbound", "access": access,
            "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": dst,
            "destinationPortRange": "*", "sourcePortRange": "*",
            "type": "Microsoft.Network/networkSecurityGroups/securityRules",
        }  # fmt: skip

    rules = [rule("deny-all-out", 4000, "Deny", "*")]
    if bad:
        rules.insert(0, rule(f"{rng.choice(WORDS)}-debug-out", 300, "Allow", "Internet"))
    doc = [{"name": "nsg-speech", "type": "Microsoft.Network/networkSecurityGroups",
            "securityRules": rules}]  # fmt: skip
    return "json", json.dumps(doc, indent=1), "AISEC-TRN-104" if bad else None


CASES: list[Case] = [
    sg_port_range, sg_rule_all_egress, gcp_all_protocols, gcp_https_egress,
    azure_rule_resource, lb_source_ranges, legacy_ingress, ebs_class, tf_storage_class,
    sa_automount_true, conn_string_env, job_without_policy, eip_instance, gcs_uniform,
    aks_authorized_any, gke_pool_public, compose_pid_host, gcloud_rdp, az_outbound,
]  # fmt: skip


def generate(out: Path, seed: int = 7, copies: int = 2) -> dict[str, str | None]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    truth: dict[str, str | None] = {}
    out.mkdir(parents=True, exist_ok=True)
    for n in range(copies):
        for case in CASES:
            for bad in (True, False):
                ext, body, rule = case(rng, bad)
                folder = out / f"{case.__name__}-{n}-{'bad' if bad else 'good'}"
                folder.mkdir(exist_ok=True)
                name = {"tf": "main.tf", "yaml": "manifest.yaml", "json": "export.json"}[ext]
                if case is compose_pid_host:
                    name = "compose.yaml"
                (folder / name).write_text(body, encoding="utf-8")
                truth[f"{folder.name}/{name}"] = rule
    (out / "TRUTH.json").write_text(json.dumps(truth, indent=1, sort_keys=True))
    (out / "context.yaml").write_text(json.dumps(CONTEXT))
    return truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--copies", type=int, default=2)
    args = ap.parse_args()
    truth = generate(args.out, args.seed, args.copies)
    bad = sum(v is not None for v in truth.values())
    print(f"{len(truth)} files ({bad} bad, {len(truth) - bad} good) in {args.out}")


if __name__ == "__main__":
    main()
