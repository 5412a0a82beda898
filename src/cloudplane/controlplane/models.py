"""Database tables of the control plane (SQLAlchemy 2.x typed ORM) and the words they may hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cloudplane.cloud import RESOURCE_KEYS as CLOUD_RESOURCE_KEYS
from cloudplane.controlplane.auth import LOCAL_ORG

Provider = Literal["aws"]
Deployment = Literal["managed", "customer_defined"]
Networking = Literal["public", "private"]
State = Literal["creating", "active", "failed", "deleting"]

PROVIDERS: tuple[str, ...] = get_args(Provider)
DEPLOYMENTS: tuple[str, ...] = get_args(Deployment)
NETWORKINGS: tuple[str, ...] = get_args(Networking)
STATES: tuple[str, ...] = get_args(State)

# Every cloud carries all of these keys in `resources`; the ones not known yet are null.
RESOURCE_KEYS: tuple[str, ...] = CLOUD_RESOURCE_KEYS

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organisation(Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """An API token of a user in one organisation. Only the SHA-256 of its secret is kept."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    org: Mapped[str] = mapped_column(String(63), ForeignKey("organisations.name"))
    name: Mapped[str] = mapped_column(String(63))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One live token per name in an organisation; a revoked token's name can be used again.
        Index(
            "uq_tokens_live_name",
            "org",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class Cloud(Base):
    __tablename__ = "clouds"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    org: Mapped[str] = mapped_column(
        String(63), ForeignKey("organisations.name"), server_default=text(f"'{LOCAL_ORG}'")
    )
    name: Mapped[str] = mapped_column(String(63))
    provider: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(32))
    deployment: Mapped[str] = mapped_column(String(32))
    networking: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str] = mapped_column(String(1224))
    resources: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # none_as_null: a missing report is SQL NULL, not the JSON value null.
    last_verification: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    last_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The command working on the cloud (setup, register, delete ...), who runs it, and until when its
    # claim holds unless renewed: a second command waits for it or, once it is gone, takes over.
    operation: Mapped[str | None] = mapped_column(String(32))
    operation_owner: Mapped[str | None] = mapped_column(String(255))
    operation_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last functional verification's report (workspace / service launched and checked), and when.
    last_functional_verification: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    last_functional_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("org", "name"),
        # The database itself guarantees at most one default cloud per organisation.
        Index(
            "uq_clouds_default_per_org",
            "org",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
        # Pages of the list: an organisation's clouds in creation order (controlplane.paging).
        Index("ix_clouds_org_created_at_id", "org", "created_at", "id"),
    )


ClusterKind = Literal["workspace", "service"]
# EC2's instance lifecycle, seen per cluster (stopping and stopped count as "stopped").
ClusterState = Literal["pending", "running", "stopped", "terminating", "terminated", "failed"]
CLUSTER_KINDS: tuple[str, ...] = get_args(ClusterKind)
CLUSTER_STATES: tuple[str, ...] = get_args(ClusterState)
LIVE_CLUSTER_STATES: tuple[str, ...] = ("pending", "running", "stopped", "terminating")


class Cluster(Base):
    """A launch of instances in a cloud, made through the cloud's cross-account role."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    org: Mapped[str] = mapped_column(String(63), ForeignKey("organisations.name"))
    cloud_id: Mapped[str] = mapped_column(String(24), ForeignKey("clouds.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    # [{"id", "role", "node_type", "instance_type", "subnet_id", "zone", "state", "private_ip"}]
    instances: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    compute_config: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One live cluster per name in an organisation; a terminated cluster's name can be used again.
        Index(
            "uq_clusters_live_name",
            "org",
            "name",
            unique=True,
            sqlite_where=text("terminated_at IS NULL"),
            postgresql_where=text("terminated_at IS NULL"),
        ),
        Index("ix_clusters_cloud_id", "cloud_id"),
    )


FunctionalVerificationState = Literal["running", "passed", "failed", "aborted"]
FUNCTIONAL_VERIFICATION_STATES: tuple[str, ...] = get_args(FunctionalVerificationState)


class FunctionalVerification(Base):
    """A run of functional verification: per target a node launched in the cloud and checked, each step
    recorded with its state and timings, and what the run made (clusters, certificate, stack) until it is
    cleaned up. Advanced by whoever calls next; `lease_*` keeps two callers from acting at once."""

    __tablename__ = "functional_verifications"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    org: Mapped[str] = mapped_column(String(63), ForeignKey("organisations.name"))
    cloud_id: Mapped[str] = mapped_column(String(24), ForeignKey("clouds.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    # [{"name", "state", "cluster", "resources", "steps": [{"name", "state", "started_at", ...}], "checks"}]
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Deadlines of the steps, in seconds, fixed when the run starts.
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    aborted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_functional_verifications_cloud_id", "cloud_id"),)
