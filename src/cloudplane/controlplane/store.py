"""Cloud records: the rules they obey and their persistence. No HTTP here; errors are cloudplane's own."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudplane.aws.regions import REGION_SHAPE
from cloudplane.controlplane.db import read_sessions, session_factory
from cloudplane.controlplane.models import (
    DEPLOYMENTS,
    NETWORKINGS,
    PROVIDERS,
    RESOURCE_KEYS,
    STATES,
    Cloud,
)
from cloudplane.errors import Conflict, InputError, NotFound
from cloudplane.naming import EXTERNAL_ID, new_cloud_id, new_external_id, validate_cloud_name

LIST_RESOURCE_KEYS = frozenset({"subnet_ids", "security_group_ids", "efs_mount_target_ips"})
_OPERATION = re.compile(r"[a-z][a-z-]{0,31}")
MAX_CLAIM_SECONDS = 3600
# A failure reason describes the last failure; moving on to these states makes it stale.
_STATES_CLEARING_FAILURE = frozenset({"creating", "active"})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def utcnow() -> datetime:
    return datetime.now(UTC)


class CloudStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = session_factory(engine)
        self._reads = read_sessions(engine)
        self._clock = clock

    def create(
        self,
        org: str,
        *,
        name: str,
        provider: str,
        region: str,
        deployment: str,
        networking: str,
        options: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        resources: Mapping[str, Any] | None = None,
        state: str = "creating",
        claim: Claim | None = None,
    ) -> Cloud:
        """A new cloud; with `claim`, held by that operation from the start (no other command can take
        it over before the claim runs out)."""
        cloud = self._new(
            org,
            name=name,
            provider=provider,
            region=region,
            deployment=deployment,
            networking=networking,
            options=options,
            external_id=external_id,
            resources=resources,
            state=state,
            claim=claim,
        )
        try:
            with self._sessions.begin() as session:
                if _by_name(session, org, name) is not None:
                    raise _duplicate(name)
                session.add(cloud)
        except IntegrityError:
            # Lost a race with another writer using the same name.
            with self._reads() as session:
                if _by_name(session, org, name) is not None:
                    raise _duplicate(name) from None
            raise
        return cloud

    def create_many(self, org: str, clouds: list[Mapping[str, Any]]) -> list[Cloud]:
        """Many new clouds in one transaction: all of them, or none when one is refused. Each mapping holds
        `create`'s keyword arguments."""
        made = [self._new(org, **dict(spec)) for spec in clouds]
        names = [cloud.name for cloud in made]
        repeated = next((name for name in names if names.count(name) > 1), None)
        if repeated is not None:
            raise _duplicate(repeated)
        try:
            with self._sessions.begin() as session:
                taken = session.scalar(
                    select(Cloud.name).where(Cloud.org == org, Cloud.name.in_(names)).limit(1)
                )
                if taken is not None:
                    raise _duplicate(taken)
                session.add_all(made)
        except IntegrityError:
            raise Conflict(
                "a cloud of the same name was created at the same time; nothing was created"
            ) from None
        return made

    def _new(
        self,
        org: str,
        *,
        name: str,
        provider: str,
        region: str,
        deployment: str,
        networking: str,
        options: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        resources: Mapping[str, Any] | None = None,
        state: str = "creating",
        claim: Claim | None = None,
    ) -> Cloud:
        """A checked Cloud row, not stored yet."""
        validate_cloud_name(name)
        _check_choice("provider", provider, PROVIDERS)
        _check_choice("deployment", deployment, DEPLOYMENTS)
        _check_choice("networking", networking, NETWORKINGS)
        _check_choice("state", state, STATES)
        if not REGION_SHAPE.fullmatch(region or ""):
            raise InputError(f"invalid region {region!r}: expected an AWS region name such as 'us-west-2'")
        if external_id is not None and not EXTERNAL_ID.fullmatch(external_id):
            raise InputError(
                "invalid external_id: use 2-1224 letters, digits or any of '+=,.@:/-_' (the AWS rule)"
            )
        cloud_id = new_cloud_id()
        now = self._clock()
        cloud = Cloud(
            id=cloud_id,
            org=org,
            name=name,
            provider=provider,
            region=region,
            deployment=deployment,
            networking=networking,
            state=state,
            is_default=False,
            external_id=external_id or new_external_id(cloud_id),
            resources=merge_resources(dict.fromkeys(RESOURCE_KEYS), resources or {}),
            options=merge_options({}, options or {}),
            failure_reason=None,
            created_at=now,
            updated_at=now,
            last_verification=None,
            last_verified_at=None,
        )
        if claim is not None:
            claim.validate()
            claim.apply(cloud, now)
        return cloud

    def list(
        self,
        org: str,
        *,
        name: str | None = None,
        limit: int | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[Cloud]:
        """The organisation's clouds in creation order; `after` (creation time, id): only those after it."""
        query = select(Cloud).where(Cloud.org == org).order_by(Cloud.created_at, Cloud.id)
        if name is not None:
            query = query.where(Cloud.name == name)
        if after is not None:
            created_at, cloud_id = after
            # `>=` first, so that the created_at index narrows the scan; the OR breaks ties by id.
            query = query.where(
                Cloud.created_at >= created_at,
                or_(Cloud.created_at > created_at, and_(Cloud.created_at == created_at, Cloud.id > cloud_id)),
            )
        if limit is not None:
            query = query.limit(limit)
        with self._reads() as session:
            return list(session.scalars(query))

    def get(self, org: str, cloud_id: str) -> Cloud:
        with self._reads() as session:
            return _existing(session, org, cloud_id)

    def update(
        self,
        org: str,
        cloud_id: str,
        *,
        state: str | None = None,
        resources: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        failure_reason: str | None = UNSET,
    ) -> Cloud:
        """Change what is given. `resources` and `options` are merged key by key (a null option is
        removed); an empty or null `failure_reason` clears it, and so does a move to creating/active."""
        if state is not None:
            _check_choice("state", state, STATES)
        with self._sessions.begin() as session:
            cloud = _existing(session, org, cloud_id, lock=True)
            if resources is not None:
                cloud.resources = merge_resources(cloud.resources, resources)
            if options is not None:
                cloud.options = merge_options(cloud.options, options)
            if state is not None:
                if state in _STATES_CLEARING_FAILURE and failure_reason is UNSET:
                    cloud.failure_reason = None
                cloud.state = state
            if failure_reason is not UNSET:
                cloud.failure_reason = failure_reason or None
            cloud.updated_at = self._clock()
        return cloud

    def store_verification(self, org: str, cloud_id: str, report: Mapping[str, Any]) -> Cloud:
        if not isinstance(report, Mapping):
            raise InputError("verification report must be a JSON object")
        with self._sessions.begin() as session:
            cloud = _existing(session, org, cloud_id, lock=True)
            now = self._clock()
            cloud.last_verification = dict(report)
            cloud.last_verified_at = now
            cloud.updated_at = now
        return cloud

    def set_default(self, org: str, cloud_id: str) -> Cloud:
        """Make this the only default cloud of its organisation, in one transaction."""
        attempts = 3
        for attempt in range(attempts):
            try:
                return self._set_default_once(org, cloud_id)
            except IntegrityError:
                # Two concurrent calls each cleared the old default before either set theirs;
                # the unique index stopped the second one. Try again against the new state.
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _set_default_once(self, org: str, cloud_id: str) -> Cloud:
        with self._sessions.begin() as session:
            cloud = _existing(session, org, cloud_id, lock=True)
            if cloud.is_default:
                return cloud
            now = self._clock()
            session.execute(
                update(Cloud)
                .where(Cloud.org == org, Cloud.is_default.is_(True), Cloud.id != cloud_id)
                .values(is_default=False, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            cloud.is_default = True
            cloud.updated_at = now
        return cloud

    def claim(self, org: str, cloud_id: str, claim: Claim, *, replace: str | None = None) -> Cloud:
        """Mark the cloud as worked on by `claim.owner` (or renew its claim). Refused while another owner's
        claim holds, unless that owner is `replace` (the caller found it gone: a killed process)."""
        claim.validate()
        with self._sessions.begin() as session:
            cloud = _existing(session, org, cloud_id, lock=True)
            now = self._clock()
            holder = cloud.operation_owner
            if holder and holder not in (claim.owner, replace) and not _expired(cloud, now):
                raise Busy(
                    f"cloud {cloud.name!r} ({cloud.id}) is busy: another `{cloud.operation}` is running "
                    f"({holder}); wait until it ends, or run the command again once it has stopped"
                )
            claim.apply(cloud, now)
        return cloud

    def release(self, org: str, cloud_id: str, owner: str) -> Cloud:
        """End `owner`'s claim; a claim another owner holds is left alone."""
        with self._sessions.begin() as session:
            cloud = _existing(session, org, cloud_id, lock=True)
            if cloud.operation_owner == owner:
                cloud.operation = cloud.operation_owner = cloud.operation_expires_at = None
        return cloud

    def delete(self, org: str, cloud_id: str) -> None:
        with self._sessions.begin() as session:
            session.delete(_existing(session, org, cloud_id, lock=True))


class Busy(Conflict):
    """Another command is working on the cloud."""


class Claim:
    """Who works on a cloud and for how long the claim holds without renewal."""

    def __init__(self, operation: str, owner: str, seconds: float) -> None:
        self.operation = operation
        self.owner = owner
        self.seconds = seconds

    def validate(self) -> None:
        if not _OPERATION.fullmatch(self.operation or ""):
            raise InputError(f"invalid operation {self.operation!r}: expected a lowercase word like 'setup'")
        if not self.owner or len(self.owner) > 255 or not self.owner.isprintable():
            raise InputError("invalid claim owner: 1-255 printable characters")
        if not 0 < self.seconds <= MAX_CLAIM_SECONDS:
            raise InputError(f"invalid claim duration {self.seconds!r}: 1 to {MAX_CLAIM_SECONDS} seconds")

    def apply(self, cloud: Cloud, now: datetime) -> None:
        cloud.operation = self.operation
        cloud.operation_owner = self.owner
        cloud.operation_expires_at = now + timedelta(seconds=self.seconds)


def _expired(cloud: Cloud, now: datetime) -> bool:
    expires = cloud.operation_expires_at
    if expires is None:
        return True
    if expires.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        expires = expires.replace(tzinfo=UTC)
    return expires <= now


def merge_resources(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(RESOURCE_KEYS))
    if unknown:
        raise InputError(f"unknown resource key {unknown[0]!r}: expected one of {', '.join(RESOURCE_KEYS)}")
    merged = {key: current.get(key) for key in RESOURCE_KEYS}
    for key, value in changes.items():
        _check_resource_value(key, value)
        merged[key] = list(value) if isinstance(value, list) else value
    return merged


def merge_options(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, Mapping):
        raise InputError("options must be a JSON object")
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_resource_value(key: str, value: Any) -> None:
    if value is None:
        return
    if key in LIST_RESOURCE_KEYS:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InputError(f"resource {key!r} must be a list of strings or null")
    elif not isinstance(value, str):
        raise InputError(f"resource {key!r} must be a string or null")


def _check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        quoted = [repr(choice) for choice in choices]
        expected = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        raise InputError(f"invalid {field} {value!r}: expected {expected}")


def _by_name(session: Session, org: str, name: str) -> Cloud | None:
    return session.scalar(select(Cloud).where(Cloud.org == org, Cloud.name == name))


def _existing(session: Session, org: str, cloud_id: str, *, lock: bool = False) -> Cloud:
    """The organisation's cloud; another organisation's is as absent as one that never existed."""
    query = select(Cloud).where(Cloud.id == cloud_id, Cloud.org == org)
    if lock:
        query = query.with_for_update()  # PostgreSQL row lock; SQLite already holds the write lock
    cloud = session.scalar(query)
    if cloud is None:
        raise NotFound(f"no cloud with id {cloud_id!r}")
    return cloud


def _duplicate(name: str) -> Conflict:
    return Conflict(f"a cloud named {name!r} already exists")
