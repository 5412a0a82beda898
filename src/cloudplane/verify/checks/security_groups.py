"""SG-1..6: the cloud's security groups, their rules taken together."""

from __future__ import annotations

from collections.abc import Iterator

from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.network import (
    ANYWHERE,
    TCP,
    cidr_sources,
    group_sources,
    is_all_traffic,
    rule_covers_port,
)
from cloudplane.verify.outcome import Outcome, fail, note, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "security groups"


def _groups(ctx: VerifyContext) -> list[Item]:
    found = ctx.security_groups()
    groups = [found[i] for i in ctx.res.security_group_ids if i in found]
    return require(groups or None)


def _ids(ctx: VerifyContext) -> str:
    return ", ".join(ctx.res.security_group_ids)


def _first(ctx: VerifyContext) -> str:
    return ctx.res.security_group_ids[0]


def _rules(groups: list[Item], egress: bool) -> list[Item]:
    key = "IpPermissionsEgress" if egress else "IpPermissions"
    return [p for g in groups for p in g.get(key, [])]


@check("SG-1", GROUP, Severity.ERROR, reads=(VerifyContext.security_groups,))
def groups_exist(ctx: VerifyContext) -> Iterator[Outcome]:
    ids = ctx.res.security_group_ids
    if not ids:
        yield fail(
            "The cloud has no security group recorded.",
            remediation="Add the cloud's security group id to its resources.",
        )
        return
    found = ctx.security_groups()
    bad = False
    for group_id in ids:
        group = found.get(group_id)
        if group is None:
            bad = True
            yield fail(
                f"Security group {group_id} does not exist in region {ctx.aws.region}.",
                group_id,
                "Check the group id, or create a group in the cloud's VPC and use it instead.",
            )
        elif group.get("VpcId") != ctx.res.vpc_id:
            bad = True
            yield fail(
                f"Security group {group_id} is in VPC {group.get('VpcId')}, not in the cloud's VPC "
                f"{ctx.res.vpc_id}.",
                group_id,
                f"Use a security group of VPC {ctx.res.vpc_id}.",
            )
    if not bad:
        yield ok(f"Security groups {', '.join(ids)} exist in VPC {ctx.res.vpc_id}.", ", ".join(ids))


def _open_port(groups: list[Item], port: int) -> list[str]:
    return sorted(
        {
            source
            for p in _rules(groups, egress=False)
            if rule_covers_port(p, TCP, port)
            for source in cidr_sources(p)
        }
    )


def _authorize(ctx: VerifyContext, port: int) -> str:
    command = (
        f"aws ec2 authorize-security-group-ingress --group-id {_first(ctx)} --protocol tcp --port {port}"
    )
    if ctx.spec.is_private:
        # Nodes of a private cloud have no public address: users come through the VPC's own network.
        cidr = (ctx.vpc() or {}).get("CidrBlock", "<vpc-cidr>")
        return f"{command} --cidr {cidr} (or the CIDRs your users connect from through VPN or peering)"
    return f"{command} --cidr 0.0.0.0/0 (or the CIDRs your users connect from)"


@check("SG-2", GROUP, Severity.ERROR, reads=(VerifyContext.security_groups,))
def https_inbound(ctx: VerifyContext) -> Iterator[Outcome]:
    sources = _open_port(_groups(ctx), 443)
    if sources:
        yield ok(f"Inbound TCP 443 is allowed from {', '.join(sources)}.", _ids(ctx))
    else:
        yield fail(
            f"Security groups {_ids(ctx)} allow no inbound TCP 443; the console and users reach clusters on it.",
            _ids(ctx),
            _authorize(ctx, 443),
        )


@check("SG-3", GROUP, Severity.INFO, reads=(VerifyContext.security_groups,))
def ssh_inbound(ctx: VerifyContext) -> Iterator[Outcome]:
    sources = _open_port(_groups(ctx), 22)
    if sources:
        yield ok(f"Inbound TCP 22 is allowed from {', '.join(sources)}.", _ids(ctx))
    else:
        yield note(
            f"Security groups {_ids(ctx)} allow no inbound TCP 22; desktop IDE (SSH) connections will not work.",
            _ids(ctx),
            "Only if you use desktop IDEs: " + _authorize(ctx, 22),
        )


def _self_all(ctx: VerifyContext, egress: bool) -> bool:
    own = set(ctx.res.security_group_ids)
    return any(is_all_traffic(p) and own & set(group_sources(p)) for p in _rules(_groups(ctx), egress=egress))


@check("SG-4", GROUP, Severity.ERROR, reads=(VerifyContext.security_groups,))
def self_inbound(ctx: VerifyContext) -> Iterator[Outcome]:
    if _self_all(ctx, egress=False):
        yield ok("Inbound all traffic from the cloud's own group is allowed.", _ids(ctx))
    else:
        group_id = _first(ctx)
        yield fail(
            f"Security groups {_ids(ctx)} do not allow inbound all traffic from themselves; cluster nodes "
            "and EFS cannot talk to each other.",
            _ids(ctx),
            f"aws ec2 authorize-security-group-ingress --group-id {group_id} --protocol all "
            f"--source-group {group_id}",
        )


@check("SG-5", GROUP, Severity.ERROR, reads=(VerifyContext.security_groups,))
def all_outbound(ctx: VerifyContext) -> Iterator[Outcome]:
    if any(is_all_traffic(p) and ANYWHERE in cidr_sources(p) for p in _rules(_groups(ctx), egress=True)):
        yield ok("Outbound all traffic to 0.0.0.0/0 is allowed.", _ids(ctx))
    else:
        yield fail(
            f"Security groups {_ids(ctx)} do not allow outbound all traffic to 0.0.0.0/0; nodes cannot "
            "reach the control plane, S3 or package mirrors.",
            _ids(ctx),
            f"aws ec2 authorize-security-group-egress --group-id {_first(ctx)} --protocol all "
            "--cidr 0.0.0.0/0",
        )


@check("SG-6", GROUP, Severity.WARNING, reads=(VerifyContext.security_groups,))
def self_outbound(ctx: VerifyContext) -> Iterator[Outcome]:
    if _self_all(ctx, egress=True):
        yield ok("Outbound all protocols to the cloud's own group is allowed.", _ids(ctx))
    else:
        group_id = _first(ctx)
        yield fail(
            f"Security groups {_ids(ctx)} do not allow outbound all protocols to themselves (EFA needs it).",
            _ids(ctx),
            f"aws ec2 authorize-security-group-egress --group-id {group_id} --ip-permissions "
            f"IpProtocol=-1,UserIdGroupPairs=[{{GroupId={group_id}}}]",
        )
