"""QUOTA-1..2: room for the cloud's network (before setup) and for one default workspace."""

from __future__ import annotations

from collections.abc import Iterator

from cloudplane.aws.errors import AwsError, error_message, is_transient
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Outcome, fail, note, ok
from cloudplane.verify.registry import SETUP, check
from cloudplane.verify.report import Severity

GROUP = "quotas"
VPC_QUOTA = ("vpc", "L-F678F1CE", "VPCs per Region", "vpc")
IGW_QUOTA = ("vpc", "L-A4707A72", "Internet gateways per Region", "internet-gateway")
VCPU_QUOTA = ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances")
# One default workspace: an m5.2xlarge head node.
WORKSPACE_VCPUS = 8


def _quota(ctx: VerifyContext, service: str, code: str) -> tuple[float | None, str | None]:
    """The quota's value, or None and why it could not be read (denied, not available)."""
    try:
        return ctx.quota(service, code), None
    except AwsError as exc:
        if is_transient(exc):
            raise  # could not be read this time: the engine reports the check as not checked
        return None, error_message(exc)


def _unreadable(service: str, code: str, name: str, why: str) -> Outcome:
    return note(
        f"The quota {service}/{code} ({name}) could not be read ({why}); it was not checked.",
        f"{service}/{code}",
        "Allow servicequotas:GetServiceQuota to check it, or look it up in the Service Quotas console.",
    )


def _increase(service: str, code: str, value: float) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --service-code {service} --quota-code {code} "
        f"--desired-value {int(value)} (or the Service Quotas console)"
    )


@check("QUOTA-1", GROUP, Severity.ERROR, phase=SETUP)
def network_room(ctx: VerifyContext) -> Iterator[Outcome]:
    for service, code, name, kind in (VPC_QUOTA, IGW_QUOTA):
        value, why = _quota(ctx, service, code)
        if value is None:
            yield _unreadable(service, code, name, str(why))
            continue
        used = ctx.count(kind)
        if used + 1 > value:
            yield fail(
                f"{name}: {used} in use of a quota of {int(value)} in {ctx.aws.region}; setting up a cloud "
                "needs one more.",
                f"{service}/{code}",
                f"Delete an unused one, or raise the quota: {_increase(service, code, used + 1)}.",
            )
        else:
            yield ok(f"{name}: {used} in use of {int(value)} in {ctx.aws.region}.", f"{service}/{code}")


@check("QUOTA-2", GROUP, Severity.WARNING)
def workspace_vcpus(ctx: VerifyContext) -> Iterator[Outcome]:
    service, code, name = VCPU_QUOTA
    value, why = _quota(ctx, service, code)
    if value is None:
        yield _unreadable(service, code, name, str(why))
    elif value < WORKSPACE_VCPUS:
        yield fail(
            f"The {name} vCPU quota in {ctx.aws.region} is {int(value)}; one default workspace needs "
            f"{WORKSPACE_VCPUS} (an m5.2xlarge head node).",
            f"{service}/{code}",
            f"Raise it: {_increase(service, code, max(WORKSPACE_VCPUS, 32))}.",
        )
    else:
        yield ok(f"The {name} vCPU quota in {ctx.aws.region} is {int(value)}.", f"{service}/{code}")
