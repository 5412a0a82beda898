"""EC2 API rules moto skips, applied to direct calls and CloudFormation alike.

- delete_vpc fails with DependencyViolation while an internet gateway is attached, a VPC endpoint is live or
  a non-default security group remains (moto checks only subnets, route tables and VPN gateways);
- delete_subnet fails while network interfaces (e.g. EFS mount targets) remain, and drops the subnet's route
  table association with it;
- a VPC endpoint created without a type is a Gateway endpoint, as on AWS.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import EC2Backend

from ._patching import wrap_method


def _guarded_delete_vpc(orig: Any, self: Any, vpc_id: str) -> Any:
    busy = any(igw.vpc is not None and igw.vpc.id == vpc_id for igw in list(self.internet_gateways.values()))
    busy = busy or any(
        vpce.vpc_id == vpc_id and vpce.state != "deleted" for vpce in list(self.vpc_end_points.values())
    )
    busy = busy or any(not group.is_default for group in list(self.groups.get(vpc_id, {}).values()))
    if busy:
        raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    return orig(self, vpc_id)


def _in_use(eni: Any) -> bool:
    # moto keeps a terminated instance's primary interface, which AWS deletes with the instance.
    instance = getattr(eni, "instance", None)
    return instance is None or getattr(instance, "state", "") != "terminated"


def _guarded_delete_subnet(orig: Any, self: Any, subnet_id: str) -> Any:
    enis = list(self.enis.values())
    if any(getattr(eni.subnet, "id", None) == subnet_id and _in_use(eni) for eni in enis):
        raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
    subnet = orig(self, subnet_id)
    # AWS drops the subnet's route table association together with the subnet.
    for route_table in list(self.route_tables.values()):
        for association_id, target in list(route_table._associations.items()):
            if target == subnet_id:
                route_table._associations.pop(association_id, None)
    return subnet


def _create_vpc_endpoint(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    endpoint = orig(self, *args, **kwargs)
    if not endpoint.vpc_endpoint_type:
        endpoint.vpc_endpoint_type = "Gateway"  # the AWS default; moto keeps None and then fails to delete it
    return endpoint


def apply() -> None:
    wrap_method(EC2Backend, "delete_vpc", _guarded_delete_vpc)
    wrap_method(EC2Backend, "delete_subnet", _guarded_delete_subnet)
    wrap_method(EC2Backend, "create_vpc_endpoint", _create_vpc_endpoint)
