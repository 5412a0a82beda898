"""The control plane's operations in plain Python: what the CLI calls in-process and the server wraps in HTTP.

Every operation checks its own inputs (a direct caller and an HTTP client alike), raises cloudplane's own
errors, and returns JSON-ready data: the same dicts the HTTP API sends. No web framework, no pydantic.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

from sqlalchemy import Engine

from cloudplane import __version__
from cloudplane.clouds import byo_input as shapes
from cloudplane.controlplane.auth import LOCAL_OPERATOR, Caller, validate_org, validate_token_name
from cloudplane.controlplane.cloud_access import CloudAccess
from cloudplane.controlplane.cluster_store import ClusterStore
from cloudplane.controlplane.paging import DEFAULT_LIMIT, check_limit, decode_cursor, encode_cursor
from cloudplane.controlplane.records import cloud_record, token_record
from cloudplane.controlplane.records import text_field as _text
from cloudplane.controlplane.service_clusters import ClusterOperations
from cloudplane.controlplane.service_functional import FunctionalVerificationOperations
from cloudplane.controlplane.store import UNSET, Claim, CloudStore
from cloudplane.controlplane.token_store import TokenStore
from cloudplane.errors import InputError


class ControlPlaneService(ClusterOperations, FunctionalVerificationOperations):
    """The operations, on behalf of one caller: clouds are those of the caller's organisation. Made
    without a caller it acts as the local organisation's operator (the embedded mode).

    In customer accounts it acts only through each cloud's cross-account role (`access`), assumed with
    the control plane's own AWS identity."""

    def __init__(
        self,
        engine: Engine,
        *,
        caller: Caller = LOCAL_OPERATOR,
        aws_principal: str | None = None,
        access: CloudAccess | None = None,
    ) -> None:
        self.engine = engine
        self.caller = caller
        self.aws_principal = aws_principal
        self._store = CloudStore(engine)
        self._tokens = TokenStore(engine)
        self._clusters = ClusterStore(engine)
        self._access = access or CloudAccess()

    def acting_as(self, caller: Caller) -> ControlPlaneService:
        """The same service, with the same engine and stores (they hold no caller), for another caller.
        A server calls this on every request, so it builds nothing."""
        service = copy.copy(self)
        service.caller = caller
        return service

    @property
    def _org(self) -> str:
        return self.caller.org

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True) -> ControlPlaneService:
        """The service on a database, its schema brought up to date first (a cheap version check when
        it already is)."""
        from cloudplane.controlplane import migrate as migrations
        from cloudplane.controlplane.db import make_engine

        if migrate:
            migrations.upgrade(database_url)
        return cls(make_engine(database_url))

    def close(self) -> None:
        self.engine.dispose()

    # --- clouds ---------------------------------------------------------------------------------

    def create_cloud(
        self,
        *,
        name: str,
        provider: str,
        region: str,
        deployment: str,
        networking: str,
        options: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        resources: Mapping[str, Any] | None = None,
        claim: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        for field, value in (
            ("name", name),
            ("provider", provider),
            ("region", region),
            ("deployment", deployment),
            ("networking", networking),
        ):
            _text(field, value)
        if external_id is not None:
            _text("external_id", external_id)
        cloud = self._store.create(
            self._org,
            name=name,
            provider=provider,
            region=region,
            deployment=deployment,
            networking=networking,
            options=_object("options", options),
            external_id=external_id,
            resources=_shaped(resources),
            claim=_claim(claim) if claim is not None else None,
        )
        return cloud_record(cloud)

    def create_clouds(self, clouds: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Many clouds at once, in one transaction (all or none), each given as `create_cloud`'s keyword
        arguments without `claim`. For operators with the database at hand (imports, load tests); not an
        HTTP route."""
        specs = []
        for given in clouds:
            spec = dict(_object("cloud", given) or {})
            unknown = set(spec) - _CREATE_KEYS
            if unknown:
                raise InputError(
                    f"unknown cloud key {sorted(unknown)[0]!r}: expected {', '.join(sorted(_CREATE_KEYS))}"
                )
            for field in ("name", "provider", "region", "deployment", "networking"):
                _text(field, spec.get(field))
            if spec.get("external_id") is not None:
                _text("external_id", spec["external_id"])
            spec["options"] = _object("options", spec.get("options"))
            spec["resources"] = _shaped(spec.get("resources"))
            specs.append(spec)
        return [cloud_record(cloud) for cloud in self._store.create_many(self._org, specs)]

    def list_clouds(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """Every cloud of the organisation (optionally of one name), in creation order."""
        if name is not None:
            _text("name", name)
        return [cloud_record(cloud) for cloud in self._store.list(self._org, name=name)]

    def list_clouds_page(
        self, *, name: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> dict[str, Any]:
        """Up to `limit` clouds in creation order, from `cursor` (the previous page's `next_cursor`) on:
        {"clouds": [...], "next_cursor": str, or None on the last page}."""
        if name is not None:
            _text("name", name)
        limit = check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        clouds = self._store.list(self._org, name=name, limit=limit + 1, after=after)
        page = clouds[:limit]
        more = len(clouds) > limit
        return {
            "clouds": [cloud_record(cloud) for cloud in page],
            "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        }

    def get_cloud(self, cloud_id: str) -> dict[str, Any]:
        return cloud_record(self._store.get(self._org, _text("cloud id", cloud_id)))

    def _cloud(self, cloud_id: str) -> dict[str, Any]:
        return self.get_cloud(cloud_id)

    def update_cloud(
        self,
        cloud_id: str,
        *,
        state: str | None = None,
        resources: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        failure_reason: str | None = UNSET,
    ) -> dict[str, Any]:
        """Change what is given: resources and options merge key by key (a null option is removed);
        failure_reason None or "" clears it, leaving it out (UNSET) keeps it."""
        if state is not None:
            _text("state", state)
        if failure_reason is not UNSET and failure_reason is not None:
            _text("failure_reason", failure_reason)
        cloud = self._store.update(
            self._org,
            _text("cloud id", cloud_id),
            state=state,
            resources=_shaped(resources),
            options=_object("options", options),
            failure_reason=failure_reason,
        )
        return cloud_record(cloud)

    def store_verification(self, cloud_id: str, report: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(report, Mapping):
            raise InputError("report: the verification report must be a JSON object")
        return cloud_record(self._store.store_verification(self._org, _text("cloud id", cloud_id), report))

    def set_default(self, cloud_id: str) -> dict[str, Any]:
        cloud_id = _text("cloud id", cloud_id)
        self.caller.require_admin("setting the default cloud")
        return cloud_record(self._store.set_default(self._org, cloud_id))

    def claim_cloud(
        self, cloud_id: str, *, operation: str, owner: str, seconds: float, replace: str | None = None
    ) -> dict[str, Any]:
        claim = _claim({"operation": operation, "owner": owner, "seconds": seconds})
        if replace is not None:
            _text("replace", replace)
        return cloud_record(self._store.claim(self._org, _text("cloud id", cloud_id), claim, replace=replace))

    def release_cloud(self, cloud_id: str, owner: str) -> dict[str, Any]:
        return cloud_record(
            self._store.release(self._org, _text("cloud id", cloud_id), _text("owner", owner))
        )

    def delete_cloud(self, cloud_id: str) -> None:
        self._store.delete(self._org, _text("cloud id", cloud_id))

    # --- organisations and tokens ---------------------------------------------------------------

    def create_token(
        self, *, org: str | None = None, name: str | None = None, admin: bool = False
    ) -> dict[str, Any]:
        """A new token of `org` (default: the caller's); its secret is in the answer, and nowhere else."""
        if org is not None:
            validate_org(org)
        name = validate_token_name(name) if name is not None else "token-" + secrets.token_hex(3)
        if not isinstance(admin, bool):
            raise InputError(f"admin must be true or false, not {type(admin).__name__}")
        token, secret = self._tokens.create(self.caller.org_for_tokens(org), name, admin=admin)
        return {**token_record(token), "token": secret}

    def list_tokens(self, *, org: str | None = None) -> list[dict[str, Any]]:
        """The tokens of `org`; without it, the caller's organisation's (every organisation's for an operator)."""
        if org is not None:
            validate_org(org)
        scope = self.caller.org_for_tokens(org)
        if org is None and self.caller.operator:
            scope = None
        return [token_record(token) for token in self._tokens.list(scope)]

    def revoke_token(self, name: str, *, org: str | None = None) -> dict[str, Any]:
        validate_token_name(name)
        if org is not None:
            validate_org(org)
        return token_record(self._tokens.revoke(self.caller.org_for_tokens(org), name))

    def authenticate(self, secret: str) -> Caller:
        """The caller a bearer token's secret stands for (Unauthorized when unknown or revoked)."""
        return self._tokens.authenticate(_text("token", secret))

    # --- about the control plane ----------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    def info(self) -> dict[str, Any]:
        """What clients need to know: the AWS principal customer roles must trust (null: the caller's
        own account, as in the embedded mode)."""
        return {"version": __version__, "aws_principal": self.aws_principal}


def _object(field: str, value: Any) -> Mapping[str, Any] | None:
    if value is not None and not isinstance(value, Mapping):
        raise InputError(f"{field} must be a JSON object, not {type(value).__name__}")
    return value


def _shaped(resources: Any) -> Mapping[str, Any] | None:
    checked = _object("resources", resources)
    _check_resource_shapes(checked)
    return checked


def _claim(body: Mapping[str, Any]) -> Claim:
    if not isinstance(body, Mapping):
        raise InputError("claim must be a JSON object")
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, Real):
        raise InputError("claim seconds must be a number")
    return Claim(_text("operation", body.get("operation")), _text("owner", body.get("owner")), float(seconds))


_CREATE_KEYS = frozenset(
    {"name", "provider", "region", "deployment", "networking", "options", "external_id", "resources"}
)
_STACK_ARN = re.compile(
    r"arn:aws:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/[a-zA-Z][-a-zA-Z0-9]{0,127}/[-0-9a-f]+"
)
# resource key -> the shape check of one value (the same checks `cloud register` makes)
_SHAPE_CHECKS: dict[str, Callable[[str, str, shapes.Mistakes], Any]] = {
    "vpc_id": lambda flag, value, m: shapes.check_id("vpc", flag, value, m),
    "subnet_ids": lambda flag, value, m: shapes.check_id("subnet", flag, value, m),
    "security_group_ids": lambda flag, value, m: shapes.check_id("security group", flag, value, m),
    "efs_id": lambda flag, value, m: shapes.check_id("EFS", flag, value, m),
    "efs_mount_target_ips": shapes.check_ipv4,
    "controlplane_role_arn": shapes.check_role_arn,
    "instance_role_arn": shapes.check_role_arn,
    "s3_bucket_id": shapes.normalise_bucket,
    "memorydb_cluster_id": shapes.check_memorydb_name,
}


def _check_resource_shapes(resources: Mapping[str, Any] | None) -> None:
    """Every id and ARN of the right shape, as the CLI checks them: the API has other clients too. Values of
    the wrong type are left to the store, which names them."""
    if not resources:
        return
    mistakes = shapes.Mistakes()
    for key, value in resources.items():
        flag = f"resources.{key}"
        if key == "cloudformation_stack_id" and isinstance(value, str):
            if not _STACK_ARN.fullmatch(value):
                mistakes.add(
                    f"{flag}: {value!r} is not a CloudFormation stack id (arn:aws:cloudformation:...)"
                )
            continue
        check = _SHAPE_CHECKS.get(key)
        values = value if isinstance(value, list) else [value]
        if check is None or not all(isinstance(item, str) for item in values):
            continue
        for item in values:
            check(flag, item, mistakes)
    mistakes.raise_if_any()
