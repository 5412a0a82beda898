"""`cloud template --customer-defined`: from flags (and a registered cloud) to the template's options.

Without a cloud id the template gets a fresh External ID, which `cloud register --external-id` later
keeps. With one, everything that shapes the stack comes from the registered cloud, so re-applying the
template as a stack update keeps every resource and only scopes the role down to the cloud's tag; a flag
that contradicts the cloud is refused rather than silently removing or adding resources.

With head-node fault tolerance the template is for one region and its subnets name their zones by ID,
looked up in that region: zones where MemoryDB runs first (its subnet group takes only those), then the
others. Choosing the same way each time, a re-apply with the cloud id names the same zones.
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
        if self.head_node_fault_tolerance and self.region is None and self.cloud_id is None:
            raise InputError(
                "--enable-head-node-fault-tolerance needs --region: MemoryDB runs only in some availability "
                "zones, so the template names the zones of one region"
            )

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


ZoneLookup = Callable[[str], list[memorydb_zones.Zone]]


def _memorydb_zones(
    region: str, available: list[memorydb_zones.Zone], count: int | None, warn: Callable[[str], None] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(zone IDs of the subnets, those where MemoryDB runs): MemoryDB's zones first, each group by name."""
    capable = memorydb_zones.require_capable_zones(region, available, warn)
    count = count or min(DEFAULT_ZONES, len(available))
    if count > len(available):
        raise InputError(
            f"{count} zones asked for, but region {region} has {len(available)} availability zones in this account"
        )
    others = [z for z in available if z not in capable]
    chosen = sorted([*capable, *others][:count], key=lambda z: z["name"])
    return tuple(z["id"] for z in chosen), tuple(z["id"] for z in chosen if z in capable)


def template_options(
    request: TemplateRequest,
    *,
    client: Any,
    account_id: Any,
    zones: ZoneLookup | None = None,
    warn: Callable[[str], None] | None = None,
) -> CustomerDefinedOptions:
    """The options of the template. `client` (control plane) is used only with a cloud id; `account_id()`
    (the caller's AWS account) only when no principal is given or recorded; `zones(region)` (the region's
    availability zones as this account sees them) only with head-node fault tolerance."""
    request.validate()
    external_id = new_external_id()
    principal = request.controlplane_principal
    if request.cloud_id is not None:
        cloud = client.find_cloud(cloud_id=request.cloud_id)
        request = request.for_cloud(cloud)
        external_id = cloud["external_id"]
        principal = principal or (cloud.get("options") or {}).get("controlplane_principal")
    if principal is None:
        principal = f"arn:aws:iam::{account_id()}:root"
    zone_count = request.zone_count or DEFAULT_ZONES
    zone_ids: tuple[str, ...] = ()
    memorydb_zone_ids: tuple[str, ...] | None = None
    if request.head_node_fault_tolerance:
        if zones is None or request.region is None:
            raise ValueError("head-node fault tolerance needs the region and a zone lookup")
        zone_ids, memorydb_zone_ids = _memorydb_zones(
            request.region, zones(request.region), request.zone_count, warn
        )
        zone_count = len(zone_ids)
    options = CustomerDefinedOptions(
        external_id=external_id,
        controlplane_principal=principal,
        cloud_id=request.cloud_id,
        cloud_name=request.name or "",
        region=request.region,
        private_network=request.private_network,
        nat_gateways=request.nat_gateways or "per-az",
        zone_count=zone_count,
        efs=not request.no_efs,
        head_node_fault_tolerance=request.head_node_fault_tolerance,
        zone_ids=zone_ids,
        memorydb_zone_ids=memorydb_zone_ids,
    )
    try:
        options.validate()
    except ValueError as exc:  # e.g. an External ID the cloud was registered with that AWS refuses
        raise InputError(str(exc)) from exc
    return options
