"""MDB-1..6: the MemoryDB cluster behind head-node fault tolerance (counted in the verdict)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudplane.aws import memorydb_zones
from cloudplane.cloud import CloudSpec
from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.outcome import Outcome, fail, note, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "memorydb"
EVICTION = "allkeys-lru"


def _has_memorydb(spec: CloudSpec) -> bool:
    return bool(spec.resources.memorydb_cluster_id)


def _cluster(ctx: VerifyContext) -> Item:
    return require(ctx.memorydb_cluster())


@check("MDB-1", GROUP, Severity.ERROR, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_available(ctx: VerifyContext) -> Iterator[Outcome]:
    name = str(ctx.res.memorydb_cluster_id)
    cluster = ctx.memorydb_cluster()
    if cluster is None:
        yield fail(
            f"MemoryDB cluster {name} does not exist in region {ctx.aws.region}.",
            name,
            "Create it again (cloudplane cloud update --enable-head-node-fault-tolerance) or turn head-node "
            "fault tolerance off for this cloud."
            if ctx.spec.is_managed
            else "Create a cluster in the cloud's subnets and point the cloud at it (cloudplane cloud edit "
            "--memorydb-cluster-id <name>), or go without one (--memorydb-cluster-id none).",
        )
    elif cluster.get("Status") != "available":
        yield fail(
            f"MemoryDB cluster {name} is {cluster.get('Status')}, not available.",
            name,
            "Wait until it is available; if it is failing or being deleted, recreate it.",
        )
    else:
        yield ok(f"MemoryDB cluster {name} is available.", name)


@check("MDB-2", GROUP, Severity.ERROR, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_network(ctx: VerifyContext) -> Iterator[Outcome]:
    cluster = _cluster(ctx)
    name = cluster["Name"]
    group_name = cluster.get("SubnetGroupName", "")
    group = ctx.memorydb_subnet_group(group_name) if group_name else None
    if group is None:
        yield fail(
            f"Subnet group {group_name or '(none)'} of MemoryDB cluster {name} does not exist.",
            name,
            "Recreate the cluster with a subnet group made of the cloud's subnets.",
        )
        return
    bad = False
    if group.get("VpcId") != ctx.res.vpc_id:
        bad = True
        yield fail(
            f"MemoryDB cluster {name} is in VPC {group.get('VpcId')} (subnet group {group_name}), not in the "
            f"cloud's VPC {ctx.res.vpc_id}; head nodes cannot reach it.",
            name,
            "Recreate the cluster with a subnet group of the cloud's subnets.",
        )
    strays = [s["Identifier"] for s in group.get("Subnets", []) if s["Identifier"] not in ctx.res.subnet_ids]
    if strays:
        bad = True
        yield fail(
            f"Subnet group {group_name} of MemoryDB cluster {name} uses subnets that are not the cloud's: "
            f"{', '.join(strays)}.",
            name,
            f"aws memorydb update-subnet-group --subnet-group-name {group_name} --subnet-ids "
            f"{' '.join(ctx.res.subnet_ids)}",
        )
    if not bad:
        yield ok(f"MemoryDB cluster {name} is in the cloud's VPC and subnets.", name)
    yield from _subnet_zones(ctx, name, group_name, [s["Identifier"] for s in group.get("Subnets", [])])


def _subnets(ctx: VerifyContext, subnet_ids: list[str]) -> dict[str, Item]:
    """EC2's view of the subnets: the cloud's own from its one subnet call, any others in one more."""
    known = ctx.subnets()
    return {**known, **ctx.ec2_by_ids("subnet", [s for s in subnet_ids if s not in known])}


def _subnet_zones(ctx: VerifyContext, name: str, group_name: str, subnet_ids: list[str]) -> Iterator[Outcome]:
    """Every subnet of the group is in a zone (by zone ID) where MemoryDB runs.

    AWS refuses such a subnet when the group is made, so one found here means AWS accepted a zone that
    cloudplane's list leaves out (the list may be behind): a warning, not an error.
    """
    region = ctx.aws.region
    supported = memorydb_zones.supported_zone_ids(region)
    if supported is None:
        yield note(
            f"cloudplane does not know which availability zones MemoryDB supports in {region}; the zones of "
            f"subnet group {group_name} were not checked.",
            name,
        )
        return
    subnets = _subnets(ctx, subnet_ids)
    found = [subnets[s] for s in subnet_ids if s in subnets]  # one EC2 does not show has no zone to check
    outside = [s for s in found if s.get("AvailabilityZoneId") not in supported]
    inside = [s["SubnetId"] for s in found if s.get("AvailabilityZoneId") in supported]
    listed = ", ".join(sorted(supported))
    for subnet in outside:
        zone_id = subnet.get("AvailabilityZoneId")
        yield fail(
            f"Subnet {subnet['SubnetId']} of MemoryDB subnet group {group_name} (cluster {name}) is in "
            f"{subnet.get('AvailabilityZone')} ({zone_id}), not one of the zones where MemoryDB runs in "
            f"{region} ({listed}); MemoryDB cannot place nodes there.",
            subnet["SubnetId"],
            f"Keep only subnets of those zones: aws memorydb update-subnet-group --subnet-group-name "
            f"{group_name} --subnet-ids {' '.join(inside) or '<subnets in those zones>'} (if MemoryDB now "
            f"lists {zone_id} for {region}, nothing needs to change)",
            severity=Severity.WARNING,
        )


@check("MDB-3", GROUP, Severity.WARNING, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_security_group(ctx: VerifyContext) -> Iterator[Outcome]:
    cluster = _cluster(ctx)
    name = cluster["Name"]
    groups = [g["SecurityGroupId"] for g in cluster.get("SecurityGroups", [])]
    if set(groups) & set(ctx.res.security_group_ids):
        yield ok(f"MemoryDB cluster {name} uses the cloud's security group.", name)
    else:
        wanted = " ".join([*groups, *ctx.res.security_group_ids[:1]])
        yield fail(
            f"MemoryDB cluster {name} has groups {', '.join(groups) or 'none'}, none of them the cloud's "
            f"({', '.join(ctx.res.security_group_ids)}).",
            name,
            f"aws memorydb update-cluster --cluster-name {name} --security-group-ids {wanted}",
        )


@check("MDB-4", GROUP, Severity.ERROR, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_tls(ctx: VerifyContext) -> Iterator[Outcome]:
    cluster = _cluster(ctx)
    name = cluster["Name"]
    if cluster.get("TLSEnabled"):
        yield ok(f"MemoryDB cluster {name} has TLS enabled.", name)
    else:
        yield fail(
            f"MemoryDB cluster {name} has TLS disabled; head-node state would travel in clear text.",
            name,
            "TLS cannot be turned on later: create a new cluster with --tls-enabled and point the cloud at it.",
        )


def _shard_nodes(cluster: Item) -> list[tuple[str, int]]:
    shards = cluster.get("Shards")
    if not shards:  # no shard details: every shard has the primary plus the replica count
        return [("(every shard)", 1 + int(cluster.get("NumReplicasPerShard") or 0))]
    return [(s.get("Name", "?"), int(s.get("NumberOfNodes") or len(s.get("Nodes", [])))) for s in shards]


@check("MDB-5", GROUP, Severity.ERROR, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_replicas(ctx: VerifyContext) -> Iterator[Outcome]:
    cluster = _cluster(ctx)
    name = cluster["Name"]
    thin = [(shard, nodes) for shard, nodes in _shard_nodes(cluster) if nodes < 2]
    for shard, nodes in thin:
        yield fail(
            f"Shard {shard} of MemoryDB cluster {name} has {nodes} node(s); without a replica a node failure "
            "loses head-node state.",
            name,
            f"aws memorydb update-cluster --cluster-name {name} --replica-configuration ReplicaCount=1",
        )
    if not thin:
        yield ok(f"Every shard of MemoryDB cluster {name} has a replica.", name)


@check("MDB-6", GROUP, Severity.ERROR, when=_has_memorydb, reads=(VerifyContext.memorydb_cluster,))
def cluster_eviction(ctx: VerifyContext) -> Iterator[Outcome]:
    cluster = _cluster(ctx)
    name = cluster["Name"]
    group = cluster.get("ParameterGroupName", "")
    parameters = ctx.memorydb_parameters(group) if group else None
    if parameters is None:
        yield fail(
            f"Parameter group {group or '(none)'} of MemoryDB cluster {name} does not exist.",
            name,
            f"Create a parameter group with maxmemory-policy={EVICTION} and attach it: aws memorydb "
            f"update-cluster --cluster-name {name} --parameter-group-name <group>",
        )
        return
    value = parameters.get("maxmemory-policy", "")
    if value == EVICTION:
        yield ok(f"Parameter group {group} of MemoryDB cluster {name} evicts with {EVICTION}.", name)
    else:
        yield fail(
            f"Parameter group {group} of MemoryDB cluster {name} sets maxmemory-policy to "
            f"{value or '(unset)'}, not {EVICTION}; a full cluster would refuse writes.",
            name,
            f"aws memorydb update-parameter-group --parameter-group-name {group} --parameter-name-values "
            f"ParameterName=maxmemory-policy,ParameterValue={EVICTION} (default groups cannot be changed: "
            "create one and attach it)",
        )
