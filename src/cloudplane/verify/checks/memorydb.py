"""MDB-1..6: the MemoryDB cluster behind head-node fault tolerance (counted in the verdict)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudplane.cloud import CloudSpec
from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "memorydb"
EVICTION = "allkeys-lru"


def _has_memorydb(spec: CloudSpec) -> bool:
    return bool(spec.resources.memorydb_cluster_id)


def _cluster(ctx: VerifyContext) -> Item:
    return require(ctx.memorydb_cluster())


@check("MDB-1", GROUP, Severity.ERROR, when=_has_memorydb)
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


@check("MDB-2", GROUP, Severity.ERROR, when=_has_memorydb)
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


@check("MDB-3", GROUP, Severity.WARNING, when=_has_memorydb)
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


@check("MDB-4", GROUP, Severity.ERROR, when=_has_memorydb)
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


@check("MDB-5", GROUP, Severity.ERROR, when=_has_memorydb)
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


@check("MDB-6", GROUP, Severity.ERROR, when=_has_memorydb)
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
