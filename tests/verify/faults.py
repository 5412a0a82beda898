"""AwsClients whose calls of one operation fail as AWS would answer them, for paths the emulator cannot reach."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from cloudplane.aws.session import AwsClients
from tests.verify.builders import REGION


def refusing_clients(*operations: str, code: str = "AccessDenied", status: int = 403) -> AwsClients:
    """operations: "sts.AssumeRole", "service-quotas.GetServiceQuota" ... answered with `code`."""
    session = boto3.session.Session()

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {
            "Error": {"Code": code, "Message": "refused for the test"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse(url="", status_code=status, headers={}, raw=None), body

    for operation in operations:
        session.events.register(f"before-call.{operation}", refuse)
    return AwsClients(REGION, session=session)
