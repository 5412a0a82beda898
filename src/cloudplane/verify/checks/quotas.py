"""QUOTA-1..3: the AWS limits a new cloud's network, a default workspace and a private cloud run into.

QUOTA-1 runs before anything is made (SETUP phase): room for one more VPC and internet gateway, for `cloud
setup` and for a customer-defined template; for a private template also room for its NAT gateways, whose
Elastic IPs and count per zone are limited. Part of verify: the vCPUs of one default workspace (QUOTA-2)
and, for a private customer-defined cloud, whether the region has an Elastic IP left (QUOTA-3).

A quota without a value applied to the account is read as AWS's default; one that cannot be read at all
is a note, never a failed rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudplane.aws.errors import AwsError, Fault, error_message, is_transient
from cloudplane.aws.quotas import (
    ELASTIC_IPS,
    INTERNET_GATEWAYS,
    NAT_GATEWAYS_PER_ZONE,
    STANDARD_VCPUS,
    VPCS,
    Quota,
    QuotaValue,
)
from cloudplane.cloud import CUSTOMER_DEFINED, PRIVATE, PUBLIC, CloudSpec
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Outcome, fail, note, ok
from cloudplane.verify.registry import SETUP, check
from cloudplane.verify.report import Finding, Severity

if TYPE_CHECKING:
    from cloudplane.aws.byo_template import CustomerDefinedOptions
    from cloudplane.aws.session import AwsClients

GROUP = "quotas"
# One default workspace: an m5.2xlarge head node.
WORKSPACE_VCPUS = 8
# CloudSpec.options key of the NAT gateways a template is about to make (SETUP phase only).
PLANNED_NATS = "planned_nat_gateways"


@dataclass(frozen=True)
class PlannedNats:
    """The NAT gateways of a private customer-defined template, as far as quotas go."""

    zone_ids: tuple[str, ...]  # the template's zones, in order
    per_zone: bool  # one NAT gateway (and Elastic IP) in every zone, else one shared, in the first zone

    @property
    def count(self) -> int:
        return len(self.zone_ids) if self.per_zone else 1


def _read_quota(quota: Quota) -> Callable[[VerifyContext], QuotaValue]:
    return lambda ctx: ctx.quota(quota)


def _read_count(kind: str) -> Callable[[VerifyContext], int]:
    return lambda ctx: ctx.count(kind)


# The reads the checks declare (made once, so that checks sharing one are seen to share it).
_VPCS = _read_quota(VPCS)
_INTERNET_GATEWAYS = _read_quota(INTERNET_GATEWAYS)
_VCPUS = _read_quota(STANDARD_VCPUS)
_ADDRESSES = _read_quota(ELASTIC_IPS)
_VPCS_USED = _read_count("vpc")
_INTERNET_GATEWAYS_USED = _read_count("internet-gateway")
_ADDRESSES_USED = _read_count("elastic-ip")


def _quota(ctx: VerifyContext, quota: Quota) -> QuotaValue | Outcome:
    """The quota's value, or a note saying why it could not be read (denied, unknown ...)."""
    try:
        return ctx.quota(quota)
    except AwsError as exc:
        if is_transient(exc):
            raise  # could not be read this time: the engine reports the check as not checked
        if exc.fault is Fault.DENIED:
            how = f"Allow {exc.action} to check it, or look it up in the Service Quotas console."
        else:
            how = "Look it up in the Service Quotas console."
        return note(
            f"The quota {quota.key} ({quota.name}) could not be read ({error_message(exc)}); it was not "
            "checked.",
            quota.key,
            how,
        )


@check(
    "QUOTA-1",
    GROUP,
    Severity.ERROR,
    phase=SETUP,
    reads=(_VPCS, _INTERNET_GATEWAYS, _VPCS_USED, _INTERNET_GATEWAYS_USED),
)
def network_room(ctx: VerifyContext) -> Iterator[Outcome]:
    for quota, kind in ((VPCS, "vpc"), (INTERNET_GATEWAYS, "internet-gateway")):
        value = _quota(ctx, quota)
        if isinstance(value, Outcome):
            yield value
            continue
        used = ctx.count(kind)
        if used + 1 > value.value:
            yield fail(
                f"{quota.name}: {used} in use of a quota of {value.shown()} in {ctx.aws.region}; a new "
                "cloud needs one more.",
                quota.key,
                f"Delete an unused one, or raise the quota: {quota.increase_command(used + 1)}.",
            )
        else:
            yield ok(f"{quota.name}: {used} in use of {value.shown()} in {ctx.aws.region}.", quota.key)
    nats = ctx.spec.options.get(PLANNED_NATS)
    if isinstance(nats, PlannedNats):
        yield from _address_room(ctx, nats.count)
        yield from _nat_room(ctx, nats)


