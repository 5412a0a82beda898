"""AWS behaviours the emulator did not have, now enforced by the sandbox: the commands cope with them.

- IAM is eventually consistent: right after UpdateAssumeRolePolicy, GetRole may show the old document.
- An opt-in region the account has not enabled refuses every credential at its own endpoints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from cloudplane.aws import regions
from cloudplane.aws.session import AwsClients
from cloudplane.clouds.trust import TrustChange, requires_external_id
from cloudplane.errors import InputError, OperationFailed
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import clouds, customer_cloud, get, register, trust_of
from tests.helpers import cloudplane

Factory = Callable[..., Any]
WAITING = "Waiting for IAM to show"
DISABLED = "ap-east-1"


# -- IAM read-after-write ------------------------------------------------------------------------------


def test_register_waits_until_iam_shows_the_new_trust_policy(aws_env: SandboxServer, aws: Factory) -> None:
    built = customer_cloud(aws)
    aws_env.set_iam_delay(1500)
    run = register(built, "--yes")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert f"{WAITING} the new trust policy of {built.cp_role}" in run.stderr
    cloud = get()
    assert cloud["state"] == "active" and cloud["last_verification"]["passed"] is True
    assert requires_external_id(trust_of(aws, built.cp_role), cloud["external_id"])


def test_a_failed_register_waits_until_iam_shows_the_restored_trust(
    aws_env: SandboxServer, aws: Factory
) -> None:
    built = customer_cloud(aws)
    before = trust_of(aws, built.cp_role)
    aws("ec2").revoke_security_group_ingress(
        GroupId=built.sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    aws_env.set_iam_delay(1500)
    run = register(built, "--yes")
    assert run.exit_code == 1
    assert "SG-2" in run.stdout and "IAM-3" not in run.stdout
    assert f"{WAITING} the restored trust policy" in run.stderr
    assert "put back as it was" in run.stderr
    # Read at once: a register that did not wait would leave IAM showing its edit for a while yet.
    assert trust_of(aws, built.cp_role) == before
    assert clouds() == []


def test_without_a_delay_register_does_not_wait(aws_env: SandboxServer, aws: Factory) -> None:
    built = customer_cloud(aws)
    run = register(built, "--yes")
    assert run.exit_code == 0, run.stderr
    assert WAITING not in run.stderr


def _change(aws: Factory) -> tuple[AwsClients, TrustChange, dict[str, Any]]:
    built = customer_cloud(aws)
    clients = AwsClients("us-west-2")
    original = trust_of(aws, built.cp_role)
    required = {"StringEquals": {"sts:ExternalId": "x-1"}}
    updated = {**original, "Statement": [{**s, "Condition": required} for s in original["Statement"]]}
    return clients, TrustChange(clients, built.cp_role, original, "x-1", updated), updated


def test_the_wait_ends_at_the_first_read_that_shows_the_change(aws_env: SandboxServer, aws: Factory) -> None:
    clients, change, updated = _change(aws)
    aws("iam").update_assume_role_policy(
        RoleName=change.role_arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(updated)
    )
    said: list[str] = []
    change.wait_until_visible(said.append)
    assert said == [] and clients.calls() == {"iam:GetRole": 1}

    aws_env.set_iam_delay(700)
    started = time.monotonic()
    assert change.revert(said.append) is True
    assert 0.6 <= time.monotonic() - started < 3 and len(said) == 1


def test_a_change_iam_never_shows_fails_after_a_bounded_wait(
    aws_env: SandboxServer, aws: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, change, _ = _change(aws)  # never written: IAM keeps showing the original
    monkeypatch.setattr("cloudplane.clouds.trust.TRUST_WAIT_SECONDS", 0.5)
    with pytest.raises(OperationFailed, match="still shows the old trust policy"):
        change.wait_until_visible()


# -- opt-in regions --------------------------------------------------------------------------------------


def test_setup_in_a_disabled_region_is_refused_before_anything_is_made(
    aws_env: SandboxServer, aws: Factory
) -> None:
    aws_env.set_disabled_regions([DISABLED])
    run = cloudplane("cloud", "setup", "--name", "hk", "--region", DISABLED, "--yes")
    assert run.exit_code == 2, run.stderr
    assert f"region {DISABLED} is not enabled for this AWS account" in run.stderr
    assert "credentials" not in run.stderr.lower()
    assert clouds() == []
    aws_env.set_disabled_regions([])
    assert aws("cloudformation", region_name=DISABLED).list_stacks()["StackSummaries"] == []
    assert all(v["IsDefault"] for v in aws("ec2", region_name=DISABLED).describe_vpcs()["Vpcs"])


def test_register_in_a_disabled_region_is_refused(aws_env: SandboxServer, aws: Factory) -> None:
    built = customer_cloud(aws)
    aws_env.set_disabled_regions([DISABLED])
    run = register(built, "--yes", **{"--region": DISABLED})
    assert run.exit_code == 2, run.stderr
    assert f"region {DISABLED} is not enabled" in run.stderr
    assert "credentials" not in run.stderr.lower()
    assert clouds() == []


def test_region_checks_cost_at_most_one_call(aws_env: SandboxServer) -> None:
    default = AwsClients("us-west-2")
    regions.check_region_enabled(default, "us-west-2")
    assert default.calls() == {}  # a default region cannot be disabled: nothing to ask
    opt_in = AwsClients("af-south-1")
    regions.check_region_enabled(opt_in, "af-south-1")
    assert opt_in.calls() == {"ec2:DescribeRegions": 1}
    aws_env.set_disabled_regions(["af-south-1"])
    with pytest.raises(InputError, match="af-south-1 is not enabled"):
        regions.check_region_enabled(AwsClients("af-south-1"), "af-south-1")


@pytest.mark.parametrize("enabled", [True, False])
def test_when_us_east_1_may_not_be_asked_the_region_itself_answers(
    aws_env: SandboxServer, enabled: bool
) -> None:
    asked: list[str] = []

    def scp(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """An SCP limiting the account to its own regions: us-east-1 refuses DescribeRegions."""
        asked.append(kwargs["context"]["client_region"])
        if asked[-1] != "us-east-1":
            return None
        body = {
            "Error": {
                "Code": "UnauthorizedOperation",
                "Message": "explicit deny in a service control policy",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse(url="", status_code=403, headers={}, raw=None), body

    session = boto3.session.Session()
    session.events.register("before-call.ec2.DescribeRegions", scp)
    clients = AwsClients(DISABLED, session=session)
    if not enabled:
        aws_env.set_disabled_regions([DISABLED])
    assert clients.caller_identity()["Account"]  # asked of us-east-1: answers either way
    if enabled:
        regions.check_region_enabled(clients, DISABLED)
    else:
        with pytest.raises(InputError, match="is not enabled"):
            regions.check_region_enabled(clients, DISABLED)
    assert asked == ["us-east-1", DISABLED]
