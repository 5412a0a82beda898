"""The flags of `cloud register` that discovery fills, and the explicit command they make."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

VPC = "--vpc-id"
SUBNETS = "--subnet-ids"
GROUPS = "--security-group-ids"
BUCKET = "--s3-bucket-id"
EFS = "--efs-id"
CONTROLPLANE_ROLE = "--controlplane-iam-role-id"
INSTANCE_ROLE = "--instance-iam-role-id"
MEMORYDB = "--memorydb-cluster-id"
PRIVATE_NETWORK = "--private-network"
EXTERNAL_ID = "--external-id"
# In the order the command lists them.
ALL = (
    VPC,
    SUBNETS,
    GROUPS,
    BUCKET,
    EFS,
    CONTROLPLANE_ROLE,
    INSTANCE_ROLE,
    MEMORYDB,
    PRIVATE_NETWORK,
    EXTERNAL_ID,
)

# A flag's value: an id, a comma list or an ARN; True for --private-network; None when not set.
Flags = Mapping[str, str | bool | None]


def equivalent_command(name: str, region: str, flags: Flags) -> str:
    """`cloudplane cloud register ...` with every flag spelt out, quoted for a POSIX shell."""
    words = ["cloudplane", "cloud", "register", "--provider", "aws", "--name", name, "--region", region]
    for flag in ALL:
        value = flags.get(flag)
        if value is True:
            words.append(flag)
        elif value:
            words += [flag, str(value)]
    return shlex.join(words)