def _address_room(ctx: VerifyContext, needed: int) -> Iterator[Outcome]:
    quota = ELASTIC_IPS
    value = _quota(ctx, quota)
    if isinstance(value, Outcome):
        yield value
        return
    used = ctx.count("elastic-ip")
    needs = f"{needed} NAT gateways need" if needed > 1 else "NAT gateway needs"
    if used + needed <= value.value:
        yield ok(
            f"{quota.name}: {used} in use of {value.shown()} in {ctx.aws.region}; room for the addresses of "
            f"the template's NAT gateway{'s' if needed > 1 else ''}.",
            quota.key,
        )
        return
    if needed > value.value:
        how = "use fewer zones or --nat-gateways single, or raise the quota"
    else:
        how = "release unused Elastic IPs (aws ec2 release-address), use --nat-gateways single, or raise the quota"
    yield fail(
        f"{quota.name}: {used} in use of a quota of {value.shown()} in {ctx.aws.region}; the template's "
        f"{needs} {needed} more, so applying it would fail (AddressLimitExceeded).",
        quota.key,
        f"Before applying it, {how}: {quota.increase_command(used + needed)}.",
    )


def _nat_room(ctx: VerifyContext, nats: PlannedNats) -> Iterator[Outcome]:
    quota = NAT_GATEWAYS_PER_ZONE
    value = _quota(ctx, quota)
    if isinstance(value, Outcome):
        yield value
        return
    by_id = {z["id"]: z["name"] for z in ctx.availability_zones()}
    # One shared NAT gateway sits in the first zone.
    zones = [by_id[i] for i in nats.zone_ids[: nats.count] if i in by_id]
    in_use = ctx.nat_gateways_by_zone()
    full = [zone for zone in zones if in_use.get(zone, 0) + 1 > value.value]
    for zone in full:
        yield fail(
            f"{quota.name}: {in_use.get(zone, 0)} in {zone} of a quota of {value.shown()}; the template adds "
            "one there, so applying it would fail (NatGatewayLimitExceeded).",
            quota.key,
            f"Delete an unused NAT gateway in {zone}, or raise the quota: "
            f"{quota.increase_command(in_use.get(zone, 0) + 1)}.",
        )
    if zones and not full:
        most = max(in_use.get(zone, 0) for zone in zones)
        yield ok(
            f"{quota.name}: at most {most} in the template's zones ({', '.join(zones)}) of a quota of "
            f"{value.shown()}.",
            quota.key,
        )


@check("QUOTA-2", GROUP, Severity.WARNING, reads=(_VCPUS,))
def workspace_vcpus(ctx: VerifyContext) -> Iterator[Outcome]:
    quota = STANDARD_VCPUS
    value = _quota(ctx, quota)
    if isinstance(value, Outcome):
        yield value
    elif value.value < WORKSPACE_VCPUS:
        yield fail(
            f"The {quota.name} vCPU quota in {ctx.aws.region} is {value.shown()}; one default workspace "
            f"needs {WORKSPACE_VCPUS} (an m5.2xlarge head node).",
            quota.key,
            f"Raise it: {quota.increase_command(max(WORKSPACE_VCPUS, 32))}.",
        )
    else:
        yield ok(f"The {quota.name} vCPU quota in {ctx.aws.region} is {value.shown()}.", quota.key)


@check(
    "QUOTA-3",
    GROUP,
    Severity.INFO,
    deployments=(CUSTOMER_DEFINED,),
    networking=(PRIVATE,),
    reads=(_ADDRESSES, _ADDRESSES_USED),
)
def address_headroom(ctx: VerifyContext) -> Iterator[Outcome]:
    quota = ELASTIC_IPS
    value = _quota(ctx, quota)
    if isinstance(value, Outcome):
        yield value
        return
    used = ctx.count("elastic-ip")
    if used < value.value:
        yield ok(f"{quota.name}: {used} in use of {value.shown()} in {ctx.aws.region}.", quota.key)
        return
    yield note(
        f"{quota.name}: {used} in use of a quota of {value.shown()} in {ctx.aws.region}, none left: a NAT "
        "gateway added to this cloud (in another zone, or one per zone instead of a shared one) would fail "
        "with AddressLimitExceeded.",
        quota.key,
        "Release unused Elastic IPs (aws ec2 release-address), or raise the quota: "
        f"{quota.increase_command(used + 1)}.",
    )


def template_precheck(aws: AwsClients, options: CustomerDefinedOptions) -> list[Finding]:
    """Why a customer-defined template would fail to apply in `aws.region` for lack of quota (QUOTA-1):
    room for its VPC and internet gateway and, with private networking, its NAT gateways' Elastic IPs and
    the NAT gateways per zone. Returns the findings worth showing (failed, notes, not checked): none when
    there is room, and none for a registered cloud's template (its stack already holds its network)."""
    from cloudplane.verify import engine

    if options.cloud_id is not None:
        return []
    planned: dict[str, Any] = {}
    if options.private_network:
        planned[PLANNED_NATS] = PlannedNats(tuple(options.zone_ids), options.nat_gateways == "per-az")
    spec = CloudSpec(
        id="",
        name=options.cloud_name,
        region=aws.region,
        deployment=CUSTOMER_DEFINED,
        networking=PRIVATE if options.private_network else PUBLIC,
        options=planned,
    )
    return [f for f in engine.run(spec, aws, phase=SETUP).findings if not f.passed]
