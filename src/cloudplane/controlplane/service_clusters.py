"""The control plane's cluster operations: launched, read and terminated through each cloud's role.

A part of `ControlPlaneService` (it inherits these), kept apart because it is the part that acts in
customers' accounts. Records keep what EC2 said last; reads refresh them from EC2 through the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cloudplane.controlplane.cloud_access import CloudAccess, CloudActionFailed, through_role
from cloudplane.controlplane.cluster_store import FINAL_STATES, ClusterStore
from cloudplane.controlplane.models import CLUSTER_KINDS, Cluster
from cloudplane.errors import Conflict, InputError

if TYPE_CHECKING:
    from cloudplane.aws.session import AwsClients
    from cloudplane.controlplane.store import CloudStore


class ClusterOperations:
    # Provided by ControlPlaneService: its stores, its access to customer accounts, the caller's
    # organisation (`_org`) and `_cloud(cloud_id)`, the organisation's cloud as the API shows it.
    _store: CloudStore
    _clusters: ClusterStore
    _access: CloudAccess
    _org: str

    if TYPE_CHECKING:  # declared only: ControlPlaneService defines it

        def _cloud(self, cloud_id: str) -> dict[str, Any]: ...

    # --- clusters -------------------------------------------------------------------------------

    def launch_cluster(
        self,
        *,
        name: str,
        cloud_id: str | None = None,
        kind: str = "workspace",
        compute_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Launch a cluster in the cloud (default: the organisation's default cloud) through its role."""
        return self._launch(name=name, cloud_id=cloud_id, kind=kind, compute_config=compute_config)

    def _launch(
        self,
        *,
        name: str,
        cloud_id: str | None,
        kind: str,
        compute_config: Mapping[str, Any] | None,
        user_data: str | None = None,
    ) -> dict[str, Any]:
        from cloudplane.clusters import instances
        from cloudplane.clusters.compute_config import ComputeConfig, cloud_mistakes, plan_nodes
        from cloudplane.naming import validate_cluster_name

        validate_cluster_name(_text("name", name))
        if kind not in CLUSTER_KINDS:
            raise InputError(
                f"invalid cluster kind {kind!r}: expected {' or '.join(map(repr, CLUSTER_KINDS))}"
            )
        if compute_config is not None and not isinstance(compute_config, Mapping):
            raise InputError("compute_config must be a JSON object")
        cloud = self._launchable_cloud(cloud_id)
        config = ComputeConfig.from_dict(compute_config) if compute_config else None
        clients = self._access.clients(cloud)
        with through_role(cloud):
            zones = subnet_zones(clients, cloud)
        if config is not None:
            mistakes = cloud_mistakes(config, cloud, zones)
            if mistakes:
                raise InputError("the compute config does not fit the cloud:\n" + "\n".join(mistakes))
        nodes = plan_nodes(config, cloud, zones)
        cluster = self._clusters.reserve(
            self._org,
            cloud_id=cloud["id"],
            name=name,
            kind=kind,
            compute_config=config.to_dict() if config else None,
        )
        launched: list[dict[str, Any]] = []
        try:
            with through_role(cloud):
                image = instances.default_image(clients)
                launched = instances.launch(
                    clients,
                    cloud_id=cloud["id"],
                    cluster_id=cluster.id,
                    cluster_name=name,
                    nodes=nodes,
                    image_id=image,
                    user_data=user_data,
                )
        except Exception as exc:
            self._abandon(cloud, clients, cluster, launched, exc)
            raise
        state = instances.cluster_state(launched)
        return cluster_record(
            self._clusters.record(self._org, cluster.id, state=state, instances=launched), cloud
        )

    def _abandon(
        self,
        cloud: dict[str, Any],
        clients: AwsClients,
        cluster: Cluster,
        launched: list[dict[str, Any]],
        exc: BaseException,
    ) -> None:
        """A launch that failed half-way: what was launched is terminated, the record says why."""
        from cloudplane.clusters import instances

        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        try:
            with through_role(cloud):
                instances.terminate(clients, [instance["id"] for instance in launched])
        except CloudActionFailed as cleanup:
            reason += f"; terminating its instances failed too ({cleanup}): run `cloudplane cluster terminate {cluster.name}`"
            self._clusters.record(
                self._org, cluster.id, state="terminating", instances=launched, failure_reason=reason
            )
            return
        self._clusters.record(
            self._org, cluster.id, state="failed", instances=launched, failure_reason=reason
        )

    def list_clusters(
        self, *, cloud_id: str | None = None, include_terminated: bool = False, refresh: bool = True
    ) -> list[dict[str, Any]]:
        """The organisation's clusters (of one cloud), their states refreshed from EC2 through each
        cloud's role. A cloud whose role cannot be used keeps its recorded states, marked as stale."""
        if cloud_id is not None:
            self._cloud(_text("cloud id", cloud_id))  # NotFound for an unknown cloud
        clusters = self._clusters.list(self._org, cloud_id=cloud_id, include_terminated=include_terminated)
        clouds: dict[str, dict[str, Any]] = {}
        stale: dict[str, str] = {}
        if refresh:
            live_clouds = {cluster.cloud_id for cluster in clusters if cluster.state not in FINAL_STATES}
            for live_cloud in sorted(live_clouds):
                clouds[live_cloud] = self._cloud(live_cloud)
                problem = self._refresh_cloud(clouds[live_cloud])
                if problem:
                    stale[live_cloud] = problem
            clusters = self._clusters.list(
                self._org, cloud_id=cloud_id, include_terminated=include_terminated
            )
        records = []
        for cluster in clusters:
            cloud = clouds.get(cluster.cloud_id) or self._cloud(cluster.cloud_id)
            clouds[cluster.cloud_id] = cloud
            records.append(cluster_record(cluster, cloud, stale=stale.get(cluster.cloud_id)))
        return records

    def get_cluster(self, name: str) -> dict[str, Any]:
        cluster = self._clusters.find(self._org, _text("name", name))
        cloud = self._cloud(cluster.cloud_id)
        problem = self._refresh_cloud(cloud) if cluster.state not in FINAL_STATES else None
        return cluster_record(self._clusters.get(self._org, cluster.id), cloud, stale=problem)

    def terminate_cluster(self, name: str) -> dict[str, Any]:
        """Terminate the live cluster of this name through its cloud's role."""
        from cloudplane.clusters import instances

        cluster = self._clusters.find(self._org, _text("name", name))
        cloud = self._cloud(cluster.cloud_id)
        if cluster.state in FINAL_STATES:
            return cluster_record(cluster, cloud)
        clients = self._access.clients(cloud)
        with through_role(cloud):
            current = instances.cluster_instances(clients, cloud["id"]).get(cluster.id, [])
            ids = [i["id"] for i in current if i["ec2_state"] in instances.LIVE_INSTANCE_STATES]
            instances.terminate(clients, ids)
            current = instances.cluster_instances(clients, cloud["id"]).get(cluster.id, [])
        recorded = instances.refreshed(cluster.instances, current)
        updated = self._clusters.record(
            self._org, cluster.id, state=instances.cluster_state(recorded), instances=recorded
        )
        return cluster_record(updated, cloud)

    def cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        """The cloud's instances that are not terminated, with the cluster each belongs to, as EC2 sees
        them through the cloud's role (instances launched outside the control plane included)."""
        from cloudplane.clusters import instances

        cloud = self._cloud(_text("cloud id", cloud_id))
        clients = self._access.clients(cloud)
        with through_role(cloud):
            return instances.live_instances(clients, cloud["id"])

    def terminate_cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        """Terminate every live instance of the cloud through its role; the instances that were live."""
        from cloudplane.clusters import instances

        cloud = self._cloud(_text("cloud id", cloud_id))
        clients = self._access.clients(cloud)
        with through_role(cloud):
            live = instances.live_instances(clients, cloud["id"])
            instances.terminate(clients, [instance["id"] for instance in live])
        self._refresh_cloud(cloud)
        return live

    def clean_up_load_balancers(self, cloud_id: str) -> dict[str, Any]:
        """One pass at removing the cloud's load-balancer stacks and certificates through its role."""
        from cloudplane.clusters import load_balancers

        cloud = self._cloud(_text("cloud id", cloud_id))
        clients = self._access.clients(cloud)
        with through_role(cloud):
            return load_balancers.clean_up(clients, cloud["id"]).to_dict()

    def _refresh_cloud(self, cloud: dict[str, Any]) -> str | None:
        """Bring the cloud's live cluster records in line with EC2; the problem when it cannot."""
        from cloudplane.clusters import instances

        live = [
            cluster
            for cluster in self._clusters.list(self._org, cloud_id=cloud["id"], include_terminated=False)
            if cluster.state not in FINAL_STATES
        ]
        if not live:
            return None
        try:
            clients = self._access.clients(cloud)
            with through_role(cloud):
                current = instances.cluster_instances(clients, cloud["id"])
        except (CloudActionFailed, InputError) as exc:
            return str(exc)
        for cluster in live:
            if not cluster.instances:
                continue  # still being launched
            recorded = instances.refreshed(cluster.instances, current.get(cluster.id, []))
            self._clusters.record(
                self._org, cluster.id, state=instances.cluster_state(recorded), instances=recorded
            )
        return None

    def _launchable_cloud(self, cloud_id: str | None) -> dict[str, Any]:
        if cloud_id is None:
            defaults = [cloud for cloud in self._store.list(self._org) if cloud.is_default]
            if not defaults:
                raise InputError(
                    "no cloud given and the organisation has no default cloud: pass --cloud, or set one "
                    "with `cloudplane cloud set-default`"
                )
            cloud_id = defaults[0].id
        cloud = self._cloud(_text("cloud id", cloud_id))
        if cloud["state"] != "active":
            raise Conflict(
                f"cloud {cloud['name']!r} is {cloud['state']}: clusters can only be launched in an active cloud"
            )
        return cloud


