"""Who calls the control plane: callers, token secrets and their hashes, the auth errors.

Light on purpose (no SQLAlchemy, no web framework): the HTTP client raises these errors too.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from cloudplane.errors import InputError

TOKEN_PREFIX = "cpt_"
LOCAL_ORG = "local"
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_SECRET = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}", re.ASCII)


class Unauthorized(InputError):
    """No token, or one the control plane does not accept (HTTP 401)."""


class Forbidden(InputError):
    """A valid token that may not do this (HTTP 403)."""


@dataclass(frozen=True)
class Caller:
    """Who makes a call: a token's organisation, name and admin flag. `operator` is someone with the
    database itself (the embedded mode, `token create` without a server): admin of every organisation."""

    org: str
    name: str
    admin: bool
    operator: bool = False

    def require_admin(self, what: str) -> None:
        if not self.admin:
            raise Forbidden(f"{what} needs an admin token of organisation {self.org!r}")

    def org_for_tokens(self, org: str | None) -> str:
        """The organisation whose tokens this caller manages: its own unless it is an operator."""
        self.require_admin("managing tokens")
        if org is None or org == self.org:
            return self.org
        if not self.operator:
            raise Forbidden(
                f"a token of organisation {self.org!r} cannot manage the tokens of organisation {org!r}"
            )
        return org


# The embedded mode: the local organisation's admin, with the database at hand.
LOCAL_OPERATOR = Caller(org=LOCAL_ORG, name="local", admin=True, operator=True)


def bearer_secret(authorization: str) -> str:
    """The token secret of an `Authorization: Bearer <token>` header's value; Unauthorized otherwise."""
    scheme, _, secret = authorization.partition(" ")
    if not scheme:
        raise Unauthorized("this control plane needs a token: send Authorization: Bearer <token>")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("expected Authorization: Bearer <token>")
    return secret.strip()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_secret(secret: str) -> bool:
    return bool(_SECRET.fullmatch(secret))


def validate_org(org: object) -> str:
    return _name("organisation", org)


def validate_token_name(name: object) -> str:
    return _name("token name", name)


def _name(what: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        shown = repr(value)[:80] if isinstance(value, str) else type(value).__name__
        raise InputError(
            f"invalid {what} {shown}: use 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value
