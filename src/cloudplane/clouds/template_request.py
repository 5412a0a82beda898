"""`cloud template --customer-defined`: from flags (and a registered cloud) to the template's options.

Without a cloud id the template gets a fresh External ID, which `cloud register --external-id` later
keeps. With one, everything that shapes the stack comes from the registered cloud, so re-applying the
template as a stack update keeps every resource and only scopes the role down to the cloud's tag; a flag
that contradicts the cloud is refused rather than silently removing or adding resources.

The template is for one region (--region, else the default region of the AWS configuration, as boto3 and
the AWS CLI take it; with a cloud id the cloud's) and its subnets name their zones by ID, looked up in that
region: the zones the account sees, by zone ID, with the zones where MemoryDB runs first when the cloud has
MemoryDB (its subnet group takes only those). A re-apply with the cloud id names the zones of the cloud's
subnets as they are in AWS, so it never moves a subnet, however the region's zones changed since.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cloudplane import naming
from cloudplane.aws import memorydb_zones, regions
from cloudplane.aws.byo_template import MAX_ZONES, MIN_ZONES, CustomerDefinedOptions, new_external_id
from cloudplane.cloud import CUSTOMER_DEFINED, PRIVATE
from cloudplane.clouds.principal import trusted_principal
from cloudplane.errors import InputError

DEFAULT_ZONES = 3
_PRINCIPAL = re.compile(r"arn:aws:iam::[0-9]{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)", re.ASCII)


@dataclass(frozen=True)
class TemplateRequest:
    customer_defined: bool = False
    private_network: bool = False
    nat_gateways: str | None = None
    head_node_fault_tolerance: bool = False
    no_efs: bool = False
    name: str | None = None
    cloud_id: str | None = None
    region: str | None = None
    zone_count: int | None = None
    controlplane_principal: str | None = None

    def validate(self) -> None:
        """What can be refused from the flags alone, before any call."""
        if not self.customer_defined:
            raise InputError(
                "this prints the template of a customer-defined cloud: add --customer-defined "
                "(managed clouds are made by `cloudplane cloud setup`)"
            )
        if self.name is not None:
            naming.validate_cloud_name(self.name)
        if self.cloud_id is not None:
            naming.validate_cloud_id(self.cloud_id)
        if self.region is not None:
            regions.check_region_name(self.region)
        if self.zone_count is not None and not MIN_ZONES <= self.zone_count <= MAX_ZONES:
            raise InputError(f"--zone-count must be {MIN_ZONES} to {MAX_ZONES}, not {self.zone_count}")
        if self.controlplane_principal is not None and not _PRINCIPAL.fullmatch(self.controlplane_principal):
            raise InputError(
                f"invalid --controlplane-principal {naming.shown(self.controlplane_principal)}: expected an IAM ARN such as "
                "arn:aws:iam::123456789012:root"
            )
        if self.nat_gateways is not None and not self.private_network and self.cloud_id is None:
            raise InputError("--nat-gateways applies to private networking only: add --private-network")

    def for_cloud(self, cloud: dict[str, Any]) -> TemplateRequest:
        """The request with the registered cloud's shape; a flag that says otherwise is an error."""
        cloud_id = cloud["id"]
        if cloud.get("deployment") != CUSTOMER_DEFINED:
            raise InputError(
                f"cloud {cloud_id} is a managed cloud; its stack belongs to `cloudplane cloud setup`, "
                "not to a customer-defined template"
            )
        resources = cloud.get("resources") or {}
        private = cloud.get("networking") == PRIVATE
        has_efs = bool(resources.get("efs_id"))
        has_memorydb = bool(resources.get("memorydb_cluster_id"))
        zones = len(resources.get("subnet_ids") or []) or DEFAULT_ZONES

        def clash(what: str) -> InputError:
            return InputError(f"cloud {cloud_id} ({cloud['name']}) {what}; leave the flag out")

        if self.private_network and not private:
            raise clash("uses public networking, not --private-network")
        if self.no_efs and has_efs:
            raise clash(f"has EFS {resources['efs_id']}, which --no-efs would delete")
        if self.head_node_fault_tolerance and not has_memorydb:
            raise clash("has no MemoryDB cluster (--enable-head-node-fault-tolerance)")
        if self.name is not None and self.name != cloud["name"]:
            raise clash(f"is named {cloud['name']!r}, not {self.name!r} (--name)")
        if self.region is not None and self.region != cloud["region"]:
            raise clash(f"is in {cloud['region']}, not {self.region} (--region)")
        if self.zone_count is not None and self.zone_count != zones:
            raise clash(f"has {zones} subnets, not {self.zone_count} (--zone-count)")
        if self.nat_gateways is not None and not private:
            raise clash("uses public networking, which has no NAT gateways (--nat-gateways)")
        return replace(
            self,
            private_network=private,
            head_node_fault_tolerance=has_memorydb,
            no_efs=not has_efs,
            name=cloud["name"],
            region=cloud["region"],
            zone_count=zones,
        )


ZoneLookup = Callable[[str], list[memorydb_zones.Zone]]  # region -> its zones as this account sees them
SubnetZoneLookup = Callable[[str, list[str]], dict[str, str]]  # region, subnet ids -> {subnet id: zone ID}
Warn = Callable[[str], None]


