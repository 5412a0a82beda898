"""Customer-defined clouds with public networking: the whole rule set, one scenario per rule.

Each scenario builds a correct customer-defined cloud (no stack of ours), breaks exactly one thing
with boto3, and checks that the rule fails alone, with its severity, naming the offending resource
and saying what to change. The rules that apply to both networking modes are defined here once as
COMMON and run again by the private-networking tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CUSTOMER_DEFINED, CloudSpec
from cloudplane.verify import verify_cloud
from cloudplane.verify.context import role_name
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import ACCOUNT, REGION, BuiltCloud, _bucket
from tests.verify.test_efs_checks import _group
from tests.verify.test_iam_checks import _assume, _put, _trust
from tests.verify.test_memorydb_checks import _another_cluster
from tests.verify.test_security_group_checks import SELF_ALL, _permission
from tests.verify.test_subnet_checks import _subnet_acl

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]
VCPU_QUOTA = ("ec2", "L-1216C47A")


@dataclass
class Kit:
    """What a scenario may use to break the cloud; undo steps run after the verification."""

    aws: Callable[..., Any]
    sandbox: Any
    variant: str = ""
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def ec2(self) -> Any:
        return self.aws("ec2")

    @property
    def iam(self) -> Any:
        return self.aws("iam")


@dataclass(frozen=True)
class Broken:
    """The cloud after the breakage and what the failing finding must say.

    offender: the id the finding's resource_id must name.
    remedy / message: words the remediation / the message must contain.
    also: other checks that fail too, because they judge the same broken thing.
    """

    spec: CloudSpec
    offender: str
    remedy: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    also: frozenset[str] = frozenset()
    clients: AwsClients | None = None


Breaker = Callable[[BuiltCloud, Kit], Broken]


PUBLIC, PRIVATE = "public", "private"
BOTH = (PUBLIC, PRIVATE)


@dataclass(frozen=True)
class Scenario:
    name: str
    check: str
    severity: Severity
    breaker: Breaker
    variant: str
    modes: tuple[str, ...]
    build: dict[str, Any]


def scenario(
    registry: list[Scenario],
    name: str,
    check: str,
    severity: Severity,
    variant: str = "",
    modes: tuple[str, ...] = BOTH,
    **build: Any,
) -> Callable[[Breaker], Breaker]:
    """Register a breaker; `variant` tells a breaker shared by several scenarios which one runs.

    modes: where it runs. Variants of a rule the networking mode does not touch are spread over
    the two modes rather than run twice.
    """

    def register(func: Breaker) -> Breaker:
        registry.append(Scenario(name, check, severity, func, variant, modes, build))
        return func

    return register


def for_mode(scenarios: list[Scenario], mode: str) -> list[Scenario]:
    return [s for s in scenarios if mode in s.modes]


def run_scenario(
    item: Scenario, private: bool, make_cloud: Make, shared_aws: Any, sandbox: Any, clients: AwsClients
) -> None:
    built = make_cloud(**{"deployment": CUSTOMER_DEFINED, "private": private, "efs": False, **item.build})
    kit = Kit(shared_aws, sandbox, item.variant)
    try:
        broken = item.breaker(built, kit)
        report = verify_cloud(broken.spec, broken.clients or clients)
    finally:
        for undo in kit.cleanups:
            undo()
    found = assert_fails(report, item.check, item.severity, broken.offender)
    assert any(broken.offender in (f.resource_id or "") for f in found), [f.resource_id for f in found]
    remediation = " ".join(f.remediation or "" for f in found)
    assert all(word in remediation for word in broken.remedy), (broken.remedy, remediation)
    messages = " ".join(f.message for f in found)
    assert all(word in messages for word in broken.message), (broken.message, messages)
    expected = ({item.check} if item.severity is not Severity.INFO else set()) | broken.also
    assert failed_checks(report) == expected, [(f.check, f.message) for f in report.findings if not f.passed]


def _zone_d_subnet(kit: Kit, built: BuiltCloud, vpc_id: str, cidr: str) -> str:
    """A subnet in the zone the cloud does not use, with the cloud's public-IP setting."""
    subnet = kit.ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}d")["Subnet"]
    kit.ec2.modify_subnet_attribute(
        SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": not built.spec.is_private}
    )
    return str(subnet["SubnetId"])


# -- rules of both networking modes ------------------------------------------------------------

COMMON: list[Scenario] = []


