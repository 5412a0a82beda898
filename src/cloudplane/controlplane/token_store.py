"""Organisations and their tokens in the database. A token's secret is never stored, only its SHA-256."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloudplane.controlplane.auth import Caller, Unauthorized, looks_like_secret, new_secret, secret_sha256
from cloudplane.controlplane.db import read_sessions, session_factory
from cloudplane.controlplane.models import Organisation, Token
from cloudplane.errors import Conflict, NotFound

# last_used_at is a hint, not an audit log: written at most this often per token, so that reads stay reads.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utcnow) -> None:
        self._sessions = session_factory(engine)
        self._reads = read_sessions(engine)
        self._clock = clock

    def create(self, org: str, name: str, *, admin: bool) -> tuple[Token, str]:
        """A new token and its secret (the only time the secret exists outside the caller's hands)."""
        self._ensure_org(org)
        secret = new_secret()
        token = Token(
            id="tok_" + secrets.token_hex(10),
            org=org,
            name=name,
            admin=admin,
            secret_sha256=secret_sha256(secret),
            created_at=self._clock(),
            revoked_at=None,
            last_used_at=None,
        )
        try:
            with self._sessions.begin() as session:
                if _live(session, org, name) is not None:
                    raise _duplicate(org, name)
                session.add(token)
        except IntegrityError:
            with self._reads() as session:  # lost a race with another create of this name
                if _live(session, org, name) is not None:
                    raise _duplicate(org, name) from None
            raise
        return token, secret

    def list(self, org: str | None) -> list[Token]:
        query = select(Token).order_by(Token.org, Token.created_at, Token.id)
        if org is not None:
            query = query.where(Token.org == org)
        with self._reads() as session:
            return list(session.scalars(query))

    def revoke(self, org: str, name: str) -> Token:
        with self._sessions.begin() as session:
            token = _live(session, org, name, lock=True)
            if token is None:
                raise NotFound(f"no live token named {name!r} in organisation {org!r}")
            token.revoked_at = self._clock()
        return token

    def authenticate(self, secret: str) -> Caller:
        """The caller a secret stands for; Unauthorized if it is unknown or revoked."""
        if not looks_like_secret(secret):
            raise Unauthorized("the token is not a cloudplane token")
        digest = secret_sha256(secret)
        with self._reads() as session:
            token = session.scalar(select(Token).where(Token.secret_sha256 == digest))
        if token is None:
            raise Unauthorized("the token is not valid for this control plane")
        if token.revoked_at is not None:
            raise Unauthorized(f"the token {token.name!r} of organisation {token.org!r} was revoked")
        now = self._clock()
        if token.last_used_at is None or _aware(token.last_used_at) + _LAST_USED_RESOLUTION <= now:
            with self._sessions.begin() as session:
                row = session.get(Token, token.id)
                if row is not None:
                    row.last_used_at = now
        return Caller(org=token.org, name=token.name, admin=token.admin)

    def _ensure_org(self, org: str) -> None:
        with self._reads() as session:
            if session.get(Organisation, org) is not None:
                return
        try:
            with self._sessions.begin() as session:
                session.add(Organisation(name=org, created_at=self._clock()))
        except IntegrityError:
            pass  # made at the same moment by another call


def _live(session: Session, org: str, name: str, *, lock: bool = False) -> Token | None:
    query = select(Token).where(Token.org == org, Token.name == name, Token.revoked_at.is_(None))
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _duplicate(org: str, name: str) -> Conflict:
    return Conflict(
        f"organisation {org!r} already has a live token named {name!r}; revoke it or pick another name"
    )
