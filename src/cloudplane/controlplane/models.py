"""Database tables of the control plane (SQLAlchemy 2.x typed ORM) and the words they may hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, DateTime, Index, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cloudplane.cloud import RESOURCE_KEYS as CLOUD_RESOURCE_KEYS

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


class Cloud(Base):
    __tablename__ = "clouds"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
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

    __table_args__ = (
        # The database itself guarantees at most one default cloud.
        Index(
            "uq_clouds_single_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
        Index("ix_clouds_created_at", "created_at"),
    )
