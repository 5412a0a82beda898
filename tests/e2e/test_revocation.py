"""A customer takes cloudplane's access away (deletes the cross-account role, or removes its trust): verify
and cluster launch say so in the same plain words, and the cloud can still be forgotten."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.verify.context import role_name
from tests.helpers import cloudplane
from tests.verify.builders import BuiltCloud, build_cloud, record_in

REVOKED = "cloudplane's access to cloud demo is revoked"


@pytest.fixture
def registered(aws: Callable[..., Any]) -> BuiltCloud:
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, efs=False, azs=2)
    with ControlPlaneClient.embedded() as client:
        record_in(client, built)
    assert cloudplane("cloud", "verify", "--name", "demo").exit_code == 0
    return built


def _delete_role(aws: Callable[..., Any], arn: str) -> None:
    iam = aws("iam")
    name = role_name(arn)
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _remove_trust(aws: Callable[..., Any], arn: str) -> None:
    only_ec2 = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    aws("iam").update_assume_role_policy(RoleName=role_name(arn), PolicyDocument=json.dumps(only_ec2))


@pytest.mark.parametrize("revoke", [_delete_role, _remove_trust], ids=["role-deleted", "trust-removed"])
def test_revoked_access_is_said_plainly_and_the_cloud_can_still_be_forgotten(
    registered: BuiltCloud, aws: Callable[..., Any], revoke: Callable[..., None]
) -> None:
    revoke(aws, registered.cp_role)

    verified = cloudplane("cloud", "verify", "--name", "demo", "--output", "json")
    assert verified.exit_code == 1
    [finding] = [f for f in verified.json()["findings"] if f["check"] == "IAM-11"]
    assert not finding["passed"] and finding["message"].startswith(REVOKED)
    assert "cloudplane cloud delete --name demo" in finding["remediation"]

    launched = cloudplane("cluster", "launch", "--cloud", "demo", "--name", "ws1")
    assert launched.exit_code == 1
    assert REVOKED in launched.stderr and "Traceback" not in launched.stderr
    assert aws("ec2").describe_instances()["Reservations"] == []

    deleted = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
