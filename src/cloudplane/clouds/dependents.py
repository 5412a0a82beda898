"""What runs in a cloud and must go before it: its instances, then its load balancers.

A cloud's subnets and security group cannot be deleted while an instance or a load balancer uses them, so
`cloud delete` finds both first. The control plane finds and removes them through the cloud's role; when
that role cannot be used (trust broken, role already deleted, none recorded), the user's own credentials
find them by the cloud's tag instead, so that nothing is deleted blind. Instances are only ever
terminated through the control plane.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import poll_delays
from cloudplane.console import Console
from cloudplane.errors import CloudplaneError, Conflict, InputError, OperationFailed

WAIT_ENV = "CLOUDPLANE_DELETE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 600.0


class ClustersRunning(Conflict):
    """The cloud still has live instances and the delete may not terminate them: nothing was touched."""


class DeleteHalted(OperationFailed):
    """The delete stopped before the cloud's own resources: what blocks it is named; a rerun continues."""


def wait_seconds(given: float | None = None) -> float:
    """How long to wait for instances to terminate and load-balancer stacks to go, each."""
    if given is not None:
        return given
    raw = os.environ.get(WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise InputError(f"{WAIT_ENV}={raw!r}: expected a number of seconds, 0 or more")
    return value


# --- instances --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveInstances:
    """The cloud's instances that are not terminated (pending, running, stopping, stopped, shutting down).

    `known_clusters`: names of the live clusters the control plane knows (None: could not be read).
    `role_problem`: why the control plane could not look; the user's own credentials did instead."""

    instances: list[dict[str, Any]]
    known_clusters: frozenset[str] | None = None
    role_problem: str | None = None

    def __bool__(self) -> bool:
        return bool(self.instances)

    def groups(self) -> list[tuple[str | None, list[dict[str, Any]]]]:
        """Instances by known cluster name (sorted), then those of no known cluster (None) last."""
        by_cluster: dict[str | None, list[dict[str, Any]]] = {}
        for instance in self.instances:
            name = instance.get("cluster")
            known = self.known_clusters is None or name in self.known_clusters
            by_cluster.setdefault(name if name and known else None, []).append(instance)
        named = sorted((name, items) for name, items in by_cluster.items() if name is not None)
        return named + ([(None, by_cluster[None])] if None in by_cluster else [])

    def describe(self) -> str:
        """One clause per cluster: `cluster ws1 (i-1 running, i-2 pending)`."""
        return "; ".join(f"{_who(name, items)} ({_states(items)})" for name, items in self.groups())

    def ids(self) -> list[str]:
        return sorted(instance["id"] for instance in self.instances)


def find_live_instances(cloud: dict[str, Any], client: Any, *, clusters: bool = True) -> LiveInstances:
    """The cloud's live instances, through the control plane, else with the user's own credentials;
    `clusters`: also read which live clusters the control plane knows.

    Raises OperationFailed with both reasons when neither can look: a cloud is never deleted blind."""
    problem = _no_role(cloud)
    if problem is None:
        try:
            found = client.cloud_instances(cloud["id"])
        except CloudplaneError as exc:
            problem = _first_line(exc)
        else:
            return LiveInstances(found, _known_clusters(cloud, client) if clusters else None)
    try:
        from cloudplane.clusters.instances import live_instances

        found = live_instances(AwsClients(cloud["region"]), cloud["id"])
    except CloudplaneError as exc:
        raise OperationFailed(
            f"cannot tell whether instances of cloud {cloud['name']} still run, so nothing was deleted. "
            f"Through the control plane: {problem.rstrip('.')}. With your own AWS credentials: "
            f"{_first_line(exc)}"
        ) from exc
    return LiveInstances(found, _known_clusters(cloud, client) if clusters else None, problem)


def role_notice(live: LiveInstances) -> str | None:
    """What to tell the user when the instances were looked for with their own credentials."""
    if not live.role_problem:
        return None
    return (
        f"The control plane could not use the cloud's role ({live.role_problem.rstrip('.')}); looked for the "
        "cloud's instances with your own AWS credentials instead."
    )


def check_may_go_on(cloud: dict[str, Any], live: LiveInstances, *, terminate_clusters: bool) -> None:
    """Refuse (ClustersRunning, nothing touched) while instances live and the delete may not end them."""
    if not live:
        return
    rerun = f"cloudplane cloud delete --name {cloud['name']} --yes --terminate-clusters"
    lines = [_refusal_line(cloud, name, items) for name, items in live.groups()]
    if not terminate_clusters:
        head = f"cloud {cloud['name']} ({cloud['id']}) still has live instances; nothing was deleted:"
        tail = f"Terminate them first, or run `{rerun}` to terminate them all, then delete the cloud."
        raise ClustersRunning("\n".join([head, *lines, tail]))
    if live.role_problem:
        head = (
            f"cloud {cloud['name']} ({cloud['id']}) still has live instances and the control plane cannot "
            f"terminate them, as it cannot use the cloud's role: {live.role_problem.rstrip('.')}. "
            "Nothing was deleted:"
        )
        tail = (
            f"Make the role usable again (`cloudplane cloud verify --name {cloud['name']}` says what is wrong) "
            f"or terminate them yourself (aws ec2 terminate-instances --region {cloud['region']} --instance-ids "
            f"{' '.join(live.ids())}), then run the delete again."
        )
        raise ClustersRunning("\n".join([head, *lines, tail]))


def terminate_and_wait(
    cloud: dict[str, Any],
    live: LiveInstances,
    *,
    client: Any,
    console: Console,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Terminate every live instance of the cloud through the control plane and wait until none is live
    (shutting down counts as live: its network interface still holds the subnet). DeleteHalted after
    `timeout` seconds, naming what is still there."""
    console.info(f"Terminating the cloud's instances: {live.describe()}.")
    deadline = time.monotonic() + timeout
    delays = poll_delays()  # the stacks' backoff: quick at first, never more than 5 s between looks
    current = live
    with console.status(_waiting(current)) as line:
        while True:
            if any(i["ec2_state"] != "shutting-down" for i in current.instances):
                # Also ends an instance that appeared since the last look.
                try:
                    client.terminate_cloud_instances(cloud["id"])
                except CloudplaneError as exc:
                    raise DeleteHalted(
                        f"terminating the instances of cloud {cloud['name']} through the control plane failed: "
                        f"{_first_line(exc).rstrip('.')}"
                    ) from exc
            current = find_live_instances(cloud, client, clusters=False)
            line.update(_waiting(current))
            if not current:
                break
            if time.monotonic() >= deadline:
                raise DeleteHalted(
                    f"after {timeout:.0f} s these instances of cloud {cloud['name']} are still live: "
                    f"{_states(current.instances)}"
                )
            sleep(_until(deadline, next(delays)))
    console.success(f"Terminated {_count(len(live.instances), 'instance')} of cloud {cloud['name']}.")


# --- load balancers ----------------------------------------------------------------------------------


def remove_load_balancers(
    cloud: dict[str, Any],
    *,
    client: Any,
    console: Console,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Delete the cloud's load-balancer stacks and certificates (found by its tag) and wait until they are
    gone. DeleteHalted when one cannot be deleted, or is still there after `timeout` seconds."""
    from cloudplane.clusters.load_balancers import summary

    cleaner = _Cleaner(cloud, client, console)
    result = cleaner.one_pass()
    if result["done"] and not result["stacks"] and not result["certificates"]:
        return
    seen = _names(result)
    deadline = time.monotonic() + timeout
    delays = poll_delays()
    passes = 1
    with console.status(_lb_progress(result)) as line:
        while not result["done"]:
            # A failure seen on the first pass may be left from an earlier attempt (that pass retried it).
            if passes > 1 and result["failed"]:
                raise DeleteHalted(_cannot_delete(result["failed"]))
            if passes > 1 and time.monotonic() >= deadline:
                raise DeleteHalted(
                    f"after {timeout:.0f} s the load balancers of cloud {cloud['name']} are still being deleted: "
                    f"{summary(result)}"
                )
            sleep(_until(deadline, next(delays)))
            result = cleaner.one_pass()
            passes += 1
            seen += [name for name in _names(result) if name not in seen]
            line.update(_lb_progress(result))
    console.success(f"Deleted the cloud's load balancers: {', '.join(seen)}.")


class _Cleaner:
    """One clean-up pass through the control plane; with the user's own credentials once it cannot."""

    def __init__(self, cloud: dict[str, Any], client: Any, console: Console) -> None:
        self._cloud = cloud
        self._client = client
        self._console = console
        self._problem = _no_role(cloud)

    def one_pass(self) -> dict[str, Any]:
        from cloudplane.clusters.load_balancers import clean_up

        if self._problem is None:
            try:
                return dict(self._client.clean_up_load_balancers(self._cloud["id"]))
            except CloudplaneError as exc:
                self._problem = _first_line(exc)
                self._console.warn(
                    f"The control plane could not use the cloud's role ({self._problem.rstrip('.')}); "
                    "deleting its load balancers with your own AWS credentials instead."
                )
        try:
            return clean_up(AwsClients(self._cloud["region"]), self._cloud["id"]).to_dict()
        except CloudplaneError as exc:
            raise DeleteHalted(
                f"cannot delete the load balancers of cloud {self._cloud['name']}. Through the control plane: "
                f"{self._problem.rstrip('.')}. With your own AWS credentials: {_first_line(exc).rstrip('.')}"
            ) from exc


def _lb_progress(result: dict[str, Any]) -> str:
    from cloudplane.clusters.load_balancers import summary

    left = summary(result)
    return f"Deleting the cloud's load balancers: {'nothing' if left == 'nothing left' else left} left"


def _cannot_delete(failed: list[dict[str, str]]) -> str:
    return "; ".join(
        f"load-balancer {item['resource']} cannot be deleted: {item['reason']}" for item in failed
    )


def _names(result: dict[str, Any]) -> list[str]:
    return [f"stack {s['name']}" for s in result.get("stacks", [])] + [
        f"certificate {c['arn']}" for c in result.get("certificates", [])
    ]


# --- helpers -----------------------------------------------------------------------------------------


def _no_role(cloud: dict[str, Any]) -> str | None:
    if (cloud.get("resources") or {}).get("controlplane_role_arn"):
        return None
    return f"cloud {cloud['name']} has no cross-account role recorded"


def _known_clusters(cloud: dict[str, Any], client: Any) -> frozenset[str] | None:
    try:
        return frozenset(c["name"] for c in client.list_clusters(cloud_id=cloud["id"]))
    except CloudplaneError:
        return None


def _refusal_line(cloud: dict[str, Any], name: str | None, items: list[dict[str, Any]]) -> str:
    if name is not None:
        todo = f"cloudplane cluster terminate {name}"
    else:
        ids = " ".join(sorted(i["id"] for i in items))
        todo = f"aws ec2 terminate-instances --region {cloud['region']} --instance-ids {ids}"
    return f"  {_who(name, items)}: {_states(items)} -> {todo}"


def _who(name: str | None, items: list[dict[str, Any]] | None = None) -> str:
    if name is not None:
        return f"cluster {name}"
    tagged = sorted({i["cluster"] for i in items or [] if i.get("cluster")})
    return "no known cluster" + (f" (tagged {', '.join(tagged)})" if tagged else "")


def _states(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['id']} {i['ec2_state']}" for i in sorted(items, key=lambda i: i["id"]))


def _waiting(live: LiveInstances) -> str:
    if not live:
        return "Terminating the cloud's instances: none left"
    still = f"{_count(len(live.instances), 'instance')} still live"
    return f"Terminating the cloud's instances: {still} ({_states(live.instances)})"


def _until(deadline: float, delay: float) -> float:
    """Sleep `delay`, but not past the deadline."""
    return max(0.0, min(delay, deadline - time.monotonic()))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