@scenario(COMMON, "VPC-1-missing", "VPC-1", Severity.ERROR)
def _vpc_missing(built: BuiltCloud, kit: Kit) -> Broken:
    ghost = "vpc-0badc0ffee0000000"
    # The real subnets and group are now strays of another VPC, and say so.
    return Broken(built.with_resources(vpc_id=ghost), ghost, ("VPC id",), also=frozenset({"SUB-2", "SG-1"}))


@scenario(
    COMMON,
    "VPC-2-below-floor",
    "VPC-2",
    Severity.ERROR,
    "floor",
    (PUBLIC,),
    vpc_cidr="10.0.0.0/25",
    subnet_prefix=27,
)
@scenario(
    COMMON, "VPC-2-below-recommendation", "VPC-2", Severity.WARNING, "", (PRIVATE,), vpc_cidr="10.0.0.0/22"
)
def _vpc_small(built: BuiltCloud, kit: Kit) -> Broken:
    # /27 subnets of the /25 VPC also draw SUB-3's warning.
    also = frozenset({"SUB-3"}) if kit.variant == "floor" else frozenset()
    return Broken(built.spec, built.vpc_id, ("/24" if kit.variant else "/20",), also=also)


@scenario(COMMON, "VPC-3-dns-hostnames-off", "VPC-3", Severity.WARNING, "Hostnames", (PUBLIC,))
@scenario(COMMON, "VPC-3-dns-support-off", "VPC-3", Severity.WARNING, "Support", (PRIVATE,))
def _vpc_dns(built: BuiltCloud, kit: Kit) -> Broken:
    kit.ec2.modify_vpc_attribute(VpcId=built.vpc_id, **{f"EnableDns{kit.variant}": {"Value": False}})
    flag = f"--enable-dns-{kit.variant.lower()}"
    return Broken(built.spec, built.vpc_id, (f"modify-vpc-attribute --vpc-id {built.vpc_id} {flag}",))


@scenario(COMMON, "VPC-5-no-s3-endpoint", "VPC-5", Severity.WARNING, nat_per_zone=True)
def _vpc_endpoint(built: BuiltCloud, kit: Kit) -> Broken:
    kit.ec2.delete_vpc_endpoints(VpcEndpointIds=[built.endpoint_id])
    # Every table routing the cloud's subnets is named (one per zone in a private cloud).
    return Broken(built.spec, built.vpc_id, (f"com.amazonaws.{REGION}.s3", *built.route_table_ids))


