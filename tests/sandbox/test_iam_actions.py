"""Under IAM enforcement, policies name the tagging API's actions as AWS does: `tag:GetResources`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import enforce_iam

from .conftest import REGION


@pytest.fixture
def allowed(client: Any, sandbox: SandboxServer) -> Iterator[Callable[[str], Any]]:
    """allowed(action): a tagging client of a new IAM user whose only policy allows `action`."""
    iam = client("iam")
    made: list[str] = []

    def make(action: str) -> Any:
        name = f"tagger-{len(made)}"
        made.append(name)
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName="tagging",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        ).client(
            "resourcegroupstaggingapi",
            region_name=REGION,
            endpoint_url=sandbox.url,
            config=Config(retries={"max_attempts": 1}),
        )

    yield make
    enforce_iam(sandbox, False)


@pytest.mark.parametrize("action", ["tag:GetResources", "tag:*"])
def test_a_policy_allowing_tag_get_resources_allows_it(
    client: Any, allowed: Callable[[str], Any], sandbox: SandboxServer, action: str
) -> None:
    client("ec2").create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "team", "Value": "a"}]}
    ])  # fmt: skip
    tagging = allowed(action)
    enforce_iam(sandbox, True)

    found = tagging.get_resources(TagFilters=[{"Key": "team", "Values": ["a"]}])["ResourceTagMappingList"]

    assert [item["ResourceARN"].split(":")[2] for item in found] == ["ec2"]


def test_the_signing_name_tagging_is_no_iam_prefix(
    allowed: Callable[[str], Any], sandbox: SandboxServer
) -> None:
    tagging = allowed("tagging:GetResources")
    enforce_iam(sandbox, True)

    with pytest.raises(ClientError) as denied:
        tagging.get_resources()

    # moto answers JSON services' denials in IAM's XML, so botocore reports the HTTP status as the code.
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "is not authorized to perform: tag:GetResources" in str(denied.value)
