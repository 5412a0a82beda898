"""JSON shapes of the HTTP API (server only): request bodies and the cloud as returned, for validation and docs.

The service builds the data (`service.cloud_record`); these models check and describe it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool

from cloudplane.controlplane.models import ClusterKind, Deployment, Networking, Provider, State


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resources(_Strict):
    """The AWS resources of a cloud. Keys left out of a request are left alone."""

    vpc_id: str | None = None
    subnet_ids: list[str] | None = None
    security_group_ids: list[str] | None = None
    s3_bucket_id: str | None = None
    efs_id: str | None = None
    efs_mount_target_ips: list[str] | None = None
    controlplane_role_arn: str | None = None
    instance_role_arn: str | None = None
    memorydb_cluster_id: str | None = None
    cloudformation_stack_id: str | None = None

    def given(self) -> dict[str, Any]:
        """Only the keys the request named (an explicit null clears a key)."""
        return self.model_dump(include=self.model_fields_set)


class ClaimIn(_Strict):
    operation: str
    owner: str
    seconds: float
    replace: str | None = None  # an owner found gone, whose claim may be taken over


class CloudCreate(_Strict):
    name: str
    provider: Provider
    region: str
    deployment: Deployment
    networking: Networking
    options: dict[str, Any] | None = None
    external_id: str | None = None
    resources: Resources | None = None
    claim: ClaimIn | None = None


class CloudPatch(_Strict):
    state: State | None = None
    resources: Resources | None = None
    options: dict[str, Any] | None = None
    failure_reason: str | None = None


class VerificationIn(_Strict):
    report: dict[str, Any]


class CloudOut(BaseModel):
    id: str
    name: str
    provider: str
    region: str
    deployment: str
    networking: str
    state: str
    is_default: bool
    external_id: str
    resources: dict[str, Any]
    options: dict[str, Any]
    failure_reason: str | None
    created_at: str
    updated_at: str
    last_verification: dict[str, Any] | None
    last_verified_at: str | None
    # The command working on the cloud: {"name", "owner", "expires_at"}, or null.
    operation: dict[str, Any] | None = None
    last_functional_verification: dict[str, Any] | None = None
    last_functional_verified_at: str | None = None


class CloudList(BaseModel):
    clouds: list[CloudOut]
    # Where the next page starts (pass it as `cursor`); null on the last page.
    next_cursor: str | None = None


class Health(BaseModel):
    status: str
    version: str


class TokenCreate(_Strict):
    org: str | None = None
    name: str | None = None
    admin: StrictBool = False  # "yes" or 1 is a mistake to report, not a flag to guess


class TokenOut(BaseModel):
    id: str
    org: str
    name: str
    admin: bool
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


class TokenWithSecret(TokenOut):
    token: str  # the secret, shown this once


class TokenList(BaseModel):
    tokens: list[TokenOut]


class Info(BaseModel):
    version: str
    aws_principal: str | None


class ClusterCreate(_Strict):
    name: str
    cloud_id: str | None = None  # null: the organisation's default cloud
    kind: ClusterKind = "workspace"
    compute_config: dict[str, Any] | None = None


class ClusterOut(BaseModel):
    id: str
    name: str
    kind: str
    state: str
    cloud_id: str
    cloud_name: str | None
    region: str | None
    instances: list[dict[str, Any]]
    compute_config: dict[str, Any] | None
    failure_reason: str | None
    created_at: str
    updated_at: str
    terminated_at: str | None
    stale: str | None = None


class ClusterList(BaseModel):
    clusters: list[ClusterOut]


class InstanceList(BaseModel):
    instances: list[dict[str, Any]]


class LoadBalancerCleanup(BaseModel):
    done: bool
    stacks: list[dict[str, Any]]
    certificates: list[dict[str, Any]]
    failed: list[dict[str, Any]]


class FunctionalVerificationCreate(_Strict):
    cloud_id: str
    targets: list[str]
