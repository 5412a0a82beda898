"""The cloud as the product code sees it: a typed view of a control-plane record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RESOURCE_KEYS: tuple[str, ...] = (
    "vpc_id",
    "subnet_ids",
    "security_group_ids",
    "s3_bucket_id",
    "efs_id",
    "efs_mount_target_ips",
    "controlplane_role_arn",
    "instance_role_arn",
    "memorydb_cluster_id",
    "cloudformation_stack_id",
)

MANAGED = "managed"
CUSTOMER_DEFINED = "customer_defined"
PUBLIC = "public"
PRIVATE = "private"


@dataclass(frozen=True)
class CloudResources:
    vpc_id: str | None = None
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    s3_bucket_id: str | None = None
    efs_id: str | None = None
    efs_mount_target_ips: list[str] = field(default_factory=list)
    controlplane_role_arn: str | None = None
    instance_role_arn: str | None = None
    memorydb_cluster_id: str | None = None
    cloudformation_stack_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CloudResources:
        data = data or {}
        values = {key: data.get(key) for key in RESOURCE_KEYS}
        for key in ("subnet_ids", "security_group_ids", "efs_mount_target_ips"):
            values[key] = list(values[key] or [])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Every key present; empty lists and missing values become null."""
        return {key: (value if value not in ([], "") else None) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class CloudSpec:
    """What verification needs to know about a cloud."""

    id: str
    name: str
    region: str
    deployment: str = MANAGED
    networking: str = PUBLIC
    external_id: str | None = None
    resources: CloudResources = field(default_factory=CloudResources)
    # ARN of the principal the control-plane role must trust (an account root ARN).
    controlplane_principal: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_managed(self) -> bool:
        return self.deployment == MANAGED

    @property
    def is_private(self) -> bool:
        return self.networking == PRIVATE

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CloudSpec:
        options = dict(record.get("options") or {})
        return cls(
            id=record["id"],
            name=record["name"],
            region=record["region"],
            deployment=record.get("deployment", MANAGED),
            networking=record.get("networking", PUBLIC),
            external_id=record.get("external_id"),
            resources=CloudResources.from_dict(record.get("resources")),
            controlplane_principal=options.get("controlplane_principal"),
            options=options,
        )

    def summary(self) -> dict[str, Any]:
        """The `cloud` object of a verification report."""
        return {
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "deployment": self.deployment,
            "networking": self.networking,
        }