def subnet_zones(clients: AwsClients, cloud: Mapping[str, Any]) -> dict[str, str]:
    """The cloud's subnets and the zone of each."""
    subnet_ids = list((cloud.get("resources") or {}).get("subnet_ids") or [])
    if not subnet_ids:
        raise InputError(f"cloud {cloud['name']!r} has no subnets recorded")
    answer = clients.client("ec2").describe_subnets(SubnetIds=subnet_ids)
    return {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in answer.get("Subnets", [])}


def cluster_record(cluster: Cluster, cloud: Mapping[str, Any], *, stale: str | None = None) -> dict[str, Any]:
    """A cluster as the API shows it."""
    from cloudplane.controlplane.records import iso_utc

    record = {
        "id": cluster.id,
        "name": cluster.name,
        "kind": cluster.kind,
        "state": cluster.state,
        "cloud_id": cluster.cloud_id,
        "cloud_name": cloud.get("name"),
        "region": cloud.get("region"),
        "instances": list(cluster.instances or []),
        "compute_config": cluster.compute_config,
        "failure_reason": cluster.failure_reason,
        "created_at": iso_utc(cluster.created_at) or "",
        "updated_at": iso_utc(cluster.updated_at) or "",
        "terminated_at": iso_utc(cluster.terminated_at),
        # Why the state could not be refreshed from EC2 just now (null: it is current).
        "stale": stale,
    }
    return record


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    return value
