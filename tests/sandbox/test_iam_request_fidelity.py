"""Under IAM enforcement the sandbox checks requests as AWS does: EFS's reads can be signed at all, JSON
services refuse in JSON, and S3 names its bucket sub-resources' actions as IAM does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import checked_permissions, clear_checked_permissions, enforce_iam

from .conftest import REGION


@pytest.fixture
def holding(client: Any, sandbox: SandboxServer) -> Iterator[Callable[[list[str]], Callable[[str], Any]]]:
    """holding(actions)(service): a client of a new IAM user allowed only `actions`, IAM enforced."""
    iam = client("iam")
    made: list[str] = []

    def make(actions: list[str]) -> Callable[[str], Any]:
        name = f"user-{len(made)}"
        made.append(name)
        iam.create_user(UserName=name)
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        session = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        enforce_iam(sandbox, True)
        clear_checked_permissions(sandbox)
        return lambda service: session.client(
            service, region_name=REGION, endpoint_url=sandbox.url, config=Config(retries={"max_attempts": 1})
        )

    yield make
    enforce_iam(sandbox, False)


def test_efs_reads_pass_the_signature_check_and_are_decided_by_policy(
    client: Any, holding: Callable[[list[str]], Callable[[str], Any]]
) -> None:
    fs_id = client("efs").create_file_system(CreationToken="one")["FileSystemId"]
    allowed = holding(["elasticfilesystem:DescribeFileSystems"])("efs")

    assert [fs["FileSystemId"] for fs in allowed.describe_file_systems()["FileSystems"]] == [fs_id]
    with pytest.raises(ClientError) as denied:
        allowed.describe_mount_targets(FileSystemId=fs_id)
    # AWS's answer for a JSON service: AccessDeniedException naming the action, not IAM's XML.
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "elasticfilesystem:DescribeMountTargets" in denied.value.response["Error"]["Message"]


def test_a_json_service_refuses_with_access_denied_exception(
    holding: Callable[[list[str]], Callable[[str], Any]],
) -> None:
    memorydb = holding(["ec2:DescribeVpcs"])("memorydb")
    with pytest.raises(ClientError) as denied:
        memorydb.describe_clusters()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "is not authorized to perform: memorydb:DescribeClusters" in str(denied.value)


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda s3: s3.get_public_access_block(Bucket="b-1"), "s3:GetBucketPublicAccessBlock"),
        (lambda s3: s3.get_bucket_encryption(Bucket="b-1"), "s3:GetEncryptionConfiguration"),
        (lambda s3: s3.head_bucket(Bucket="b-1"), "s3:ListBucket"),
        (lambda s3: s3.get_bucket_cors(Bucket="b-1"), "s3:GetBucketCORS"),
        (
            lambda s3: s3.put_public_access_block(
                Bucket="b-1", PublicAccessBlockConfiguration={"BlockPublicAcls": True}
            ),
            "s3:PutBucketPublicAccessBlock",
        ),
    ],
)
def test_s3_sub_resources_are_checked_under_their_iam_names(
    client: Any,
    sandbox: SandboxServer,
    holding: Callable[[list[str]], Callable[[str], Any]],
    call: Callable[[Any], Any],
    action: str,
) -> None:
    client("s3").create_bucket(Bucket="b-1")
    s3 = holding(["s3:GetBucketLocation"])("s3")  # anything but the action under test
    with pytest.raises(ClientError):
        call(s3)
    assert [c["action"] for c in checked_permissions(sandbox)] == [action]


def test_deleting_object_versions_needs_delete_object_version_on_the_objects(
    client: Any, sandbox: SandboxServer, holding: Callable[[list[str]], Callable[[str], Any]]
) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="b-2")
    s3.put_bucket_versioning(Bucket="b-2", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="b-2", Key="k", Body=b"x")["VersionId"]
    user = holding(["s3:DeleteObjectVersion"])("s3")
    answer = user.delete_objects(Bucket="b-2", Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert not answer.get("Errors")
    checks = checked_permissions(sandbox)
    assert [(c["action"], c["allowed"]) for c in checks] == [("s3:DeleteObjectVersion", True)]
