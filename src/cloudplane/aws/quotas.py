"""The AWS limits a cloud runs into, and how to read them: the applied value, else AWS's default.

GetServiceQuota answers NoSuchResourceException for a quota that has no value applied to the account
(nobody ever raised it); AWS then enforces its default, which GetAWSDefaultServiceQuota answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudplane.aws.errors import AwsError

if TYPE_CHECKING:
    from cloudplane.aws.session import AwsClients

NOT_APPLIED = "NoSuchResourceException"


@dataclass(frozen=True)
class Quota:
    service: str  # Service Quotas' service code
    code: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.service}/{self.code}"

    def increase_command(self, value: float) -> str:
        return (
            f"aws service-quotas request-service-quota-increase --service-code {self.service} "
            f"--quota-code {self.code} --desired-value {int(value)} (or the Service Quotas console)"
        )


VPCS = Quota("vpc", "L-F678F1CE", "VPCs per Region")
INTERNET_GATEWAYS = Quota("vpc", "L-A4707A72", "Internet gateways per Region")
NAT_GATEWAYS_PER_ZONE = Quota("vpc", "L-FE5A380F", "NAT gateways per Availability Zone")
ELASTIC_IPS = Quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
STANDARD_VCPUS = Quota(
    "ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"
)


@dataclass(frozen=True)
class QuotaValue:
    value: float
    applied: bool  # False: no value is applied to the account, so AWS's default holds

    def __int__(self) -> int:
        return int(self.value)

    def shown(self) -> str:
        """`12`, or `5 (the AWS default)` when nothing was applied to the account."""
        return str(int(self.value)) if self.applied else f"{int(self.value)} (the AWS default)"


def read_quota(aws: AwsClients, quota: Quota) -> QuotaValue:
    """The quota's value in the region. Raises the AwsError of GetServiceQuota (denied, throttled ...), or
    of GetAWSDefaultServiceQuota when no value is applied and the default cannot be read either."""
    client = aws.client("service-quotas")
    try:
        answer = client.get_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)
        return QuotaValue(float(answer["Quota"]["Value"]), applied=True)
    except AwsError as exc:
        if exc.code != NOT_APPLIED:
            raise
    answer = client.get_aws_default_service_quota(ServiceCode=quota.service, QuotaCode=quota.code)
    return QuotaValue(float(answer["Quota"]["Value"]), applied=False)
