"""Which regions a cloud may live in: commercial `aws` partition regions enabled for the account."""

from __future__ import annotations

import difflib
import functools
import re

from cloudplane.errors import InputError
from cloudplane.naming import shown

# fullmatch: `re.match` with `$` would accept a trailing newline.
REGION_SHAPE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


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


def check_region_enabled(ec2_client: object, region: str) -> None:
    """Opt-in regions must be enabled for the account before anything can be built there."""
    enabled = {r["RegionName"] for r in ec2_client.describe_regions()["Regions"]}  # type: ignore[attr-defined]
    if region not in enabled:
        raise InputError(
            f"region {region} is not enabled for this AWS account; enable it under Account > AWS Regions "
            "in the AWS console, or choose another region"
        )


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
