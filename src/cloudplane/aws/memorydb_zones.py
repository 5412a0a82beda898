"""Where MemoryDB runs: the availability zones, by zone ID, that MemoryDB supports in each region.

A cloud with head-node fault tolerance keeps its MemoryDB primary and replica in different zones, so its
MemoryDB subnet group holds only subnets of supported zones and needs two such zones. Zones are matched
by ID, never by name: a zone name stands for a different physical zone in each account, an ID does not.

The table is a snapshot of the MemoryDB developer guide ("Supported MemoryDB AZ IDs"). A region it does
not list is unknown, not unsupported: every zone there is taken as capable and the caller is told so.
Refusing such a region would block regions MemoryDB reached after the snapshot; if MemoryDB turns out to be
missing there, CloudFormation fails the subnet group and the stack rolls back, leaving nothing behind.
Only a region the table lists with fewer than two of the cloud's zones is refused, before anything is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cloudplane.errors import InputError

MIN_ZONES = 2  # the primary and its replica, each in its own zone

Zone = Mapping[str, str]  # {"name": "us-west-2a", "id": "usw2-az2"}, as regions.availability_zones() gives

SUPPORTED_ZONE_IDS: dict[str, frozenset[str]] = {
    "us-east-2": frozenset({"use2-az1", "use2-az2", "use2-az3"}),
    "us-east-1": frozenset({"use1-az2", "use1-az4", "use1-az6"}),
    "us-west-1": frozenset({"usw1-az1", "usw1-az2", "usw1-az3"}),
    "us-west-2": frozenset({"usw2-az1", "usw2-az2", "usw2-az3"}),
    "ca-central-1": frozenset({"cac1-az1", "cac1-az2", "cac1-az4"}),
    "ap-east-1": frozenset({"ape1-az1", "ape1-az2", "ape1-az3"}),
    "ap-south-1": frozenset({"aps1-az1", "aps1-az2", "aps1-az3"}),
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    "ap-northeast-2": frozenset({"apne2-az1", "apne2-az2", "apne2-az3"}),
    "ap-southeast-1": frozenset({"apse1-az1", "apse1-az2", "apse1-az3"}),
    "ap-southeast-2": frozenset({"apse2-az1", "apse2-az2", "apse2-az3"}),
    "eu-central-1": frozenset({"euc1-az1", "euc1-az2", "euc1-az3"}),
    "eu-west-1": frozenset({"euw1-az1", "euw1-az2", "euw1-az3"}),
    "eu-west-2": frozenset({"euw2-az1", "euw2-az2", "euw2-az3"}),
    "eu-west-3": frozenset({"euw3-az1", "euw3-az2", "euw3-az3"}),
    "eu-north-1": frozenset({"eun1-az1", "eun1-az2", "eun1-az3"}),
    "eu-south-1": frozenset({"eus1-az1", "eus1-az2", "eus1-az3"}),
    "sa-east-1": frozenset({"sae1-az1", "sae1-az2", "sae1-az3"}),
    "cn-north-1": frozenset({"cnn1-az1", "cnn1-az2"}),
    # This region's zone IDs start with "cnnw1-", not "cnw1-".
    "cn-northwest-1": frozenset({"cnnw1-az1", "cnnw1-az2", "cnnw1-az3"}),
}


def supported_zone_ids(region: str) -> frozenset[str] | None:
    """The zone IDs MemoryDB supports in `region`; None when the table does not know the region."""
    return SUPPORTED_ZONE_IDS.get(region)


def is_supported(region: str, zone_id: str) -> bool:
    """Whether MemoryDB can place nodes in the zone; every zone of an unknown region counts."""
    supported = supported_zone_ids(region)
    return supported is None or zone_id in supported


def capable_zones(region: str, zones: Iterable[Zone]) -> list[Zone]:
    """The zones among `zones` where MemoryDB can place nodes, in their order."""
    return [zone for zone in zones if is_supported(region, zone["id"])]


def _label(zone: Zone) -> str:
    return f"{zone['name']} = {zone['id']}" if zone.get("id") else zone["name"]


def require_capable_zones(
    region: str, zones: Iterable[Zone], warn: Callable[[str], None] | None = None
) -> list[Zone]:
    """The capable zones of the cloud, refusing (InputError) fewer than two; `warn` hears of an unknown region."""
    zones = list(zones)
    capable = capable_zones(region, zones)
    known = supported_zone_ids(region) is not None
    if not known and warn is not None:
        warn(
            f"cloudplane does not know which availability zones MemoryDB supports in {region}; "
            "the MemoryDB subnet group takes the subnets of every zone"
        )
    if len(capable) >= MIN_ZONES:
        return capable
    which = ", ".join(_label(z) for z in capable) or "none of them"
    what = (
        f"MemoryDB supports only {len(capable)} of the {len(zones)} availability zones of {region} in this account ({which})"
        if known
        else f"region {region} has {len(zones)} availability zone(s)"
    )
    raise InputError(
        f"{what}; a cloud with head-node fault tolerance needs two: choose another region or leave out "
        "--enable-head-node-fault-tolerance"
    )
