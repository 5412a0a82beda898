"""Running commands as an IAM user the sandbox really checks: its policy decides what AWS allows."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cloudplane.sandbox.server import SandboxServer


def enforce_iam(sandbox: SandboxServer, on: bool) -> None:
    """Switch the sandbox's IAM enforcement on (from the next request) or off."""
    # The body is how many requests stay unchecked: 0 enforces at once, inf switches it off.
    request = urllib.request.Request(
        sandbox.url + "/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@contextmanager
def acting_as(
    sandbox: SandboxServer,
    aws: Callable[..., Any],
    *,
    allow: Sequence[str],
    deny: Sequence[str] = (),
) -> Iterator[str]:
    """Within the block, AWS calls use a fresh IAM user allowed `allow` (and denied `deny`) on every
    resource, with the sandbox enforcing IAM. Yields the user's ARN."""
    statements = [{"Effect": "Allow", "Action": list(allow), "Resource": "*"}]
    if deny:
        statements.append({"Effect": "Deny", "Action": list(deny), "Resource": "*"})
    with acting_with_policy(sandbox, aws, {"Version": "2012-10-17", "Statement": statements}) as arn:
        yield arn


@contextmanager
def acting_with_policy(
    sandbox: SandboxServer, aws: Callable[..., Any], policy: dict[str, Any]
) -> Iterator[str]:
    """Within the block, AWS calls use a fresh IAM user whose only policy is `policy`, with the sandbox
    enforcing IAM. Yields the user's ARN."""
    iam = aws("iam")
    name = "limited-" + secrets.token_hex(4)
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="limited", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
    enforce_iam(sandbox, True)
    try:
        yield user["Arn"]
    finally:
        enforce_iam(sandbox, False)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def checked_permissions(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """Every permission the sandbox checked under IAM enforcement, in order: `{"principal", "action",
    "allowed", "source"}`, the source "request" (the API call) or "cloudformation:<LogicalId>" (a handler)."""
    with urllib.request.urlopen(sandbox.url + "/moto-api/cloudplane/iam-checks", timeout=30) as response:
        return list(json.loads(response.read())["checks"])


def clear_checked_permissions(sandbox: SandboxServer) -> None:
    """Forget the permissions checked so far."""
    request = urllib.request.Request(sandbox.url + "/moto-api/cloudplane/iam-checks", method="DELETE")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
