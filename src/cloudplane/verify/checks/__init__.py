"""One module per resource group; importing them registers every check."""

from cloudplane.verify.checks import (  # noqa: F401
    efs,
    iam,
    memorydb,
    quotas,
    s3,
    security_groups,
    stack,
    subnets,
    vpc,
)
