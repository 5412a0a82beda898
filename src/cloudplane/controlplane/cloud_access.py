"""How the control plane acts in a customer's account: only through the cloud's cross-account role.

The control plane's own identity (the server's AWS credentials; the user's own in the embedded mode) is
used for one thing, `sts:AssumeRole` on the cloud's role with the cloud's External ID. Every other call goes
out with the temporary credentials that returns, so the customer's trust policy decides what it may do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cloudplane.aws.errors import AwsError, Fault
from cloudplane.errors import InputError, OperationFailed
from cloudplane.revocation import access_revoked, what_to_do

if TYPE_CHECKING:  # boto3 is loaded only once the control plane acts in AWS, not by `cloud list`
    import boto3

    from cloudplane.aws.session import AwsClients

# Temporary credentials are renewed this long before they expire.
_RENEW_MARGIN_SECONDS = 300
SESSION_SECONDS = 3600


class CloudActionFailed(OperationFailed):
    """An AWS call the control plane made through a cloud's role failed."""


class CloudAccess:
    """Sessions in customer accounts, one per cloud, cached until shortly before they expire."""

    def __init__(self, own_session: Callable[[], boto3.session.Session] | None = None) -> None:
        self._own_session = own_session
        self._cache: dict[tuple[str, str, str], tuple[float, AwsClients]] = {}
        self._lock = threading.Lock()

    def clients(self, cloud: dict[str, Any]) -> AwsClients:
        """Clients in the cloud's region acting as its cross-account role."""
        role_arn = (cloud.get("resources") or {}).get("controlplane_role_arn")
        if not role_arn:
            raise InputError(
                f"cloud {cloud['name']!r} has no cross-account role recorded: finish its setup or "
                "registration first"
            )
        key = (cloud["id"], role_arn, cloud["external_id"])
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] - _RENEW_MARGIN_SECONDS > time.time():
            return cached[1]
        expires, clients = self._assume(cloud, role_arn)
        with self._lock:
            self._cache[key] = (expires, clients)
        return clients

    def _assume(self, cloud: dict[str, Any], role_arn: str) -> tuple[float, AwsClients]:
        import boto3

        from cloudplane.aws.session import AwsClients

        own = AwsClients(
            cloud["region"], self._own_session() if self._own_session else boto3.session.Session()
        )
        try:
            answer = own.client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=f"cloudplane-{cloud['id']}"[:64],
                ExternalId=cloud["external_id"],
                DurationSeconds=SESSION_SECONDS,
            )
        except AwsError as exc:
            raise CloudActionFailed(_assume_failed(cloud, role_arn, exc)) from exc
        credentials = answer["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return credentials["Expiration"].timestamp(), AwsClients(cloud["region"], session)


def _assume_failed(cloud: dict[str, Any], role_arn: str, exc: AwsError) -> str:
    name = cloud["name"]
    if exc.fault in (Fault.DENIED, Fault.NOT_FOUND):
        said = f"{exc.code or exc.fault}: {exc.detail}" if exc.detail else str(exc.code or exc.fault)
        return f"{access_revoked(name, role_arn, said)}. {what_to_do(name)}"
    return f"the control plane cannot assume the cross-account role of cloud {name!r}: {exc}"


@contextmanager
def through_role(cloud: dict[str, Any]) -> Iterator[None]:
    """AWS errors of calls made with the cloud's role, said as such: the fix is in the customer's role."""
    try:
        yield
    except AwsError as exc:
        name = cloud["name"]
        if exc.fault is Fault.DENIED:
            advice = (
                f"the cross-account role of cloud {name!r} is not allowed to: run `cloudplane cloud verify "
                f"--name {name}` (and `cloudplane cloud update --name {name}` for a managed cloud)"
            )
        elif exc.transient:
            advice = "AWS did not answer after every retry; nothing was lost: run the same command again"
        else:
            advice = "fix what AWS names and run the same command again"
        where = f" on {exc.resource}" if exc.resource else ""
        said = (
            f"{exc.code}: {exc.detail}" if exc.code and exc.detail else (exc.code or exc.detail or exc.fault)
        )
        raise CloudActionFailed(
            f"AWS call {exc.action}{where} through cloud {name!r}'s role failed: {said}; {advice}"
        ) from exc
