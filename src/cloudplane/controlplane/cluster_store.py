"""Cluster records: their persistence and the rules they obey. No AWS and no HTTP here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudplane.controlplane.db import session_factory
from cloudplane.controlplane.models import CLUSTER_KINDS, CLUSTER_STATES, Cluster
from cloudplane.controlplane.store import utcnow
from cloudplane.errors import Conflict, InputError, NotFound
from cloudplane.naming import new_cluster_id, validate_cluster_name

# States from which a cluster can no longer change.
FINAL_STATES = frozenset({"terminated", "failed"})


class ClusterStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = session_factory(engine)
        self._clock = clock

    def reserve(
        self, org: str, *, cloud_id: str, name: str, kind: str, compute_config: Mapping[str, Any] | None
    ) -> Cluster:
        """A new cluster in `pending`, before anything is launched: the name is taken from here on."""
        validate_cluster_name(name)
        if kind not in CLUSTER_KINDS:
            raise InputError(
                f"invalid cluster kind {kind!r}: expected {' or '.join(map(repr, CLUSTER_KINDS))}"
            )
        now = self._clock()
        cluster = Cluster(
            id=new_cluster_id(),
            org=org,
            cloud_id=cloud_id,
            name=name,
            kind=kind,
            state="pending",
            instances=[],
            compute_config=dict(compute_config) if compute_config else None,
            failure_reason=None,
            created_at=now,
            updated_at=now,
            terminated_at=None,
        )
        try:
            with self._sessions.begin() as session:
                if _live_by_name(session, org, name) is not None:
                    raise _duplicate(name)
                session.add(cluster)
        except IntegrityError:
            with self._sessions() as session:
                if _live_by_name(session, org, name) is not None:
                    raise _duplicate(name) from None
            raise
        return cluster

    def list(
        self, org: str, *, cloud_id: str | None = None, include_terminated: bool = True
    ) -> list[Cluster]:
        query = select(Cluster).where(Cluster.org == org).order_by(Cluster.created_at, Cluster.id)
        if cloud_id is not None:
            query = query.where(Cluster.cloud_id == cloud_id)
        if not include_terminated:
            query = query.where(Cluster.terminated_at.is_(None))
        with self._sessions() as session:
            return list(session.scalars(query))

    def get(self, org: str, cluster_id: str) -> Cluster:
        with self._sessions() as session:
            return _existing(session, org, cluster_id)

    def find(self, org: str, name: str) -> Cluster:
        """The live cluster of this name, or else the latest terminated one."""
        with self._sessions() as session:
            cluster = _live_by_name(session, org, name) or session.scalar(
                select(Cluster)
                .where(Cluster.org == org, Cluster.name == name)
                .order_by(Cluster.created_at.desc())
                .limit(1)
            )
        if cluster is None:
            raise NotFound(f"no cluster named {name!r}")
        return cluster

    def record(
        self,
        org: str,
        cluster_id: str,
        *,
        state: str | None = None,
        instances: Sequence[Mapping[str, Any]] | None = None,
        failure_reason: str | None = None,
    ) -> Cluster:
        """Store what AWS says of the cluster now. A final state frees the name for a new cluster."""
        if state is not None and state not in CLUSTER_STATES:
            raise InputError(f"invalid cluster state {state!r}")
        with self._sessions.begin() as session:
            cluster = _existing(session, org, cluster_id, lock=True)
            now = self._clock()
            if instances is not None:
                cluster.instances = [dict(instance) for instance in instances]
            if state is not None and cluster.state not in FINAL_STATES:
                cluster.state = state
                if state in FINAL_STATES and cluster.terminated_at is None:
                    cluster.terminated_at = now
            if failure_reason is not None:
                cluster.failure_reason = failure_reason or None
            cluster.updated_at = now
        return cluster


def _live_by_name(session: Session, org: str, name: str) -> Cluster | None:
    return session.scalar(
        select(Cluster).where(Cluster.org == org, Cluster.name == name, Cluster.terminated_at.is_(None))
    )


def _existing(session: Session, org: str, cluster_id: str, *, lock: bool = False) -> Cluster:
    query = select(Cluster).where(Cluster.id == cluster_id, Cluster.org == org)
    if lock:
        query = query.with_for_update()
    cluster = session.scalar(query)
    if cluster is None:
        raise NotFound(f"no cluster with id {cluster_id!r}")
    return cluster


def _duplicate(name: str) -> Conflict:
    return Conflict(f"a cluster named {name!r} is already live; terminate it or choose another name")
