"""Who the local AWS credentials belong to."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cloudplane.aws.errors import error_message
from cloudplane.aws.session import AwsClients
from cloudplane.errors import OperationFailed


def caller_identity(aws: AwsClients) -> dict[str, Any]:
    try:
        return aws.client("sts").get_caller_identity()
    except NoCredentialsError as exc:
        raise OperationFailed(
            "no AWS credentials found; configure them as for the AWS CLI (environment variables, "
            "`aws configure`, a profile or SSO) and try again"
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        raise OperationFailed(f"the AWS credentials were refused: {error_message(exc)}") from exc
