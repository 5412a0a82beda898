"""Which regions a cloud may live in: commercial `aws` partition regions enabled for the account."""

from __future__ import annotations

import difflib
import functools
import re
from typing import TYPE_CHECKING

from cloudplane.errors import InputError
from cloudplane.naming import shown

if TYPE_CHECKING:
    from cloudplane.aws.session import AwsClients

# fullmatch: `re.match` with `$` would accept a trailing newline.
REGION_SHAPE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")

# Regions launched before 20 March 2019: enabled for every account, and they cannot be disabled. Every
# later region is an opt-in region, disabled until the account enables it.
ENABLED_BY_DEFAULT = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "sa-east-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
    }
)
# Where questions about the account are asked when the target region may not be enabled.
ALWAYS_ENABLED_REGION = "us-east-1"


@functools.lru_cache(maxsize=1)
def _partition_regions() -> dict[str, list[str]]:
    """Regions per partition, from botocore's bundled endpoint data (no network)."""
    import botocore.session

    session = botocore.session.get_session()
    return {
        partition: session.get_available_regions("ec2", partition_name=partition)
        for partition in session.get_available_partitions()
    }


def check_region_name(region: str) -> str:
    """Refuse China, GovCloud, other isolated partitions and unknown names, before any AWS call."""
    if not isinstance(region, str) or not REGION_SHAPE.fullmatch(region):
        raise InputError(f"invalid region {shown(region)}: expected a name like us-west-2")
    regions = _partition_regions()
    if region in regions.get("aws", []):
        return region
    for partition, names in regions.items():
        if region in names:
            raise InputError(
                f"region {region} belongs to the {partition} partition; cloudplane supports only "
                "commercial AWS regions (the 'aws' partition), not China, GovCloud or isolated regions"
            )
    close = difflib.get_close_matches(region, regions.get("aws", []), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(f"unknown region {shown(region)}{hint}")


def account_region(region: str) -> str:
    """Where to ask account-wide questions (who the caller is, which regions are enabled) for work in
    `region`: the region itself when every account has it, else us-east-1. The endpoints of a region the
    account has not enabled refuse every credential (STS: InvalidClientTokenId, EC2: AuthFailure), which
    would read as bad credentials rather than as a disabled region."""
    return region if region in ENABLED_BY_DEFAULT else ALWAYS_ENABLED_REGION


def _not_enabled(region: str) -> InputError:
    return InputError(
        f"region {region} is not enabled for this AWS account; enable it under Account > AWS Regions "
        "in the AWS console, or choose another region"
    )


def check_region_enabled(aws: AwsClients, region: str) -> None:
    """Opt-in regions must be enabled for the account before anything can be built there.

    Asked of us-east-1, before any call in `region` itself: no call for a default region, one otherwise.
    When us-east-1 may not be asked (an SCP limiting the account to some regions), the region itself is
    asked: it answers only if it is enabled, and refuses credentials that us-east-1 has just accepted
    (the identity call) only if it is not.
    """
    # Imported here: the store imports this module for REGION_SHAPE, and should not load botocore.
    from cloudplane.aws.errors import AwsError, Fault

    if region in ENABLED_BY_DEFAULT:
        return
    try:
        answer = aws.client("ec2", region=ALWAYS_ENABLED_REGION).describe_regions(
            AllRegions=True, RegionNames=[region]
        )
    except AwsError as exc:
        if exc.fault is not Fault.DENIED:
            raise
        try:
            aws.client("ec2").describe_regions(RegionNames=[region])
        except AwsError as inner:
            if inner.fault is Fault.CREDENTIALS:
                raise _not_enabled(region) from inner
            raise
        return
    statuses = {r["RegionName"]: r.get("OptInStatus") for r in answer["Regions"]}
    if statuses.get(region) not in ("opted-in", "opt-in-not-required"):
        raise _not_enabled(region)


def availability_zones(ec2_client: object) -> list[dict[str, str]]:
    """Standard availability zones that are up, sorted by name (no Local or Wavelength zones)."""
    response = ec2_client.describe_availability_zones(  # type: ignore[attr-defined]
        Filters=[
            {"Name": "zone-type", "Values": ["availability-zone"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )
    zones = [{"name": z["ZoneName"], "id": z.get("ZoneId", "")} for z in response["AvailabilityZones"]]
    return sorted(zones, key=lambda z: z["name"])
