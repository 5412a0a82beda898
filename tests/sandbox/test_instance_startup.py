"""A launched instance runs its start-up script as cloud-init would: credentials of its own role from IMDSv2,
its S3 calls judged by the role's and the bucket's policies, its output as console output, and killed with
the instance."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import enforce_iam

from .conftest import REGION
from .node_scripts import node_script
from .nodes import build_cloud, console, launch, result, s3_policy, wait_for


def test_the_script_acts_as_the_instance_role_with_nothing_but_imds(client: Any) -> None:
    cloud = build_cloud(client)
    script = node_script(
        """
        import os
        report(BUCKET, {
            "caller": caller_arn(),
            "region": REGION,
            "zone": imds("meta-data/placement/availability-zone"),
            "aws_environment": sorted(k for k in os.environ if k.startswith("AWS_")),
        })
        """,
        BUCKET=cloud.bucket,
    )
    instance_id = launch(client, cloud, script, subnet=1)

    reported = result(client, cloud.bucket, instance_id)

    assert reported["caller"] == f"arn:aws:sts::123456789012:assumed-role/{cloud.role_name}/{instance_id}"
    assert reported["region"] == REGION
    assert reported["zone"] == f"{REGION}b"
    assert reported["aws_environment"] == ["AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL"]


def test_imds_wants_a_token_and_gives_no_credentials_without_a_profile(client: Any) -> None:
    cloud = build_cloud(client)
    # The instance has no role, so the result goes to the bucket through a public-write bucket policy.
    client("s3").put_bucket_policy(
        Bucket=cloud.bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{cloud.bucket}/results/*",
                    }
                ],
            }
        ),
    )
    script = node_script(
        """
        def status(path, token=True):
            headers = {"X-aws-ec2-metadata-token": _TOKEN[0]} if token else {}
            try:
                urllib.request.urlopen(urllib.request.Request(IMDS + "/latest/" + path, headers=headers))
                return 200
            except urllib.error.HTTPError as error:
                return error.code

        body = json.dumps({
            "credentials": status("meta-data/iam/security-credentials/"),
            "without_token": status("meta-data/instance-id", token=False),
        }).encode()
        url = "%s/%s/results/%s.json" % (ENDPOINT, BUCKET, INSTANCE_ID)
        put = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(put)
        """,
        BUCKET=cloud.bucket,
    )
    instance_id = launch(client, cloud, script, profile=False)

    assert result(client, cloud.bucket, instance_id) == {"credentials": 404, "without_token": 401}


def test_a_role_that_does_not_trust_ec2_gets_imds_error_instead_of_credentials(client: Any) -> None:
    trust_lambda = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    cloud = build_cloud(client, trust=trust_lambda)
    script = node_script(
        """
        role = imds("meta-data/iam/security-credentials/").strip()
        print(imds("meta-data/iam/security-credentials/" + role))
        """
    )
    instance_id = launch(client, cloud, script)

    text = wait_for(lambda: console(client, instance_id), what="console output")
    answer = json.loads(text)
    assert answer["Code"] == "AssumeRoleUnauthorizedAccess"
    assert answer["Message"].startswith(f"EC2 cannot assume the role {cloud.role_name}.")
    assert "AccessKeyId" not in answer


@pytest.fixture
def admin(client: Any, sandbox: SandboxServer) -> Iterator[Callable[..., Any]]:
    """Clients of an IAM user allowed everything, for tests that switch IAM enforcement on."""
    iam = client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    session = boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )

    def make(service: str) -> Any:
        return session.client(
            service, region_name=REGION, endpoint_url=sandbox.url, config=Config(retries={"max_attempts": 1})
        )

    yield make
    enforce_iam(sandbox, False)


def test_under_enforcement_the_role_policy_decides_the_scripts_s3_calls(
    client: Any, admin: Callable[..., Any], sandbox: SandboxServer
) -> None:
    bucket = "node-data-bucket"
    cloud = build_cloud(client, role_policy=s3_policy(bucket, ["s3:PutObject"], "results/*"))
    script = node_script(
        """
        status, body = s3("PUT", BUCKET, "data/probe", b"{}")
        report(BUCKET, {"probe": [status, error_code(body)]})
        """,
        BUCKET=bucket,
    )
    enforce_iam(sandbox, True)
    instance_id = launch(admin, cloud, script)

    assert result(admin, bucket, instance_id)["probe"] == [403, "AccessDenied"]


def test_a_bucket_policy_denying_the_instance_role_fails_its_write_with_access_denied(client: Any) -> None:
    cloud = build_cloud(client)
    client("s3").put_bucket_policy(
        Bucket=cloud.bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": cloud.role_arn},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{cloud.bucket}/data/*",
                    }
                ],
            }
        ),
    )
    script = node_script(
        """
        status, body = s3("PUT", BUCKET, "data/probe", b"{}")
        report(BUCKET, {"probe": [status, error_code(body)]})
        """,
        BUCKET=cloud.bucket,
    )
    instance_id = launch(client, cloud, script)

    assert result(client, cloud.bucket, instance_id)["probe"] == [403, "AccessDenied"]
    # The statement names the role only: the account's own callers may still write there.
    client("s3").put_object(Bucket=cloud.bucket, Key="data/probe", Body=b"{}")


def test_console_output_is_what_the_script_printed(client: Any) -> None:
    cloud = build_cloud(client)
    script = "#!/bin/sh\necho starting node\necho to stderr >&2\nexit 3\n"
    instance_id = launch(client, cloud, script)

    text = wait_for(lambda: "to stderr" in console(client, instance_id) and console(client, instance_id))

    assert text == "starting node\nto stderr\n"
    output = client("ec2").get_console_output(InstanceId=instance_id)
    assert output["InstanceId"] == instance_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; /proc tells it apart.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("stop", ["terminate_instances", "stop_instances"])
def test_terminating_or_stopping_the_instance_kills_its_script_and_children(client: Any, stop: str) -> None:
    cloud = build_cloud(client)
    script = node_script(
        """
        import subprocess, time
        child = subprocess.Popen(["sleep", "120"])
        report(BUCKET, {"script": os.getpid(), "child": child.pid})
        time.sleep(120)
        """,
        BUCKET=cloud.bucket,
    )
    instance_id = launch(client, cloud, script)
    pids = result(client, cloud.bucket, instance_id)
    assert _alive(pids["script"]) and _alive(pids["child"])

    getattr(client("ec2"), stop)(InstanceIds=[instance_id])

    wait_for(lambda: not _alive(pids["script"]) and not _alive(pids["child"]), 5, "the script to die")


def test_a_reset_kills_every_script(client: Any, sandbox: SandboxServer) -> None:
    cloud = build_cloud(client)
    script = node_script(
        """
        import time
        report(BUCKET, {"script": os.getpid()})
        time.sleep(120)
        """,
        BUCKET=cloud.bucket,
    )
    pid = result(client, cloud.bucket, launch(client, cloud, script))["script"]

    sandbox.reset()

    wait_for(lambda: not _alive(pid), 5, "the script to die")


def test_run_instances_answers_before_the_script_ends(client: Any) -> None:
    cloud = build_cloud(client)
    started = time.monotonic()
    launch(client, cloud, "#!/bin/sh\nsleep 5\n")
    assert time.monotonic() - started < 2
    assert client("ec2").describe_instances()["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
