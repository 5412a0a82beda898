"""Records as the API shows them, built from a row of the database: the ORM's or the standard library's.

Light on purpose (standard library only): the embedded CLI's quick reads (`sqlite_records`) build the very same
dicts without loading SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cloudplane.errors import InputError


def cloud_record(cloud: Any) -> dict[str, Any]:
    """A cloud as the API shows it."""
    return {
        "id": cloud.id,
        "name": cloud.name,
        "provider": cloud.provider,
        "region": cloud.region,
        "deployment": cloud.deployment,
        "networking": cloud.networking,
        "state": cloud.state,
        "is_default": cloud.is_default,
        "external_id": cloud.external_id,
        "resources": dict(cloud.resources),
        "options": dict(cloud.options),
        "failure_reason": cloud.failure_reason,
        "created_at": iso_utc(cloud.created_at) or "",
        "updated_at": iso_utc(cloud.updated_at) or "",
        "last_verification": cloud.last_verification,
        "last_verified_at": iso_utc(cloud.last_verified_at),
        # The command working on the cloud, or null.
        "operation": (
            {
                "name": cloud.operation,
                "owner": cloud.operation_owner,
                "expires_at": iso_utc(cloud.operation_expires_at),
            }
            if cloud.operation_owner
            else None
        ),
        "last_functional_verification": cloud.last_functional_verification,
        "last_functional_verified_at": iso_utc(cloud.last_functional_verified_at),
    }


def token_record(token: Any) -> dict[str, Any]:
    """A token as the API shows it: never its secret, nor the secret's hash."""
    return {
        "id": token.id,
        "org": token.org,
        "name": token.name,
        "admin": token.admin,
        "created_at": iso_utc(token.created_at) or "",
        "revoked_at": iso_utc(token.revoked_at),
        "last_used_at": iso_utc(token.last_used_at),
    }


def iso_utc(moment: datetime | None) -> str | None:
    """UTC, ISO-8601, with "Z". SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def text_field(field: str, value: Any) -> str:
    """`value`, checked to be a string: callers other than the CLI send JSON of any type."""
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    return value
