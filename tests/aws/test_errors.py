"""The one line an AWS error becomes: the call, the resource, what AWS said and what to do."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from cloudplane.aws.errors import Fault, from_botocore


def client_error(code: str, message: str, status: int, operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def test_access_denied_names_the_action_and_the_resource() -> None:
    error = from_botocore(
        client_error("AccessDenied", "not authorized", 403, "CreateStack"),
        service="cloudformation",
        operation="CreateStack",
        params={"StackName": "cloudplane-cld-x", "TemplateBody": "{}"},
        region="us-west-2",
    )
    line = str(error)
    assert error.fault is Fault.DENIED and "\n" not in line
    assert line.startswith(
        "AWS call cloudformation:CreateStack on cloudplane-cld-x in us-west-2 failed: AccessDenied"
    )
    assert "lacks the permission cloudformation:CreateStack" in line and "cloud policy --for" in line


def test_throttling_and_server_errors_say_nothing_was_lost() -> None:
    for code, status, fault in (
        ("RequestLimitExceeded", 503, Fault.THROTTLED),
        ("InternalError", 500, Fault.SERVER),
    ):
        error = from_botocore(
            client_error(code, "busy", status, "DescribeVpcs"),
            service="ec2",
            operation="DescribeVpcs",
            params={"Filters": [{"Name": "vpc-id", "Values": ["vpc-0a1b2c3d"]}]},
        )
        assert error.fault is fault and error.transient
        assert "on vpc-0a1b2c3d" in str(error) and "nothing was lost" in str(error)


def test_a_dead_or_silent_endpoint_is_named() -> None:
    dead = from_botocore(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"),
        service="sts",
        operation="GetCallerIdentity",
        endpoint="http://127.0.0.1:9",
    )
    assert dead.fault is Fault.UNREACHABLE and "http://127.0.0.1:9 cannot be reached" in str(dead)
    silent = from_botocore(
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9/"),
        service="sts",
        operation="GetCallerIdentity",
        endpoint="http://127.0.0.1:9",
    )
    assert silent.fault is Fault.TIMEOUT and "did not answer in time" in str(silent)
    assert "credentials" not in str(dead) + str(silent)


def test_an_xml_body_in_place_of_a_message_is_left_out() -> None:
    error = from_botocore(
        client_error("403", '<?xml version="1.0" encoding="utf-8"?>\n<Error/>', 403, "DescribeFileSystems"),
        service="efs",
        operation="DescribeFileSystems",
        params={"FileSystemId": "fs-0a1b2c3d"},
    )
    assert "<?xml" not in str(error) and error.fault is Fault.DENIED


def test_refused_credentials_in_an_opt_in_region_mention_the_region() -> None:
    def refused(region: str) -> str:
        return str(
            from_botocore(
                client_error("AuthFailure", "not validated", 401, "DescribeVpcs"),
                service="ec2",
                operation="DescribeVpcs",
                region=region,
            )
        )

    assert "ap-east-1 is an opt-in region" in refused("ap-east-1")
    assert "opt-in" not in refused("us-west-2")


def test_the_permission_named_is_the_one_iam_checks() -> None:
    """API names and IAM actions differ for some calls; the line names what to add to a policy."""
    cases = [
        ("efs", "DescribeMountTargets", None, "elasticfilesystem:DescribeMountTargets"),
        ("s3", "HeadBucket", None, "s3:ListBucket"),
        ("s3", "GetBucketCors", None, "s3:GetBucketCORS"),
        ("s3", "GetPublicAccessBlock", None, "s3:GetBucketPublicAccessBlock"),
        ("s3", "GetBucketEncryption", None, "s3:GetEncryptionConfiguration"),
        ("s3", "ListObjectVersions", None, "s3:ListBucketVersions"),
        ("s3control", "GetPublicAccessBlock", None, "s3:GetAccountPublicAccessBlock"),
        ("resourcegroupstaggingapi", "GetResources", None, "tag:GetResources"),
        ("service-quotas", "GetServiceQuota", None, "servicequotas:GetServiceQuota"),
        (
            "s3",
            "DeleteObjects",
            {"Delete": {"Objects": [{"Key": "a", "VersionId": "1"}]}},
            "s3:DeleteObjectVersion",
        ),
        ("s3", "DeleteObjects", {"Delete": {"Objects": [{"Key": "a"}]}}, "s3:DeleteObject"),
        ("ec2", "DescribeVpcs", None, "ec2:DescribeVpcs"),
    ]
    for service, operation, params, permission in cases:
        error = from_botocore(
            client_error("AccessDeniedException", "no", 403, operation),
            service=service,
            operation=operation,
            params=params,
        )
        assert error.action == permission
        assert f"lacks the permission {permission}" in str(error)