@scenario(COMMON, "SUB-1-one-subnet", "SUB-1", Severity.ERROR)
def _one_subnet(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(
        built.with_resources(subnet_ids=built.subnet_ids[:1]),
        built.subnet_ids[0],
        ("second subnet",),
        also=frozenset({"SUB-4"}),
    )


@scenario(COMMON, "SUB-2-subnet-of-another-vpc", "SUB-2", Severity.ERROR)
def _stray_subnet(built: BuiltCloud, kit: Kit) -> Broken:
    other = kit.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    stray = _zone_d_subnet(kit, built, other, "10.1.0.0/24")
    spec = built.with_resources(subnet_ids=[*built.subnet_ids, stray])
    return Broken(spec, stray, (f"Replace {stray} with a subnet of VPC {built.vpc_id}",), (other,))


@scenario(COMMON, "SUB-3-small-subnets", "SUB-3", Severity.WARNING, subnet_prefix=26)
def _small_subnets(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(built.spec, built.subnet_ids[2], ("/24 or larger",), ("/26",))


@scenario(COMMON, "SUB-4-one-zone", "SUB-4", Severity.ERROR, azs=1, subnets_per_az=2)
def _one_zone(built: BuiltCloud, kit: Kit) -> Broken:
    # Public clouds also may not put two subnets in one zone (SUB-5).
    also = frozenset() if built.spec.is_private else frozenset({"SUB-5"})
    return Broken(built.spec, built.subnet_ids[1], ("second availability zone",), also=also)


@scenario(COMMON, "SUB-7-public-ip-setting", "SUB-7", Severity.WARNING)
def _public_ip_flipped(built: BuiltCloud, kit: Kit) -> Broken:
    subnet = built.subnet_ids[2]
    private = built.spec.is_private
    kit.ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": private})
    flag = "--no-map-public-ip-on-launch" if private else "--map-public-ip-on-launch"
    return Broken(built.spec, subnet, (f"modify-subnet-attribute --subnet-id {subnet} {flag}",))


# (rule number, egress, protocol, ports, what the message names, what the allow fix names)
_ACL_DENIALS = {
    "https-in": (
        50,
        False,
        "6",
        (443, 443),
        "TCP 443",
        "--ingress --rule-number 49 --protocol tcp --port-range From=443,To=443",
    ),
    "return-traffic-in": (
        60,
        False,
        "6",
        (1024, 65535),
        "return traffic on TCP 1024-65535 from 0.0.0.0/0 is denied by rule 60",
        "--port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow",
    ),
    "all-out": (
        40,
        True,
        "-1",
        None,
        "outbound all traffic to 0.0.0.0/0 is denied by rule 40",
        "--egress --rule-number 39 --protocol -1",
    ),
}


@scenario(COMMON, "SUB-9-acl-denies-https-in", "SUB-9", Severity.WARNING, "https-in")
@scenario(COMMON, "SUB-9-acl-denies-return-traffic", "SUB-9", Severity.WARNING, "return-traffic-in")
@scenario(COMMON, "SUB-9-acl-denies-all-outbound", "SUB-9", Severity.WARNING, "all-out")
def _acl_denies(built: BuiltCloud, kit: Kit) -> Broken:
    number, egress, protocol, ports, named, allow = _ACL_DENIALS[kit.variant]
    acl = _subnet_acl(kit.ec2, built.subnet_ids[0])["NetworkAclId"]
    entry: dict[str, Any] = {"RuleNumber": number, "Protocol": protocol, "Egress": egress}
    if ports:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    kit.ec2.create_network_acl_entry(NetworkAclId=acl, RuleAction="deny", CidrBlock="0.0.0.0/0", **entry)
    direction = "--egress" if egress else "--ingress"
    remove = f"delete-network-acl-entry --network-acl-id {acl} {direction} --rule-number {number}"
    return Broken(built.spec, acl, (remove, allow), (named, f"rule {number}", *built.subnet_ids))


_SG_RULES = {  # check -> (severity, egress, rule)
    "SG-2": (Severity.ERROR, False, "443"),
    "SG-3": (Severity.INFO, False, "22"),
    "SG-4": (Severity.ERROR, False, SELF_ALL),
    "SG-5": (Severity.ERROR, True, "all-out"),
    "SG-6": (Severity.WARNING, True, SELF_ALL),
}
_SG_REMEDIES = {
    "SG-2": "--protocol tcp --port 443",
    "SG-3": "--protocol tcp --port 22",
    "SG-4": "authorize-security-group-ingress",
    "SG-5": "authorize-security-group-egress",
    "SG-6": "authorize-security-group-egress",
}


def _revoke_rule(built: BuiltCloud, kit: Kit) -> Broken:
    _, egress, rule = _SG_RULES[kit.variant]
    revoke = kit.ec2.revoke_security_group_egress if egress else kit.ec2.revoke_security_group_ingress
    revoke(GroupId=built.sg_id, IpPermissions=[_permission(rule, built.sg_id)])
    remedy = [_SG_REMEDIES[kit.variant], f"--group-id {built.sg_id}"]
    if kit.variant in ("SG-4", "SG-6"):
        remedy.append(built.sg_id)  # the source or destination is the group itself
    if kit.variant == "SG-2" and built.spec.is_private:
        remedy.append("--cidr 10.0.0.0/16")  # a private cloud is reached from inside the VPC
    return Broken(built.spec, built.sg_id, tuple(remedy))


for _check, (_severity, _, _) in _SG_RULES.items():
    scenario(COMMON, f"{_check}-rule-revoked", _check, _severity, _check)(_revoke_rule)


@scenario(COMMON, "SG-1-group-of-another-vpc", "SG-1", Severity.ERROR)
def _foreign_group(built: BuiltCloud, kit: Kit) -> Broken:
    other = kit.ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    group = kit.ec2.create_security_group(GroupName="elsewhere", Description="x", VpcId=other)["GroupId"]
    spec = built.with_resources(security_group_ids=[built.sg_id, group])
    return Broken(spec, group, (f"security group of VPC {built.vpc_id}",), (other,))


@scenario(COMMON, "IAM-1-role-missing", "IAM-1", Severity.ERROR)
def _role_missing(built: BuiltCloud, kit: Kit) -> Broken:
    ghost = f"arn:aws:iam::{ACCOUNT}:role/customer/no-such-role"
    # A customer-defined cloud has no stack to restore it from. Without its role, cloudplane's access is
    # gone: IAM-11 says so.
    return Broken(
        built.with_resources(controlplane_role_arn=ghost),
        ghost,
        ("no-such-role", "register the cloud"),
        also=frozenset({"IAM-11"}),
    )


@scenario(COMMON, "IAM-2-trusts-another-account", "IAM-2", Severity.ERROR)
def _trusts_other(built: BuiltCloud, kit: Kit) -> Broken:
    condition = {"StringEquals": {"sts:ExternalId": built.spec.external_id}}
    _trust(kit.iam, built.cp_role, [_assume("arn:aws:iam::999999999999:root", condition)])
    # AWS refuses AssumeRole as well, so IAM-11 fails with it.
    return Broken(
        built.spec,
        built.cp_role,
        (str(built.spec.controlplane_principal), "sts:AssumeRole"),
        also=frozenset({"IAM-11"}),
    )


@scenario(COMMON, "IAM-3-no-external-id", "IAM-3", Severity.ERROR, "none", (PUBLIC,))
@scenario(COMMON, "IAM-3-wrong-external-id", "IAM-3", Severity.ERROR, "wrong", (PRIVATE,))
def _external_id(built: BuiltCloud, kit: Kit) -> Broken:
    condition = {"StringEquals": {"sts:ExternalId": "someone-elses-id"}} if kit.variant == "wrong" else None
    _trust(kit.iam, built.cp_role, [_assume(str(built.spec.controlplane_principal), condition)])
    # With no condition the role can still be assumed; with another's External ID AWS refuses (IAM-11).
    refused = frozenset({"IAM-11"}) if kit.variant == "wrong" else frozenset()
    return Broken(built.spec, built.cp_role, ("sts:ExternalId", str(built.spec.external_id)), also=refused)


_STEADY = policies.STEADY_STATE_POLICY_NAME


@scenario(COMMON, "IAM-4-policy-missing", "IAM-4", Severity.ERROR, "missing", (PUBLIC,))
@scenario(COMMON, "IAM-4-deny-inline", "IAM-4", Severity.ERROR, "inline", (PRIVATE,))
@scenario(COMMON, "IAM-4-deny-managed", "IAM-4", Severity.ERROR, "managed", (PUBLIC,))
@scenario(COMMON, "IAM-4-deny-not-action", "IAM-4", Severity.ERROR, "not-action", (PRIVATE,))
def _steady_state(built: BuiltCloud, kit: Kit) -> Broken:
    if kit.variant == "missing":
        kit.iam.delete_role_policy(RoleName=role_name(built.cp_role), PolicyName=_STEADY)
        # iam:PassRole went with the policy, so the instance role cannot be passed either.
        return Broken(
            built.spec,
            built.cp_role,
            ("iam:PassRole", _STEADY),
            ("ec2:RunInstances",),
            also=frozenset({"IAM-6"}),
        )
    if kit.variant == "not-action":
        # Denies everything but the listed services: ec2:RunInstances among them.
        keep = [
            "iam:*",
            "elasticloadbalancing:*",
            "acm:*",
            "cloudformation:*",
            "tag:*",
            "ec2:Describe*",
            "elasticfilesystem:*",
        ]
        deny = {"Sid": "OnlyReads", "Effect": "Deny", "NotAction": keep, "Resource": "*"}
    else:
        deny = {"Sid": "NoLaunch", "Effect": "Deny", "Action": "ec2:Run*", "Resource": "*"}
    if kit.variant == "managed":
        arn = kit.iam.create_policy(
            PolicyName=f"{built.cloud_id}-guardrail", PolicyDocument=json.dumps(policies.document([deny]))
        )["Policy"]["Arn"]
        kit.iam.attach_role_policy(RoleName=role_name(built.cp_role), PolicyArn=arn)
        source = f"managed policy {built.cloud_id}-guardrail"
    else:
        _put(kit.iam, built.cp_role, "Guardrail", [deny])
        source = "inline policy Guardrail"
    return Broken(built.spec, built.cp_role, ("ec2:RunInstances", source), ("ec2:RunInstances", source))


@scenario(COMMON, "IAM-5-services-policy-missing", "IAM-5", Severity.WARNING)
def _services(built: BuiltCloud, kit: Kit) -> Broken:
    name = policies.SERVICE_STEADY_STATE_POLICY_NAME
    kit.iam.delete_role_policy(RoleName=role_name(built.cp_role), PolicyName=name)
    return Broken(
        built.spec, built.cp_role, ("cloudformation:CreateStack", name), ("acm:RequestCertificate",)
    )


@scenario(COMMON, "IAM-6-pass-role-scoped-to-another-role", "IAM-6", Severity.ERROR)
def _pass_role_scoped(built: BuiltCloud, kit: Kit) -> Broken:
    other = f"arn:aws:iam::{ACCOUNT}:role/some-other-role"
    statements = policies.steady_state_statements()
    statements[0]["Resource"] = other
    _put(kit.iam, built.cp_role, _STEADY, statements)
    return Broken(
        built.spec,
        built.cp_role,
        (f"iam:PassRole on {built.instance_role}",),
        (f"iam:PassRole on {built.instance_role}", f"allowed only on {other}"),
    )


@scenario(COMMON, "IAM-7-instance-role-trusts-another-service", "IAM-7", Severity.ERROR)
def _instance_trust(built: BuiltCloud, kit: Kit) -> Broken:
    other = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    _trust(kit.iam, built.instance_role, [other])
    return Broken(built.spec, built.instance_role, ("ec2.amazonaws.com",))


@scenario(COMMON, "IAM-8-profile-without-role", "IAM-8", Severity.ERROR)
def _profile(built: BuiltCloud, kit: Kit) -> Broken:
    name = role_name(built.instance_role)
    kit.iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
    return Broken(
        built.spec, built.instance_role, (f"add-role-to-instance-profile --instance-profile-name {name}",)
    )


@scenario(COMMON, "IAM-9-no-bucket-access", "IAM-9", Severity.ERROR)
def _bucket_access(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("s3").delete_bucket_policy(Bucket=built.bucket)
    kit.iam.delete_role_policy(RoleName=role_name(built.instance_role), PolicyName="CloudBucket")
    bucket_arn = f"arn:aws:s3:::{built.bucket}"
    return Broken(
        built.spec, built.instance_role, (f"s3:ListBucket on {bucket_arn}", f"s3:PutObject on {bucket_arn}/*")
    )


@scenario(COMMON, "IAM-10-sse-kms-without-key-grant", "IAM-10", Severity.WARNING)
def _kms(built: BuiltCloud, kit: Kit) -> Broken:
    key = kit.aws("kms").create_key()["KeyMetadata"]["Arn"]
    kit.aws("s3").put_bucket_encryption(
        Bucket=built.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
            ]
        },
    )
    # Only the instance role is left without the key: the control-plane role gets it.
    grant = {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": key}
    _put(kit.iam, built.cp_role, "BucketKey", [grant])
    return Broken(
        built.spec, built.instance_role, ("kms:GenerateDataKey", "kms:Decrypt", key), (key, built.bucket)
    )


@scenario(COMMON, "IAM-11-assume-role-refused", "IAM-11", Severity.ERROR)
def _assume_refused(built: BuiltCloud, kit: Kit) -> Broken:
    # A trust the static checks accept (the principal, this cloud's External ID), with a further condition
    # only the caller's own role would meet: AWS refuses the caller, and only IAM-11 can tell.
    condition = {
        "StringEquals": {"sts:ExternalId": built.spec.external_id},
        "StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deployer-*"},
    }
    _trust(kit.iam, built.cp_role, [_assume(str(built.spec.controlplane_principal), condition)])
    return Broken(built.spec, built.cp_role, ("IAM-3",), ("AccessDenied",))


@scenario(COMMON, "S3-1-bucket-missing", "S3-1", Severity.ERROR)
def _bucket_missing(built: BuiltCloud, kit: Kit) -> Broken:
    ghost = f"{built.bucket}-gone"
    return Broken(built.with_resources(s3_bucket_id=ghost), ghost, (f"create-bucket --bucket {ghost}",))


@scenario(COMMON, "S3-2-bucket-in-another-region", "S3-2", Severity.WARNING)
def _bucket_elsewhere(built: BuiltCloud, kit: Kit) -> Broken:
    elsewhere = f"{built.bucket}-eu"
    _bucket(kit.aws("s3", "eu-west-1"), elsewhere, built.instance_role, "eu-west-1")
    return Broken(
        built.with_resources(s3_bucket_id=elsewhere), elsewhere, (f"bucket in {REGION}",), ("eu-west-1",)
    )


@scenario(COMMON, "S3-3-cors-removed", "S3-3", Severity.WARNING)
def _cors(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("s3").delete_bucket_cors(Bucket=built.bucket)
    return Broken(built.spec, built.bucket, (policies.CONSOLE_ORIGIN, "DELETE"))


@scenario(COMMON, "S3-4-public-access-not-blocked", "S3-4", Severity.WARNING)
def _public_access(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("s3").delete_public_access_block(Bucket=built.bucket)
    return Broken(built.spec, built.bucket, (f"put-public-access-block --bucket {built.bucket}",))


@scenario(COMMON, "S3-5-versioning-suspended", "S3-5", Severity.INFO)
def _versioning(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("s3").put_bucket_versioning(Bucket=built.bucket, VersioningConfiguration={"Status": "Suspended"})
    return Broken(built.spec, built.bucket, ("Status=Enabled",))


@scenario(COMMON, "EFS-1-file-system-missing", "EFS-1", Severity.ERROR, efs=True)
def _efs_missing(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(built.with_resources(efs_id="fs-00000000"), "fs-00000000", ("file system id",))


@scenario(COMMON, "EFS-2-no-mount-targets", "EFS-2", Severity.ERROR, efs=True)
def _no_targets(built: BuiltCloud, kit: Kit) -> Broken:
    for target in built.mount_target_ids:
        kit.aws("efs").delete_mount_target(MountTargetId=target)
    spec = built.with_resources(efs_mount_target_ips=[])
    return Broken(spec, str(built.fs_id), (f"create-mount-target --file-system-id {built.fs_id}",))


@scenario(COMMON, "EFS-3-subnet-in-zone-without-mount-target", "EFS-3", Severity.WARNING, efs=True)
def _zone_without_target(built: BuiltCloud, kit: Kit) -> Broken:
    # The customer adds a subnet in a fourth zone, routed like the others, but no mount target there.
    extra = _zone_d_subnet(kit, built, built.vpc_id, "10.0.100.0/24")
    kit.ec2.associate_route_table(RouteTableId=built.route_table_id, SubnetId=extra)
    spec = built.with_resources(subnet_ids=[*built.subnet_ids, extra])
    return Broken(spec, extra, (f"create-mount-target --file-system-id {built.fs_id} --subnet-id {extra}",))


@scenario(COMMON, "EFS-4-mount-target-without-nfs", "EFS-4", Severity.ERROR, efs=True)
def _no_nfs(built: BuiltCloud, kit: Kit) -> Broken:
    https_only = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": built.sg_id}]}
    ]
    group = _group(kit.ec2, built, "mount-target", https_only)
    target = built.mount_target_ids[1]
    kit.aws("efs").modify_mount_target_security_groups(MountTargetId=target, SecurityGroups=[group])
    return Broken(
        built.spec, target, (f"--group-id {group} --protocol tcp --port 2049 --source-group {built.sg_id}",)
    )


@scenario(COMMON, "EFS-5-registered-ip-gone", "EFS-5", Severity.ERROR, efs=True)
def _stale_ip(built: BuiltCloud, kit: Kit) -> Broken:
    registered = [*built.spec.resources.efs_mount_target_ips, "10.0.7.77"]
    valid = tuple(built.spec.resources.efs_mount_target_ips)
    return Broken(
        built.with_resources(efs_mount_target_ips=registered), "10.0.7.77", ("efs_mount_target_ips",), valid
    )


@scenario(COMMON, "EFS-6-backups-off", "EFS-6", Severity.WARNING, efs=True, efs_backup=False)
def _backups(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(built.spec, str(built.fs_id), ("Status=ENABLED",))


@scenario(COMMON, "MDB-1-cluster-missing", "MDB-1", Severity.ERROR)
def _cluster_missing(built: BuiltCloud, kit: Kit) -> Broken:
    # A customer-defined cloud points at another cluster instead of re-creating one through a stack.
    spec = built.with_resources(memorydb_cluster_id="no-such-cluster")
    return Broken(spec, "no-such-cluster", ("cloudplane cloud edit --memorydb-cluster-id",))


@scenario(COMMON, "MDB-2-cluster-in-another-vpc", "MDB-2", Severity.ERROR, memorydb=True)
def _cluster_elsewhere(built: BuiltCloud, kit: Kit) -> Broken:
    other_vpc = kit.ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        kit.ec2.create_subnet(VpcId=other_vpc, CidrBlock=f"10.3.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in enumerate("ab")
    ]
    group = f"{built.cluster}-elsewhere"
    kit.aws("memorydb").create_subnet_group(SubnetGroupName=group, SubnetIds=subnets)
    other = _another_cluster(kit.aws("memorydb"), built, "b", SubnetGroupName=group)
    spec = built.with_resources(memorydb_cluster_id=other)
    return Broken(spec, other, ("subnet group",), (other_vpc, subnets[0]))


@scenario(COMMON, "MDB-3-cluster-without-cloud-group", "MDB-3", Severity.WARNING, memorydb=True)
def _cluster_group(built: BuiltCloud, kit: Kit) -> Broken:
    group = kit.ec2.create_security_group(GroupName="cache", Description="cache", VpcId=built.vpc_id)[
        "GroupId"
    ]
    other = _another_cluster(kit.aws("memorydb"), built, "c", SecurityGroupIds=[group])
    spec = built.with_resources(memorydb_cluster_id=other)
    return Broken(spec, other, (f"--security-group-ids {group} {built.sg_id}",), (group,))


@scenario(COMMON, "MDB-4-tls-off", "MDB-4", Severity.ERROR, memorydb=True, memorydb_tls=False)
def _tls(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(built.spec, str(built.cluster), ("--tls-enabled",))


@scenario(COMMON, "MDB-5-no-replica", "MDB-5", Severity.ERROR, memorydb=True)
def _replicas(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("memorydb").update_cluster(ClusterName=built.cluster, ReplicaConfiguration={"ReplicaCount": 0})
    return Broken(built.spec, str(built.cluster), ("ReplicaCount=1",), ("1 node",))


@scenario(COMMON, "MDB-6-wrong-eviction", "MDB-6", Severity.ERROR, memorydb=True)
def _eviction(built: BuiltCloud, kit: Kit) -> Broken:
    kit.aws("memorydb").update_parameter_group(
        ParameterGroupName=built.parameter_group,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "volatile-lru"}],
    )
    return Broken(built.spec, str(built.cluster), ("ParameterValue=allkeys-lru",), ("volatile-lru",))


@scenario(COMMON, "QUOTA-2-vcpu-quota-too-low", "QUOTA-2", Severity.WARNING)
def _vcpu_quota(built: BuiltCloud, kit: Kit) -> Broken:
    kit.sandbox.set_quota(*VCPU_QUOTA, 4, region=REGION)
    kit.cleanups.append(lambda: kit.sandbox.set_quota(*VCPU_QUOTA, 64, region=REGION))
    return Broken(built.spec, "ec2/L-1216C47A", ("request-service-quota-increase",), ("4", "8"))


# -- rules of public networking only ----------------------------------------------------------

PUBLIC_ONLY: list[Scenario] = []


@scenario(PUBLIC_ONLY, "VPC-4-internet-gateway-detached", "VPC-4", Severity.ERROR)
def _igw_detached(built: BuiltCloud, kit: Kit) -> Broken:
    # AWS would also turn the subnets' routes to the gateway into blackholes (SUB-6); the emulator
    # keeps them active, so only VPC-4 fails here.
    kit.ec2.detach_internet_gateway(InternetGatewayId=built.igw_id, VpcId=built.vpc_id)
    return Broken(
        built.spec,
        built.vpc_id,
        (f"attach-internet-gateway --internet-gateway-id <igw-id> --vpc-id {built.vpc_id}",),
    )


@scenario(PUBLIC_ONLY, "SUB-5-two-subnets-share-a-zone", "SUB-5", Severity.ERROR, subnets_per_az=2)
def _shared_zone(built: BuiltCloud, kit: Kit) -> Broken:
    return Broken(built.spec, built.subnet_ids[3], (f"drop {built.subnet_ids[3]}",), (built.subnet_ids[0],))


def association_id(kit: Kit, table_id: str, subnet_id: str) -> str:
    table = kit.ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return str(
        next(a for a in table["Associations"] if a.get("SubnetId") == subnet_id)["RouteTableAssociationId"]
    )


def main_table(kit: Kit, vpc_id: str) -> str:
    tables = kit.ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    return str(tables[0]["RouteTableId"])


@scenario(PUBLIC_ONLY, "SUB-6-main-table-fallback", "SUB-6", Severity.ERROR, "fallback")
@scenario(PUBLIC_ONLY, "SUB-6-route-deleted", "SUB-6", Severity.ERROR, "deleted")
@scenario(PUBLIC_ONLY, "SUB-6-route-to-nat", "SUB-6", Severity.ERROR, "nat")
def _no_igw_route(built: BuiltCloud, kit: Kit) -> Broken:
    subnet, table = built.subnet_ids[1], built.route_table_id
    if kit.variant == "fallback":
        # Without an association of its own the subnet uses the main table, which has no route out.
        kit.ec2.disassociate_route_table(AssociationId=association_id(kit, table, subnet))
        main = main_table(kit, built.vpc_id)
        return Broken(
            built.spec,
            subnet,
            (
                f"associate-route-table --subnet-id {subnet} --route-table-id {table}",
                f"--route-table-id {main}",
            ),
            (f"main route table {main}",),
            also=frozenset({"VPC-5"}),  # the S3 endpoint does not serve the main table either
        )
    if kit.variant == "deleted":
        kit.ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
        fix = f"create-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 --gateway-id {built.igw_id}"
        return Broken(built.spec, subnet, (fix,), (f"its route table {table} has no 0.0.0.0/0 route",))
    allocation = kit.ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = kit.ec2.create_nat_gateway(SubnetId=built.subnet_ids[0], AllocationId=allocation)["NatGateway"]
    kit.ec2.replace_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"]
    )
    fix = f"replace-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 --gateway-id {built.igw_id}"
    return Broken(built.spec, subnet, (fix,), (nat["NatGatewayId"],))


# -- tests -------------------------------------------------------------------------------------

EXPECTED_CHECKS = (
    {f"VPC-{n}" for n in range(1, 6)}
    | {f"SUB-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 9)}
    | {f"SG-{n}" for n in range(1, 7)}
    | {f"IAM-{n}" for n in range(1, 12)}
    | {f"S3-{n}" for n in range(1, 6)}
    | {"QUOTA-2"}
)
EFS_CHECKS = {f"EFS-{n}" for n in range(1, 7)}
MDB_CHECKS = {f"MDB-{n}" for n in range(1, 7)}


@pytest.mark.parametrize("extras", [False, True], ids=["bare", "efs-and-memorydb"])
def test_correct_cloud_passes(make_cloud: Make, verify: Verify, extras: bool) -> None:
    built = make_cloud(deployment=CUSTOMER_DEFINED, efs=extras, memorydb=extras)
    assert built.stack_id is None
    report = verify(built.spec, strict=False)
    assert {f.check for f in report.findings} == EXPECTED_CHECKS | (
        EFS_CHECKS | MDB_CHECKS if extras else set()
    )
    assert [(f.check, f.message) for f in report.findings if not f.passed] == []
    assert report.passed and report.cloud["deployment"] == CUSTOMER_DEFINED


def test_stack_checks_never_run_for_a_customer_defined_cloud(make_cloud: Make, verify: Verify) -> None:
    # Even a stack id left in the record (say, from an earlier managed life) is not judged.
    built = make_cloud(deployment=CUSTOMER_DEFINED)
    report = verify(built.with_resources(cloudformation_stack_id="cloudplane-no-such-stack"))
    assert not [f for f in report.findings if f.check.startswith("CFN")] and report.passed


SCENARIOS = for_mode(COMMON, PUBLIC) + PUBLIC_ONLY


@pytest.mark.parametrize("item", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_rule(item: Scenario, make_cloud: Make, shared_aws: Any, sandbox: Any, clients: AwsClients) -> None:
    run_scenario(item, False, make_cloud, shared_aws, sandbox, clients)


def test_sub6_main_table_with_the_route_serves_unassociated_subnets(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(deployment=CUSTOMER_DEFINED)
    kit = Kit(shared_aws, None)
    main = main_table(kit, built.vpc_id)
    kit.ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=built.igw_id)
    kit.ec2.modify_vpc_endpoint(VpcEndpointId=built.endpoint_id, AddRouteTableIds=[main])
    for subnet in built.subnet_ids:
        kit.ec2.disassociate_route_table(AssociationId=association_id(kit, built.route_table_id, subnet))
    report = verify(built.spec)
    assert_passes(report, "SUB-6")
    assert failed_checks(report) == set()


def test_iam4_wildcards_and_not_action_grant_everything(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(deployment=CUSTOMER_DEFINED)
    iam = shared_aws("iam")
    for name in policies.controlplane_inline_policies():
        iam.delete_role_policy(RoleName=role_name(built.cp_role), PolicyName=name)
    wide = [
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        # Everything but IAM and EC2: file systems, load balancers, certificates, stacks.
        {"Effect": "Allow", "NotAction": ["iam:*", "ec2:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*Role*", "Resource": "arn:aws:iam::*:role/*"},
        {"Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": "*"},
    ]
    _put(iam, built.cp_role, "Wide", wide)
    report = verify(built.spec)
    for check in ("IAM-4", "IAM-5", "IAM-6"):
        assert_passes(report, check)
    assert failed_checks(report) == set()
