"""The control plane's functional verification: runs started, advanced, aborted and read.

A part of `ControlPlaneService` (it inherits these), acting in the customer's account only through the
cloud's role, like the cluster operations it builds on. A run holds no process: every call moves it on as
far as AWS allows right now (a few seconds at most) and stores where it stands, so it works the same
in-process and on any replica of a server. A lease on the run keeps two callers from acting at once.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cloudplane import naming
from cloudplane.controlplane.cloud_access import CloudAccess, CloudActionFailed, through_role
from cloudplane.controlplane.functional_store import FunctionalVerificationStore
from cloudplane.errors import CloudplaneError, InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cloudplane.aws.session import AwsClients
    from cloudplane.clusters.functional_steps import Advancer
    from cloudplane.controlplane.models import FunctionalVerification

# Longer than an advance ever takes; a caller that died holding it is replaced after this.
LEASE_SECONDS = 120
_SUFFIX = string.ascii_lowercase + string.digits


class FunctionalVerificationOperations:
    # Provided by ControlPlaneService (see ClusterOperations).
    engine: Engine
    _access: CloudAccess
    _org: str

    if TYPE_CHECKING:  # declared only: a stub here could shadow the real method in the service's MRO

        def _cloud(self, cloud_id: str) -> dict[str, Any]: ...

        def _launch(self, **kwargs: Any) -> dict[str, Any]: ...

        def terminate_cluster(self, name: str) -> dict[str, Any]: ...

    @cached_property
    def _runs(self) -> FunctionalVerificationStore:
        return FunctionalVerificationStore(self.engine)

    # --- the operations -------------------------------------------------------------------------

    def start_functional_verification(self, cloud_id: str, targets: Any) -> dict[str, Any]:
        """Launch one node per target ("workspace", "service") in the active cloud; the run, to be advanced."""
        from cloudplane.clusters import functional, node_check

        names = functional.parse_targets(targets)
        if not isinstance(cloud_id, str):
            raise InputError(f"cloud id must be a string, not {type(cloud_id).__name__}")
        cloud = self._cloud(cloud_id)
        _check_cloud(cloud)
        deadlines = functional.deadlines_from_env()
        clients = self._access.clients(cloud)
        with through_role(cloud):
            file_system, mount_targets = _mount_targets(clients, cloud)
            memorydb = _memorydb_endpoint(clients, cloud)
        run_id = naming.new_run_id()
        owner = _owner()
        records = [functional.new_target(name, _cluster_name(name)) for name in names]
        self._runs.create(
            self._org,
            run_id=run_id,
            cloud_id=cloud["id"],
            targets=records,
            deadlines=deadlines,
            lease_owner=owner,
            lease_seconds=LEASE_SECONDS,
        )
        resources = cloud["resources"]
        for target in records:
            check = node_check.NodeCheck(
                run_id=run_id,
                target=target["name"],
                bucket=resources["s3_bucket_id"],
                security_group_ids=list(resources.get("security_group_ids") or []),
                file_system_id=file_system,
                mount_targets=mount_targets,
                memorydb=memorydb,
                serve_port=node_check.SERVICE_PORT if target["name"] == "service" else None,
            )
            self._launch_node(cloud, target, node_check.render(check))
        advancer = self._advancer(cloud, run_id, deadlines)
        for target in records:
            if target["steps"][0]["state"] == "failed":
                advancer.start_cleanup(target)
        return self._save(cloud, run_id, owner, records)

    def advance_functional_verification(self, run_id: str) -> dict[str, Any]:
        """Move the run on as far as AWS allows now; the run as it stands (also when another caller is
        moving it at this moment)."""
        from cloudplane.clusters.functional_steps import advance

        run = self._runs.get(self._org, _text("run id", run_id))
        cloud = self._cloud(run.cloud_id)
        if run.finished_at is not None:
            return run_record(run, cloud)
        owner = _owner()
        if not self._runs.take_lease(self._org, run.id, owner, LEASE_SECONDS):
            return run_record(run, cloud)
        run = self._runs.get(self._org, run.id)  # as the lease holder before us left it
        targets = [dict(target, resources=dict(target["resources"])) for target in run.targets]
        advancer = self._advancer(cloud, run.id, run.deadlines)
        if run.aborted_at is not None:
            for target in targets:
                advancer.abort(target)
        advance(advancer, targets)
        return self._save(cloud, run.id, owner, targets)

    def abort_functional_verification(self, run_id: str) -> dict[str, Any]:
        """Stop the run: its nodes are terminated, its stack and certificate deleted. Later advances finish
        the clean-up; the run ends `aborted`."""
        run = self._runs.request_abort(self._org, _text("run id", run_id))
        if run.finished_at is not None:
            return run_record(run, self._cloud(run.cloud_id))
        return self.advance_functional_verification(run.id)

    def get_functional_verification(self, run_id: str) -> dict[str, Any]:
        run = self._runs.get(self._org, _text("run id", run_id))
        return run_record(run, self._cloud(run.cloud_id))

    # --- the parts ------------------------------------------------------------------------------

    def _launch_node(self, cloud: dict[str, Any], target: dict[str, Any], script: str) -> None:
        """Launch the target's node as a cluster of its kind; a refused launch fails the target's first step."""
        from cloudplane.clusters import functional

        step = target["steps"][0]
        step["state"], step["started_at"] = "running", functional.iso(datetime.now(UTC))
        try:
            cluster = self._launch(
                name=target["cluster"],
                cloud_id=cloud["id"],
                kind=target["name"],
                compute_config=None,
                user_data=script,
            )
        except CloudplaneError as exc:
            step["state"], step["detail"] = "failed", _first_line(exc)
            for later in target["steps"][1:]:
                if not functional.STEPS[later["name"]].cleanup:
                    later["state"], later["detail"] = "skipped", "skipped: the node was not launched"
        else:
            node = cluster["instances"][0]
            target["resources"].update(
                cluster_id=cluster["id"], instance_id=node["id"], zone=node.get("zone")
            )
            step["state"] = "passed"
            step["detail"] = (
                f"{node['id']} ({node.get('instance_type')}) in {node.get('zone')}, cluster {cluster['name']}"
            )
        step["finished_at"] = functional.iso(datetime.now(UTC))

    def _advancer(self, cloud: dict[str, Any], run_id: str, deadlines: Mapping[str, float]) -> Advancer:
        from cloudplane.clusters.functional_steps import Advancer
        from cloudplane.controlplane.service_clusters import subnet_zones

        def clients() -> AwsClients:
            return self._access.clients(cloud)

        def terminate(cluster: str) -> None:
            self.terminate_cluster(cluster)

        return Advancer(
            run_id=run_id,
            cloud=cloud,
            clients=clients,
            terminate=terminate,
            deadlines=deadlines,
            subnet_zones=lambda: subnet_zones(clients(), cloud),
        )

    def _save(
        self, cloud: dict[str, Any], run_id: str, owner: str, targets: list[dict[str, Any]]
    ) -> dict[str, Any]:
        state = run_state(targets, aborted=any(target["aborted"] for target in targets))

        def report(run: FunctionalVerification) -> dict[str, Any]:
            record = run_record(run, cloud)
            record.pop("deadlines", None)
            return record

        run = self._runs.save(self._org, run_id, owner, state=state, targets=targets, report=report)
        return run_record(run, cloud)


def run_state(targets: list[Mapping[str, Any]], *, aborted: bool) -> str:
    """running until every target is done (clean-up included); then aborted, failed or passed."""
    if any(target["state"] == "running" for target in targets):
        return "running"
    if aborted:
        return "aborted"
    return "failed" if any(target["state"] != "passed" for target in targets) else "passed"


def run_record(run: FunctionalVerification, cloud: Mapping[str, Any]) -> dict[str, Any]:
    """A run as the API shows it; also the report kept on the cloud when it ends."""
    from cloudplane.clusters.functional import failed_step
    from cloudplane.controlplane.records import iso_utc

    targets = []
    for target in run.targets:
        failure = failed_step(target)
        targets.append(
            {
                "name": target["name"],
                "state": target["state"],
                "cluster": target["cluster"],
                "resources": {k: v for k, v in target["resources"].items() if not k.endswith("_requested")},
                "steps": target["steps"],
                "checks": target.get("checks", []),
                "failure": (
                    {"step": failure["name"], "title": failure["title"], "detail": failure["detail"]}
                    if failure
                    else None
                ),
            }
        )
    return {
        "id": run.id,
        "cloud_id": run.cloud_id,
        "cloud_name": cloud.get("name"),
        "region": cloud.get("region"),
        "state": run.state,
        "passed": None if run.state == "running" else run.state == "passed",
        "targets": targets,
        "left_behind": left_behind(run.targets) if run.state != "running" else [],
        "deadlines": dict(run.deadlines),
        "created_at": iso_utc(run.created_at) or "",
        "updated_at": iso_utc(run.updated_at) or "",
        "aborted_at": iso_utc(run.aborted_at),
        "finished_at": iso_utc(run.finished_at),
    }


def left_behind(targets: list[Mapping[str, Any]]) -> list[str]:
    """What a finished run could not remove: named for the user to remove by hand."""
    names = {
        "delete-load-balancer": lambda r: f"load-balancer stack {r.get('stack_name')}",
        "delete-certificate": lambda r: f"certificate {r.get('certificate_arn') or '(tagged with the run)'}",
        "terminate": lambda r: f"instance {r.get('instance_id')} (cluster {r.get('cluster_id')})",
    }
    left = []
    for target in targets:
        for step in target["steps"]:
            if step["name"] in names and step["state"] == "failed":
                left.append(names[step["name"]](target["resources"]))
    return left


def _check_cloud(cloud: Mapping[str, Any]) -> None:
    from cloudplane.errors import Conflict

    if cloud["state"] != "active":
        raise Conflict(
            f"cloud {cloud['name']!r} is {cloud['state']}: functional verification needs an active cloud"
        )
    resources = cloud.get("resources") or {}
    missing = [
        key
        for key in ("s3_bucket_id", "subnet_ids", "security_group_ids", "instance_role_arn", "vpc_id")
        if not resources.get(key)
    ]
    if missing:
        raise InputError(
            f"cloud {cloud['name']!r} records no {', '.join(missing)}: finish its setup or registration first"
        )


def _mount_targets(clients: AwsClients, cloud: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The cloud's file system and its mount target in each zone (zone -> address), through the role."""
    file_system = (cloud.get("resources") or {}).get("efs_id")
    if not file_system:
        return None, {}
    answer = clients.client("efs").describe_mount_targets(FileSystemId=file_system)
    targets = {}
    for target in answer.get("MountTargets", []):
        if target.get("LifeCycleState", "available") in ("available", "creating", "updating"):
            targets.setdefault(target["AvailabilityZoneName"], target["IpAddress"])
    return file_system, targets


def _memorydb_endpoint(clients: AwsClients, cloud: Mapping[str, Any]) -> dict[str, Any] | None:
    name = (cloud.get("resources") or {}).get("memorydb_cluster_id")
    if not name:
        return None
    clusters = clients.client("memorydb").describe_clusters(ClusterName=name).get("Clusters", [])
    endpoint = (clusters[0].get("ClusterEndpoint") or {}) if clusters else {}
    if not endpoint.get("Address"):
        raise CloudActionFailed(
            f"MemoryDB cluster {name} of cloud {cloud['name']!r} has no endpoint yet: wait until it is "
            "available and run the same command again"
        )
    return {"cluster": name, "host": endpoint["Address"], "port": int(endpoint.get("Port") or 6379)}


def _cluster_name(target: str) -> str:
    return f"verify-{target}-" + "".join(secrets.choice(_SUFFIX) for _ in range(6))


def _owner() -> str:
    return secrets.token_hex(8)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    return value
