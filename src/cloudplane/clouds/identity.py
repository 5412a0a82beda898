"""Who the local AWS credentials belong to."""

from __future__ import annotations

from typing import Any

from cloudplane.aws.session import AwsClients


def caller_identity(aws: AwsClients) -> dict[str, Any]:
    """The caller's account and ARN. The first AWS call of a command: missing credentials, a dead or
    hanging endpoint are reported here, as one line, before anything else happens."""
    return aws.caller_identity()
