"""What a source (a stack, a Terraform state) holds that could be a piece of a cloud, and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Piece:
    """One candidate: the value `cloud register` takes (an id, a name) and where it was found."""

    value: str
    origin: str  # a stack's logical id, or a Terraform address
    vpc_id: str | None = None  # subnets and security groups: the VPC they belong to, when known


@dataclass(frozen=True)
class FoundRole:
    arn: str
    name: str
    trust: dict[str, Any]  # the assume-role policy document
    origin: str


@dataclass(frozen=True)
class FoundProfile:
    """An instance profile and the names of the roles it holds."""

    role_names: tuple[str, ...]
    origin: str


@dataclass
class Found:
    """Everything a source holds that matters for a cloud. `source` names it for messages ("stack acme")."""

    source: str
    vpcs: list[Piece] = field(default_factory=list)
    subnets: list[Piece] = field(default_factory=list)
    security_groups: list[Piece] = field(default_factory=list)
    buckets: list[Piece] = field(default_factory=list)
    file_systems: list[Piece] = field(default_factory=list)
    memorydb_clusters: list[Piece] = field(default_factory=list)
    roles: list[FoundRole] = field(default_factory=list)
    profiles: list[FoundProfile] = field(default_factory=list)
    stack_id: str | None = None
    # The cloud id a cloudplane stack is tagged with: the stack may belong to a cloud already registered.
    tagged_cloud_id: str | None = None

    def add_role(self, role: FoundRole) -> None:
        if all(known.arn != role.arn for known in self.roles):
            self.roles.append(role)
