"""Per-run data access for the checks: fetched lazily, cached, batched, safe to share between threads.

Each resource type is described once for all the cloud's ids (subnets, groups, route tables and
network ACLs of the VPC, mount targets of the file system ...), so the number of API calls does not
grow with the number of subnets. A resource that does not exist comes back as None (or is absent
from a mapping); any other API error is cached and raised again to every check that asks.

Given a thread pool, a context also makes its calls side by side: `prefetch` starts the reads the checks
declared before any check asks, and `each` fans out the calls of one read (the policies of a role, the
resource types of a stack), so the longest chain of calls that wait on one another stays short.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Executor
from typing import Any, TypeVar

from cloudplane.aws import regions
from cloudplane.aws.errors import NOT_FOUND_CODES, AwsError, error_code
from cloudplane.aws.quotas import Quota, QuotaValue, read_quota
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.verify.iam_eval import PolicySet, Statement, statements_of

T = TypeVar("T")
R = TypeVar("R")
Item = dict[str, Any]
DNS_ATTRIBUTES = ("enableDnsSupport", "enableDnsHostnames")

# kind -> (describe operation, result key, id filter, id field)
_EC2_KINDS: dict[str, tuple[str, str, str, str]] = {
    "vpc": ("describe_vpcs", "Vpcs", "vpc-id", "VpcId"),
    "subnet": ("describe_subnets", "Subnets", "subnet-id", "SubnetId"),
    "security-group": ("describe_security_groups", "SecurityGroups", "group-id", "GroupId"),
    "internet-gateway": (
        "describe_internet_gateways",
        "InternetGateways",
        "internet-gateway-id",
        "InternetGatewayId",
    ),
    "route-table": ("describe_route_tables", "RouteTables", "route-table-id", "RouteTableId"),
    "network-acl": ("describe_network_acls", "NetworkAcls", "network-acl-id", "NetworkAclId"),
    "vpc-endpoint": ("describe_vpc_endpoints", "VpcEndpoints", "vpc-endpoint-id", "VpcEndpointId"),
    "network-interface": (
        "describe_network_interfaces",
        "NetworkInterfaces",
        "network-interface-id",
        "NetworkInterfaceId",
    ),
    "nat-gateway": ("describe_nat_gateways", "NatGateways", "nat-gateway-id", "NatGatewayId"),
}


def _absent(exc: AwsError, *codes: str) -> bool:
    code = error_code(exc)
    return code in NOT_FOUND_CODES or code in codes


def role_name(arn: str) -> str:
    """The name is the last path element: arn:aws:iam::123:role/some/path/name -> name."""
    return arn.rsplit("/", 1)[-1]


class VerifyContext:
    def __init__(self, spec: CloudSpec, aws: AwsClients, pool: Executor | None = None) -> None:
        """pool: where reads run side by side; without one, every call is made in the asking thread."""
        self.spec = spec
        self.aws = aws
        self.res = spec.resources
        self._pool = pool
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._cache: dict[Hashable, tuple[Any, BaseException | None]] = {}

    # -- caching and concurrency -------------------------------------------------------------

    def memo(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """fetch() once per key for the whole run; threads asking meanwhile wait for its answer or error."""
        return self._memo(key, fetch)

    def each(self, fetch: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fetch(item) for every item, side by side when there is a pool; the answers in the items' order.

        This thread does the first item itself, and any item the pool has not started by the time its answer
        is wanted: waiting on the pool can then never hold up a read, however busy the pool is."""
        items = list(items)
        if self._pool is None or len(items) < 2:
            return [fetch(item) for item in items]
        futures = [self._pool.submit(fetch, item) for item in items[1:]]
        answers = [fetch(items[0])]
        for item, future in zip(items[1:], futures, strict=True):
            answers.append(fetch(item) if future.cancel() else future.result())
        return answers

    def prefetch(self, reads: Iterable[Callable[[VerifyContext], object]]) -> None:
        """Start every read now, each in the pool (no-op without one); the checks then find them cached."""
        if self._pool is None:
            return
        for read in reads:
            self._pool.submit(self._warm, read)

    def _warm(self, read: Callable[[VerifyContext], object]) -> None:
        # A read caches its error; the check that needs the read raises it again and reports it.
        with contextlib.suppress(Exception):
            read(self)

    def _memo(self, key: Hashable, fetch: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                try:
                    self._cache[key] = (fetch(), None)
                except Exception as exc:  # cached so that every check asking sees the same error
                    self._cache[key] = (None, exc)
            value, error = self._cache[key]
        if error is not None:
            raise error
        return value

    def _describe(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Item]:
        client = self.aws.client(service)
        if client.can_paginate(operation):
            items: list[Item] = []
            for page in client.get_paginator(operation).paginate(**kwargs):
                items.extend(page.get(key, []))
            return items
        return list(getattr(client, operation)(**kwargs).get(key, []))

    def _ec2_filtered(self, kind: str, name: str, values: Iterable[str | None]) -> list[Item]:
        wanted = sorted(v for v in values if v)
        if not wanted:
            return []
        operation, key, _, _ = _EC2_KINDS[kind]
        return self._describe("ec2", operation, key, Filters=[{"Name": name, "Values": wanted}])

    # -- account -----------------------------------------------------------------------------

    def account_id(self) -> str:
        return self._memo("account", self.aws.account_id)

    # -- EC2 ---------------------------------------------------------------------------------

    def ec2_by_ids(self, kind: str, ids: Iterable[str]) -> dict[str, Item]:
        """The existing resources among `ids`, in one call (an id filter does not fail on strays)."""
        wanted = frozenset(i for i in ids if i)
        if not wanted:
            return {}
        _, _, id_filter, id_field = _EC2_KINDS[kind]

        def fetch() -> dict[str, Item]:
            return {item[id_field]: item for item in self._ec2_filtered(kind, id_filter, wanted)}

        return self._memo(("ec2", kind, wanted), fetch)

    def vpc(self) -> Item | None:
        if not self.res.vpc_id:
            return None
        return self.ec2_by_ids("vpc", [self.res.vpc_id]).get(self.res.vpc_id)

    def vpc_attribute(self, attribute: str) -> bool:
        """attribute: one of DNS_ATTRIBUTES."""

        def fetch() -> bool:
            answer = self.aws.client("ec2").describe_vpc_attribute(VpcId=self.res.vpc_id, Attribute=attribute)
            field = attribute[0].upper() + attribute[1:]
            return bool(answer.get(field, {}).get("Value"))

        return self._memo(("vpc-attribute", attribute), fetch)

    def vpc_dns(self) -> dict[str, bool]:
        """Both DNS attributes of the cloud's VPC, asked side by side (none without a VPC id)."""
        if not self.res.vpc_id:
            return {}
        return dict(zip(DNS_ATTRIBUTES, self.each(self.vpc_attribute, DNS_ATTRIBUTES), strict=True))

    def internet_gateways(self) -> list[Item]:
        """Internet gateways attached to the cloud's VPC."""
        return self._memo(
            "igws", lambda: self._ec2_filtered("internet-gateway", "attachment.vpc-id", [self.res.vpc_id])
        )

    def subnets(self) -> dict[str, Item]:
        return self.ec2_by_ids("subnet", self.res.subnet_ids)

    def _network_vpcs(self) -> set[str]:
        """The cloud's VPC and the VPCs of its subnets (strays are reported, but routed where they are)."""
        vpcs = {s["VpcId"] for s in self.subnets().values()}
        if self.res.vpc_id:
            vpcs.add(self.res.vpc_id)
        return vpcs

    def _in_network_vpcs(self, kind: str) -> list[Item]:
        """Items of an EC2 kind in the cloud's VPC, asked at once (no need to wait for the subnets), and in
        the other VPCs of its subnets, if any, in one more call."""
        own = self.res.vpc_id
        items = self._memo((kind, own), lambda: self._ec2_filtered(kind, "vpc-id", [own])) if own else []
        strays = frozenset(self._network_vpcs() - {own})
        if strays:
            items = items + self._memo((kind, strays), lambda: self._ec2_filtered(kind, "vpc-id", strays))
        return items

    def route_tables(self) -> list[Item]:
        return self._in_network_vpcs("route-table")

    def route_table_for(self, subnet: Item) -> tuple[Item | None, bool]:
        """The table routing a subnet and whether it is explicitly associated (else the main table)."""
        tables = self.route_tables()
        for table in tables:
            if any(a.get("SubnetId") == subnet["SubnetId"] for a in table.get("Associations", [])):
                return table, True
        for table in tables:
            if table.get("VpcId") == subnet["VpcId"] and any(
                a.get("Main") for a in table.get("Associations", [])
            ):
                return table, False
        return None, False

    def nat_gateways(self) -> dict[str, Item]:
        """NAT gateways of the cloud's VPC (and of its subnets' VPCs), deleted ones included."""
        return {item["NatGatewayId"]: item for item in self._in_network_vpcs("nat-gateway")}

    def network_acls(self) -> list[Item]:
        return self._in_network_vpcs("network-acl")

    def network_acl_for(self, subnet: Item) -> Item | None:
        acls = self.network_acls()
        for acl in acls:
            if any(a.get("SubnetId") == subnet["SubnetId"] for a in acl.get("Associations", [])):
                return acl
        return next((a for a in acls if a.get("VpcId") == subnet["VpcId"] and a.get("IsDefault")), None)

    def vpc_endpoints(self) -> list[Item]:
        return self._memo(
            "vpc-endpoints", lambda: self._ec2_filtered("vpc-endpoint", "vpc-id", [self.res.vpc_id])
        )

    def security_groups(self) -> dict[str, Item]:
        return self.ec2_by_ids("security-group", self.res.security_group_ids)

    def groups_by_ids(self, ids: Iterable[str]) -> dict[str, Item]:
        """Any groups, reusing the cloud's groups already fetched; one more call only for others."""
        wanted = set(ids)
        known = self.security_groups()
        found = {i: known[i] for i in wanted if i in known}
        others = wanted - set(self.res.security_group_ids)
        found.update(self.ec2_by_ids("security-group", others))
        return found

    # -- IAM ---------------------------------------------------------------------------------

    def role(self, arn: str) -> Item | None:
        def fetch() -> Item | None:
            try:
                return self.aws.client("iam").get_role(RoleName=role_name(arn))["Role"]
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise

        return self._memo(("role", arn), fetch)

    def role_policies(self, arn: str) -> PolicySet:
        """Inline policies and the default versions of attached managed policies of a role: both lists
        asked side by side, then every document side by side."""
        name = role_name(arn)

        def listing(operation: tuple[str, str]) -> list[Any]:
            return self._describe("iam", *operation, RoleName=name)

        def document(entry: str | Item) -> list[Statement]:
            iam = self.aws.client("iam")
            if isinstance(entry, str):  # an inline policy's name
                doc = iam.get_role_policy(RoleName=name, PolicyName=entry)["PolicyDocument"]
                return statements_of(doc, f"inline policy {entry}")
            policy = iam.get_policy(PolicyArn=entry["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=entry["PolicyArn"], VersionId=policy["DefaultVersionId"]
            )
            return statements_of(
                version["PolicyVersion"]["Document"], f"managed policy {entry['PolicyName']}"
            )

        def fetch() -> PolicySet:
            names, attached = self.each(
                listing,
                [("list_role_policies", "PolicyNames"), ("list_attached_role_policies", "AttachedPolicies")],
            )
            policies = PolicySet()
            for statements in self.each(document, [*names, *attached]):
                policies.extend(statements)
            return policies

        return self._memo(("role-policies", arn), fetch)

    def controlplane_role(self) -> Item | None:
        arn = self.res.controlplane_role_arn
        return self.role(arn) if arn else None

    def instance_role(self) -> Item | None:
        arn = self.res.instance_role_arn
        return self.role(arn) if arn else None

    def controlplane_policies(self) -> PolicySet | None:
        arn = self.res.controlplane_role_arn
        return self.role_policies(arn) if arn else None

    def instance_policies(self) -> PolicySet | None:
        arn = self.res.instance_role_arn
        return self.role_policies(arn) if arn else None

    def instance_role_profile(self) -> Item | None:
        """The instance profile named after the instance role (as IAM-8 expects it)."""
        arn = self.res.instance_role_arn
        return self.instance_profile(role_name(arn)) if arn else None

    def instance_profile(self, name: str) -> Item | None:
        def fetch() -> Item | None:
            try:
                return self.aws.client("iam").get_instance_profile(InstanceProfileName=name)[
                    "InstanceProfile"
                ]
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise

        return self._memo(("instance-profile", name), fetch)

    # -- S3 ----------------------------------------------------------------------------------

    def _s3(self, operation: str, absent: tuple[str, ...], **kwargs: Any) -> Item | None:
        if not self.res.s3_bucket_id:
            return None

        def fetch() -> Item | None:
            try:
                return getattr(self.aws.client("s3"), operation)(Bucket=self.res.s3_bucket_id, **kwargs)
            except AwsError as exc:
                if _absent(exc, *absent):
                    return None
                raise

        return self._memo(("s3", operation), fetch)

    def bucket_region(self) -> str | None:
        """None when the bucket does not exist."""
        answer = self._s3("get_bucket_location", ())
        if answer is None:
            return None
        location = answer.get("LocationConstraint") or "us-east-1"
        return "eu-west-1" if location == "EU" else location

    def bucket_cors_rules(self) -> list[Item]:
        answer = self._s3("get_bucket_cors", ("NoSuchCORSConfiguration",))
        return list((answer or {}).get("CORSRules", []))

    def bucket_public_access_block(self) -> Item | None:
        answer = self._s3("get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",))
        return None if answer is None else answer.get("PublicAccessBlockConfiguration", {})

    def account_public_access_block(self) -> Item | None:
        def fetch() -> Item | None:
            try:
                answer = self.aws.client("s3control").get_public_access_block(AccountId=self.account_id())
            except AwsError as exc:
                if _absent(exc, "NoSuchPublicAccessBlockConfiguration"):
                    return None
                raise
            return answer.get("PublicAccessBlockConfiguration", {})

        return self._memo("account-pab", fetch)

    def bucket_versioning(self) -> str | None:
        return (self._s3("get_bucket_versioning", ()) or {}).get("Status")

    def bucket_policy_statements(self) -> list[Statement]:
        answer = self._s3("get_bucket_policy", ("NoSuchBucketPolicy",))
        if not answer or not answer.get("Policy"):
            return []
        return statements_of(answer["Policy"], "bucket policy")

    def bucket_encryption_rules(self) -> list[Item]:
        answer = self._s3("get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",))
        return list((answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", []))

    def kms_key_policy(self, key_id: str) -> list[Statement]:
        def fetch() -> list[Statement]:
            try:
                answer = self.aws.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")
            except AwsError as exc:
                if _absent(exc, "NotFoundException"):
                    return []
                raise
            return statements_of(answer["Policy"], f"key policy of {key_id}")

        return self._memo(("kms-key-policy", key_id), fetch)

    # -- EFS ---------------------------------------------------------------------------------

    def file_system(self) -> Item | None:
        def fetch() -> Item | None:
            try:
                answer = self.aws.client("efs").describe_file_systems(FileSystemId=self.res.efs_id)
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise
            return next(iter(answer.get("FileSystems", [])), None)

        return self._memo("efs", fetch)

    def mount_targets(self, file_system_id: str | None = None) -> list[Item]:
        fs_id = file_system_id or self.res.efs_id

        def fetch() -> list[Item]:
            try:
                return self._describe("efs", "describe_mount_targets", "MountTargets", FileSystemId=fs_id)
            except AwsError as exc:
                if _absent(exc):
                    return []
                raise

        return self._memo(("mount-targets", fs_id), fetch)

    def mount_target_groups(self) -> dict[str, list[str]]:
        """Security groups per mount target, read in one call from the mount targets' interfaces."""

        def fetch() -> dict[str, list[str]]:
            targets = self.mount_targets()
            enis = self.ec2_by_ids("network-interface", [t.get("NetworkInterfaceId", "") for t in targets])

            def groups_of(target: Item) -> list[str]:
                eni = enis.get(target.get("NetworkInterfaceId", ""))
                if eni is not None:
                    return [g["GroupId"] for g in eni.get("Groups", [])]
                # An interface not visible to us: ask EFS for this one.
                efs = self.aws.client("efs")
                return list(
                    efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])[
                        "SecurityGroups"
                    ]
                )

            return dict(
                zip((t["MountTargetId"] for t in targets), self.each(groups_of, targets), strict=True)
            )

        return self._memo("mount-target-groups", fetch)

    def backup_status(self) -> str | None:
        def fetch() -> str | None:
            try:
                answer = self.aws.client("efs").describe_backup_policy(FileSystemId=self.res.efs_id)
            except AwsError as exc:
                if _absent(exc, "PolicyNotFound"):
                    return None
                raise
            return answer.get("BackupPolicy", {}).get("Status")

        return self._memo("efs-backup", fetch)

    # -- MemoryDB ----------------------------------------------------------------------------

    def memorydb_cluster(self, name: str | None = None) -> Item | None:
        cluster = name or self.res.memorydb_cluster_id

        def fetch() -> Item | None:
            try:
                answer = self.aws.client("memorydb").describe_clusters(
                    ClusterName=cluster, ShowShardDetails=True
                )
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise
            return next(iter(answer.get("Clusters", [])), None)

        return self._memo(("memorydb-cluster", cluster), fetch)

    def memorydb_subnet_group(self, name: str) -> Item | None:
        def fetch() -> Item | None:
            try:
                answer = self.aws.client("memorydb").describe_subnet_groups(SubnetGroupName=name)
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise
            return next(iter(answer.get("SubnetGroups", [])), None)

        return self._memo(("memorydb-subnet-group", name), fetch)

    def memorydb_parameters(self, group: str) -> dict[str, str] | None:
        def fetch() -> dict[str, str] | None:
            try:
                items = self._describe(
                    "memorydb", "describe_parameters", "Parameters", ParameterGroupName=group
                )
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise
            return {p["Name"]: p.get("Value", "") for p in items}

        return self._memo(("memorydb-parameters", group), fetch)

    # -- CloudFormation ----------------------------------------------------------------------

    def stack(self) -> Item | None:
        if not self.res.cloudformation_stack_id:
            return None

        def fetch() -> Item | None:
            try:
                answer = self.aws.client("cloudformation").describe_stacks(
                    StackName=self.res.cloudformation_stack_id
                )
            except AwsError as exc:
                if _absent(exc):
                    return None
                raise
            return next(iter(answer.get("Stacks", [])), None)

        return self._memo("stack", fetch)

    def stack_resources(self) -> list[Item]:
        if not self.res.cloudformation_stack_id:
            return []
        return self._memo(
            "stack-resources",
            lambda: self._describe(
                "cloudformation",
                "list_stack_resources",
                "StackResourceSummaries",
                StackName=self.res.cloudformation_stack_id,
            ),
        )

    # -- Service Quotas ----------------------------------------------------------------------

    def quota(self, quota: Quota) -> QuotaValue:
        """The quota's applied value in the region, else AWS's default (see `cloudplane.aws.quotas`)."""
        return self._memo(("quota", quota.key), lambda: read_quota(self.aws, quota))

    def count(self, kind: str) -> int:
        """How many resources of an EC2 kind (or "elastic-ip") the region holds (for quotas)."""
        if kind == "elastic-ip":
            operation, key = "describe_addresses", "Addresses"
        else:
            operation, key, _, _ = _EC2_KINDS[kind]
        return self._memo(("count", kind), lambda: len(self._describe("ec2", operation, key)))

    def availability_zones(self) -> list[dict[str, str]]:
        """The region's standard zones that are up, sorted by name, each with its name and ID."""
        return self._memo("zones", lambda: regions.availability_zones(self.aws.client("ec2")))

    def nat_gateways_by_zone(self) -> dict[str, int]:
        """NAT gateways of the region that count against the per-zone quota, by zone name."""

        def fetch() -> dict[str, int]:
            live = self._describe(
                "ec2",
                "describe_nat_gateways",
                "NatGateways",
                Filter=[{"Name": "state", "Values": ["pending", "available", "deleting"]}],
            )
            subnets = self.ec2_by_ids("subnet", {n["SubnetId"] for n in live if n.get("SubnetId")})
            counts: dict[str, int] = {}
            for nat in live:
                zone = subnets.get(nat.get("SubnetId", ""), {}).get("AvailabilityZone")
                if zone:
                    counts[zone] = counts.get(zone, 0) + 1
            return counts

        return self._memo("nat-gateways-by-zone", fetch)
