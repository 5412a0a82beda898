"""Functional-verification runs: their persistence, the lease that lets one caller at a time move a run on,
and the report a finished run leaves on its cloud. No AWS and no HTTP here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from cloudplane.controlplane.db import session_factory
from cloudplane.controlplane.models import FUNCTIONAL_VERIFICATION_STATES, Cloud, FunctionalVerification
from cloudplane.controlplane.store import utcnow
from cloudplane.errors import InputError, NotFound


class FunctionalVerificationStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = session_factory(engine)
        self._clock = clock

    def create(
        self,
        org: str,
        *,
        run_id: str,
        cloud_id: str,
        targets: Sequence[Mapping[str, Any]],
        deadlines: Mapping[str, float],
        lease_owner: str,
        lease_seconds: float,
    ) -> FunctionalVerification:
        """A new running run, leased to its creator (who launches its nodes next)."""
        now = self._clock()
        run = FunctionalVerification(
            id=run_id,
            org=org,
            cloud_id=cloud_id,
            state="running",
            targets=[dict(target) for target in targets],
            deadlines=dict(deadlines),
            created_at=now,
            updated_at=now,
            aborted_at=None,
            finished_at=None,
            lease_owner=lease_owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
        )
        with self._sessions.begin() as session:
            session.add(run)
        return run

    def get(self, org: str, run_id: str) -> FunctionalVerification:
        with self._sessions() as session:
            return _existing(session, org, run_id)

    def take_lease(self, org: str, run_id: str, owner: str, seconds: float) -> bool:
        """Take the run for `seconds` unless another caller holds it; one UPDATE, so two callers never both
        get it (on SQLite and PostgreSQL alike)."""
        now = self._clock()
        with self._sessions.begin() as session:
            _existing(session, org, run_id)
            taken = session.execute(
                update(FunctionalVerification)
                .where(
                    FunctionalVerification.id == run_id,
                    FunctionalVerification.org == org,
                    or_(
                        FunctionalVerification.lease_owner.is_(None),
                        FunctionalVerification.lease_owner == owner,
                        FunctionalVerification.lease_expires_at < now,
                    ),
                )
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
            )
            return bool(taken.rowcount)

    def save(
        self,
        org: str,
        run_id: str,
        owner: str,
        *,
        state: str,
        targets: Sequence[Mapping[str, Any]],
        report: Callable[[FunctionalVerification], Mapping[str, Any]] | None = None,
    ) -> FunctionalVerification:
        """Store what the lease holder did and give the lease back. A final state ends the run, and the
        cloud keeps `report(run)` as its last functional verification, in the same transaction."""
        if state not in FUNCTIONAL_VERIFICATION_STATES:
            raise InputError(f"invalid functional verification state {state!r}")
        with self._sessions.begin() as session:
            run = _existing(session, org, run_id, lock=True)
            now = self._clock()
            run.targets = [dict(target) for target in targets]
            run.updated_at = now
            if run.finished_at is None:
                run.state = state
                if state != "running":
                    run.finished_at = now
                    if report is not None:
                        _store_report(session, run.cloud_id, report(run), now)
            if run.lease_owner == owner:
                run.lease_owner = None
                run.lease_expires_at = None
        return self.get(org, run_id)

    def request_abort(self, org: str, run_id: str) -> FunctionalVerification:
        """Mark the run to be aborted: whoever advances it next stops it and cleans up."""
        with self._sessions.begin() as session:
            run = _existing(session, org, run_id, lock=True)
            if run.aborted_at is None and run.finished_at is None:
                run.aborted_at = self._clock()
        return self.get(org, run_id)


def _store_report(session: Session, cloud_id: str, report: Mapping[str, Any], now: datetime) -> None:
    session.execute(
        update(Cloud)
        .where(Cloud.id == cloud_id)
        .values(last_functional_verification=dict(report), last_functional_verified_at=now)
    )


def _existing(session: Session, org: str, run_id: str, *, lock: bool = False) -> FunctionalVerification:
    query = select(FunctionalVerification).where(
        FunctionalVerification.id == run_id, FunctionalVerification.org == org
    )
    if lock:
        query = query.with_for_update()
    run = session.scalar(query)
    if run is None:
        raise NotFound(f"no functional verification with id {run_id!r}")
    return run
