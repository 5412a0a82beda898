"""IAM read-after-write delay: for a while after a write, reads show the entity as it was."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer

Client = Callable[..., Any]
ROLE = "delayed"


def _trust(principal: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _policy(action: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _principal(iam: Any) -> str:
    return iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]


@pytest.fixture
def iam(sandbox: SandboxServer, client: Client) -> Any:
    iam = client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_trust("arn:aws:iam::123456789012:root"))
    iam.put_role_policy(RoleName=ROLE, PolicyName="kept", PolicyDocument=_policy("s3:GetObject"))
    iam.create_instance_profile(InstanceProfileName=ROLE)
    return iam


def test_without_a_delay_reads_see_every_write(iam: Any) -> None:
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust("*"))
    assert _principal(iam) == "*"


def test_reads_show_the_previous_state_for_the_delay(sandbox: SandboxServer, iam: Any) -> None:
    sandbox.set_iam_delay(600)
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust("*"))
    iam.put_role_policy(RoleName=ROLE, PolicyName="kept", PolicyDocument=_policy("s3:PutObject"))
    iam.put_role_policy(RoleName=ROLE, PolicyName="new", PolicyDocument=_policy("s3:*"))
    iam.add_role_to_instance_profile(InstanceProfileName=ROLE, RoleName=ROLE)
    written = time.monotonic()

    assert _principal(iam) == "arn:aws:iam::123456789012:root"
    kept = iam.get_role_policy(RoleName=ROLE, PolicyName="kept")["PolicyDocument"]
    assert kept["Statement"][0]["Action"] == "s3:GetObject"
    with pytest.raises(ClientError) as missing:
        iam.get_role_policy(RoleName=ROLE, PolicyName="new")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    assert iam.get_instance_profile(InstanceProfileName=ROLE)["InstanceProfile"]["Roles"] == []

    time.sleep(max(0.0, written + 0.7 - time.monotonic()))
    assert _principal(iam) == "*"
    assert iam.get_role_policy(RoleName=ROLE, PolicyName="new")["PolicyName"] == "new"
    assert len(iam.get_instance_profile(InstanceProfileName=ROLE)["InstanceProfile"]["Roles"]) == 1


def test_reset_makes_iam_consistent_again(sandbox: SandboxServer, client: Client, iam: Any) -> None:
    sandbox.set_iam_delay(30_000)
    sandbox.reset()
    iam = client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_trust("arn:aws:iam::123456789012:root"))
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust("*"))
    assert _principal(iam) == "*"


def test_a_bad_delay_is_refused(moto_api: Callable[..., Any]) -> None:
    with pytest.raises(Exception, match="400"):
        moto_api("POST", "cloudplane/iam-consistency", {"delay_ms": -1})
    assert moto_api("GET", "cloudplane/iam-consistency") == {"delay_ms": 0}
