"""ELBv2 target health of instance targets as the load balancer's health checks would find it.

moto reports every registered, non-stopped target `healthy`. Here a registered instance target that moto
finds healthy is checked the way the load balancer would check it:
- `unused` / `Target.NotInUse` while no load balancer forwards to the target group;
- `unhealthy` / `Target.Timeout` when the security groups drop the check: the instance's groups must allow
  ingress on the health-check port (traffic-port: the target's port) from one of the load balancer's groups
  or from a CIDR covering one of its subnets, and the load balancer's groups (when it has any) must allow
  egress there;
- `unhealthy` / `Target.FailedHealthChecks` when the instance's start-up script does not listen on the port
  (see vpc_network), and `Target.ResponseCodeMismatch` when an HTTP check gets a code outside the matcher;
- `healthy` otherwise. Stopped instances stay `unused` / `Target.InvalidState` and unregistered ones
  `unused` / `Target.NotRegistered`, as moto already answers, like AWS.
HTTP checks really request the health-check path from the script's listener; HTTPS and TCP checks connect.
"""

from __future__ import annotations

import http.client
import socket
from typing import Any

from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup, elbv2_backends

from ._patching import wrap_method
from .instance_startup import node
from .vpc_network import allows

_CHECK_TIMEOUT_SECONDS = 2.0


def _code_matches(matcher: dict[str, Any] | None, code: int) -> bool:
    for part in str((matcher or {}).get("HttpCode", "200")).split(","):
        low, _, high = part.strip().partition("-")
        if low and int(low) <= code <= int(high or low):
            return True
    return False


def _health_port(group: FakeTargetGroup, target: dict[str, Any]) -> int:
    port = group.health_check_port
    return int(target["Port"] if port in (None, "", "traffic-port") else port)


def _load_balancers(group: FakeTargetGroup) -> list[Any]:
    backend = elbv2_backends[group.account_id][group.region_name]
    return [backend.load_balancers[arn] for arn in group.load_balancer_arns if arn in backend.load_balancers]


def _groups(ec2: Any, ids: list[str] | None) -> list[Any]:
    found = [ec2.get_security_group_from_id(group_id) for group_id in ids or []]
    return [group for group in found if group is not None]


def _subnet_cidrs(load_balancer: Any, ec2: Any) -> list[str]:
    cidrs = []
    for subnet in load_balancer.subnets:
        subnet = ec2.get_subnet(subnet) if isinstance(subnet, str) else subnet
        cidrs.append(subnet.cidr_block)
    return cidrs


def _checks_pass_groups(load_balancer: Any, instance: Any, port: int) -> bool:
    ec2 = instance.ec2_backend
    lb_groups = _groups(ec2, load_balancer.security_groups)
    own_groups = list(instance.nics[0].group_set)
    if not allows(own_groups, False, port, None, lb_groups, _subnet_cidrs(load_balancer, ec2)):
        return False
    return not lb_groups or allows(lb_groups, True, port, instance.private_ip, own_groups)


def _probe(group: FakeTargetGroup, host: str, port: int) -> tuple[str, str] | None:
    """None when the check passes, else (reason, description)."""
    timeout = min(float(group.health_check_timeout_seconds or 5), _CHECK_TIMEOUT_SECONDS)
    try:
        if group.health_check_protocol == "HTTP":
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                connection.request(
                    "GET", group.health_check_path or "/", headers={"User-Agent": "ELB-HealthChecker/2.0"}
                )
                code = connection.getresponse().status
            finally:
                connection.close()
            if not _code_matches(group.matcher, code):
                return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]"
            return None
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return "Target.Timeout", "Request timed out"
    except (OSError, http.client.HTTPException):
        return "Target.FailedHealthChecks", "Health checks failed"


def _health_for(
    orig: Any, self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any
) -> FakeHealthStatus:
    status = orig(self, target, ec2_backend)
    registered = self.targets.get(target["Id"])
    if status.status != "healthy" or registered is None or not str(registered["Id"]).startswith("i-"):
        return status
    instance = ec2_backend.get_instance_by_id(registered["Id"])
    if instance is None:
        return status

    def answer(state: str, reason: str, description: str) -> FakeHealthStatus:
        return FakeHealthStatus(
            registered["Id"], registered["Port"], self.health_check_port, state, reason, description
        )

    if instance.state != "running":
        return answer("unhealthy", "Target.InvalidState", f"Target is in the {instance.state} state")
    load_balancers = _load_balancers(self)
    if not load_balancers:
        return answer(
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer",
        )
    port = _health_port(self, registered)
    if not any(_checks_pass_groups(lb, instance, port) for lb in load_balancers):
        return answer("unhealthy", "Target.Timeout", "Request timed out")
    started = node(instance.id)
    listener = started.listeners.get(port) if started is not None and started.running else None
    if listener is None:
        return answer("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
    failure = _probe(self, listener[0], listener[1])
    if failure is not None:
        return answer("unhealthy", *failure)
    return status


def apply() -> None:
    wrap_method(FakeTargetGroup, "health_for", _health_for)
