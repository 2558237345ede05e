"""Buckets and volumes (weights, checkpoints, training data) without encryption at rest.

An S3 bucket needs an explicit server-side encryption configuration: S3's implicit
default (SSE-S3, an AWS-owned key) has no key policy that could limit who decrypts the
weights or the PII they were trained on.
"""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule

_FIX = {
    "bucket": (
        'resource "aws_s3_bucket_server_side_encryption_configuration" "{name}" {{\n'
        "  bucket = {address}.id\n"
        "  rule {{\n"
        "    apply_server_side_encryption_by_default {{\n"
        '      sse_algorithm     = "aws:kms"\n'
        "      kms_master_key_id = <your KMS key ARN>\n"
        "    }}\n"
        "  }}\n"
        "}}"
    ),
    "volume": "encrypted  = true\nkms_key_id = <your KMS key ARN>",
    "filesystem": "encrypted  = true\nkms_key_id = <your KMS key ARN>",
    "storageclass": 'parameters:\n  encrypted: "true"',
}


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for s in model.storages:
        if s.encrypted:
            continue
        name = s.address.rsplit(".", 1)[-1].split("[")[0]
        fix = s.fix or _FIX[s.kind].format(name=name, address=s.address.split("[")[0])
        yield Hit(s.file, s.address, f"{s.kind} not encrypted at rest: {s.reason}", s.reason, fix)


RULE = infra_rule(
    id="AISEC-TRN-107",
    severity=Severity.HIGH,
    title="Unencrypted storage for weights or training data",
    remediation="Encrypt every bucket, volume and file system that holds weights, "
    "checkpoints or training data with a customer-managed KMS key.",
    mappings=Mappings(
        atlas=("AML.T0035", "AML.T0036", "AML.T0025"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="unencrypted_storage",
    target="training cluster",
    rationale=(
        "Unencrypted volumes and buckets leak weights and training data when storage is exposed."
    ),
)
