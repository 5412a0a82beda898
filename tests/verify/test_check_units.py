"""Check paths AWS itself will not let a scenario reach, run on a context fed with plain data."""

from __future__ import annotations

from typing import Any

from cloudplane.cloud import CloudResources, CloudSpec
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.engine import run_check
from cloudplane.verify.registry import all_checks
from cloudplane.verify.report import Finding, Severity


class FedContext(VerifyContext):
    """A context whose lookups answer from dictionaries instead of AWS."""

    def __init__(self, spec: CloudSpec, **data: Any) -> None:
        super().__init__(spec, aws=None)  # type: ignore[arg-type]
        self.data = data

    def subnets(self) -> dict[str, Any]:
        return dict(self.data.get("subnets", {}))

    def memorydb_cluster(self, name: str | None = None) -> Any:
        return self.data.get("cluster")


def _run(check_id: str, ctx: VerifyContext) -> list[Finding]:
    (check,) = [c for c in all_checks() if c.id == check_id]
    return run_check(check, ctx)


def _spec(**resources: Any) -> CloudSpec:
    return CloudSpec(
        id="cld_00000000000000000000", name="t", region="us-west-2", resources=CloudResources(**resources)
    )


def test_sub3_subnet_below_the_floor_is_an_error() -> None:
    # AWS refuses subnets smaller than /28, so only a fed context can hold one.
    subnets = {
        "subnet-a": {
            "SubnetId": "subnet-a",
            "CidrBlock": "10.0.0.0/29",
            "VpcId": "vpc-1",
            "AvailabilityZone": "a",
        },
        "subnet-b": {
            "SubnetId": "subnet-b",
            "CidrBlock": "10.0.1.0/24",
            "VpcId": "vpc-1",
            "AvailabilityZone": "b",
        },
    }
    ctx = FedContext(_spec(vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"]), subnets=subnets)
    (finding,) = _run("SUB-3", ctx)
    assert (finding.severity, finding.passed, finding.resource_id) == (Severity.ERROR, False, "subnet-a")


def test_mdb5_without_shard_details_uses_the_replica_count() -> None:
    ctx = FedContext(
        _spec(memorydb_cluster_id="c"), cluster={"Name": "c", "NumberOfShards": 2, "NumReplicasPerShard": 0}
    )
    (finding,) = _run("MDB-5", ctx)
    assert finding.severity is Severity.ERROR and not finding.passed and "1 node" in finding.message


def test_a_check_that_raises_becomes_an_error_finding() -> None:
    class Broken(FedContext):
        def subnets(self) -> dict[str, Any]:
            raise RuntimeError("boom")

    (finding,) = _run("SUB-4", Broken(_spec(subnet_ids=["subnet-a"])))
    assert finding.severity is Severity.ERROR and "RuntimeError: boom" in finding.message