def zone_id_order(zone: memorydb_zones.Zone) -> tuple[str, int, str]:
    """Zones by ID, numerically: usw2-az2 before usw2-az10."""
    match = re.fullmatch(r"(.*-az)([0-9]+)", zone["id"])
    return (match[1], int(match[2]), "") if match else (zone["id"], 0, zone["id"])


def choose_zones(
    region: str,
    available: list[memorydb_zones.Zone],
    count: int | None,
    memorydb: bool,
    warn: Warn | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """(zone IDs of the subnets, those where MemoryDB runs or None): the first `count` zones by zone ID,
    with MemoryDB's zones first when the cloud has MemoryDB: the same answer for the same zones, whatever
    order AWS lists them in. Without `count`, three zones, or both zones of a region that has two."""
    ordered = sorted(available, key=zone_id_order)
    shown = ", ".join(z["id"] for z in ordered) or "none"
    if len(ordered) < MIN_ZONES:
        raise InputError(
            f"region {region} has {len(ordered)} availability zone(s) in this account ({shown}); a cloud needs "
            f"{MIN_ZONES}: choose another region"
        )
    capable: list[memorydb_zones.Zone] = []
    if memorydb:
        capable = memorydb_zones.require_capable_zones(region, ordered, warn)
        ordered = [*capable, *(z for z in ordered if z not in capable)]
    if count is None:
        count = min(DEFAULT_ZONES, len(ordered))
        if count < DEFAULT_ZONES and warn is not None:
            warn(
                f"region {region} has {len(ordered)} availability zones in this account ({shown}): the template "
                f"uses {count}, not the default {DEFAULT_ZONES}"
            )
    elif count > len(ordered):
        raise InputError(
            f"{count} zones asked for (--zone-count), but region {region} has {len(ordered)} availability zones "
            f"in this account ({shown}): ask for {len(ordered)} or fewer, or choose another region"
        )
    chosen = ordered[:count]
    memorydb_ids = tuple(z["id"] for z in chosen if z in capable) if memorydb else None
    return tuple(z["id"] for z in chosen), memorydb_ids


def default_region(region: str | None) -> str:
    """The region of a template printed without --region: the AWS configuration's, which is also where
    `aws cloudformation create-stack` makes the stack."""
    if not region:
        raise InputError(
            "the template names the availability zones of one region: pass --region (no default region is set "
            "in your AWS configuration: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)"
        )
    try:
        return regions.check_region_name(region)
    except InputError as exc:
        raise InputError(f"{exc}, the default region of your AWS configuration: pass --region") from exc


def _zones_of_subnets(
    cloud: dict[str, Any], region: str, subnet_zones: SubnetZoneLookup
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The zones of a registered cloud's subnets, in the order registered (Subnet0, Subnet1, ...)."""
    resources = cloud.get("resources") or {}
    subnet_ids = list(resources.get("subnet_ids") or [])
    found = subnet_zones(region, subnet_ids)
    missing = [s for s in subnet_ids if s not in found]
    if missing:
        raise InputError(
            f"cloud {cloud['id']} ({cloud['name']}): subnet(s) {', '.join(missing)} not found in {region}; the "
            f"template re-applies the zones of the cloud's subnets (see `cloudplane cloud verify --id {cloud['id']}`)"
        )
    zone_ids = tuple(found[s] for s in subnet_ids)
    if not resources.get("memorydb_cluster_id"):
        return zone_ids, None
    return zone_ids, tuple(z for z in zone_ids if memorydb_zones.is_supported(region, z))


def template_options(
    request: TemplateRequest,
    *,
    client: Any,
    account_id: Callable[[str], str],
    region: Callable[[], str | None],
    zones: ZoneLookup,
    subnet_zones: SubnetZoneLookup,
    warn: Warn | None = None,
) -> CustomerDefinedOptions:
    """The options of the template. `client` (control plane) finds a cloud id, and tells the principal customer
    roles trust when none is given or recorded; `account_id(region)` (the caller's AWS account) stands in when
    it tells none; `region()` (the AWS
    configuration's) only without --region or cloud id; `zones(region)` for a new cloud, `subnet_zones` for a
    registered one."""
    request.validate()
    external_id = new_external_id()
    principal = request.controlplane_principal
    cloud: dict[str, Any] | None = None
    if request.cloud_id is not None:
        cloud = client.find_cloud(cloud_id=request.cloud_id)
        request = request.for_cloud(cloud)
        external_id = cloud["external_id"]
        principal = principal or (cloud.get("options") or {}).get("controlplane_principal")
    where = request.region or default_region(region())
    if cloud is not None:
        zone_ids, memorydb_zone_ids = _zones_of_subnets(cloud, where, subnet_zones)
    else:
        zone_ids, memorydb_zone_ids = choose_zones(
            where, zones(where), request.zone_count, request.head_node_fault_tolerance, warn
        )
    if principal is None:
        principal = trusted_principal(client, lambda: account_id(where))
    options = CustomerDefinedOptions(
        external_id=external_id,
        controlplane_principal=principal,
        region=where,
        zone_ids=zone_ids,
        cloud_id=request.cloud_id,
        cloud_name=request.name or "",
        private_network=request.private_network,
        nat_gateways=request.nat_gateways or "per-az",
        efs=not request.no_efs,
        head_node_fault_tolerance=request.head_node_fault_tolerance,
        memorydb_zone_ids=memorydb_zone_ids,
    )
    try:
        options.validate()
    except ValueError as exc:  # e.g. an External ID the cloud was registered with that AWS refuses
        raise InputError(str(exc)) from exc
    return options
