"""MemoryDB actions moto lacks: parameter groups, DescribeParameters, DescribeACLs; and stricter CreateCluster.

Parameter groups live in the backend instance, so `POST /moto-api/reset` wipes custom groups exactly like
moto's own state; the three default groups come back lazily. CreateCluster now rejects an unknown
ParameterGroupName / SubnetGroupName / ACLName, honours NumReplicasPerShard=0 and places nodes in the AZs of
the cluster's subnet group.

MemoryDB runs only in some availability zones of a region (by zone ID, `cloudplane.aws.memorydb_zones`):
CreateSubnetGroup (and so AWS::MemoryDB::SubnetGroup) refuses a subnet in any other zone with
InvalidParameterValueException, and the default subnet group leaves such subnets out.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.memorydb.exceptions import MemoryDBClientError
from moto.memorydb.models import MemoryDBBackend, MemoryDBCluster, MemoryDBSubnetGroup
from moto.memorydb.responses import MemoryDBResponse

from cloudplane.aws import memorydb_zones

from ._patching import patch_attr, wrap_method
from .memorydb_catalog import DEFAULT_GROUPS, FAMILIES, MINIMUM_ENGINE_VERSION, is_allowed

OPEN_ACCESS = "open-access"
_STATE_KEY = "_cloudplane_parameter_groups"
_lock = threading.Lock()


class _Fault(MemoryDBClientError):
    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)


class ParameterGroupNotFoundFault(_Fault):
    pass


class ParameterGroupAlreadyExistsFault(_Fault):
    pass


class InvalidParameterGroupStateFault(_Fault):
    pass


class InvalidParameterValueException(_Fault):
    pass


class ACLNotFoundFault(_Fault):
    pass


class SubnetGroupNotFoundFault(_Fault):
    pass


@dataclass
class ParameterGroup:
    name: str
    family: str
    description: str
    arn: str
    values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, str]:
        return {"Name": self.name, "Family": self.family, "Description": self.description, "ARN": self.arn}

    def parameters(self) -> list[dict[str, str]]:
        result = []
        for name, (default, data_type, allowed, description) in sorted(FAMILIES[self.family].items()):
            item = {
                "Name": name,
                "Value": self.values.get(name, default),
                "Description": description,
                "DataType": data_type,
                "MinimumEngineVersion": MINIMUM_ENGINE_VERSION[self.family],
            }
            if allowed is not None:
                item["AllowedValues"] = allowed
            result.append(item)
        return result


def _arn(backend: MemoryDBBackend, kind: str, name: str) -> str:
    return f"arn:aws:memorydb:{backend.region_name}:{backend.account_id}:{kind}/{name}"


def parameter_groups(backend: MemoryDBBackend) -> dict[str, ParameterGroup]:
    groups = backend.__dict__.get(_STATE_KEY)
    if groups is None:
        with _lock:
            groups = backend.__dict__.get(_STATE_KEY)
            if groups is None:
                groups = {
                    name: ParameterGroup(
                        name,
                        family,
                        f"Default parameter group for {family}",
                        _arn(backend, "parametergroup", name),
                    )
                    for name, family in DEFAULT_GROUPS.items()
                }
                backend.__dict__[_STATE_KEY] = groups
    return groups


def get_parameter_group(backend: MemoryDBBackend, name: str) -> ParameterGroup:
    group = parameter_groups(backend).get(name)
    if group is None:
        raise ParameterGroupNotFoundFault(f"Parameter group {name} not found.")
    return group


def create_parameter_group(
    backend: MemoryDBBackend,
    name: str,
    family: str,
    description: str | None,
    tags: list[dict[str, str]] | None = None,
) -> ParameterGroup:
    if family not in FAMILIES:
        raise InvalidParameterValueException(
            f"Invalid parameter group family: {family}. Valid families are {sorted(FAMILIES)}"
        )
    groups = parameter_groups(backend)
    with _lock:
        if name in groups:
            raise ParameterGroupAlreadyExistsFault(f"Parameter group {name} already exists.")
        group = ParameterGroup(name, family, description or "", _arn(backend, "parametergroup", name))
        groups[name] = group
    if tags:
        backend.tagger.tag_resource(group.arn, tags)
    return group


def _check_modifiable(group: ParameterGroup) -> None:
    if group.name in DEFAULT_GROUPS:
        raise InvalidParameterGroupStateFault(
            f"Parameter group {group.name} is a default parameter group and cannot be modified."
        )


def update_parameter_group(
    backend: MemoryDBBackend, name: str, name_values: list[tuple[str, str]]
) -> ParameterGroup:
    group = get_parameter_group(backend, name)
    _check_modifiable(group)
    catalogue = FAMILIES[group.family]
    for param, value in name_values:
        if param not in catalogue:
            raise InvalidParameterValueException(f"Unknown parameter for family {group.family}: {param}")
        _, data_type, allowed, _ = catalogue[param]
        if not is_allowed(str(value), data_type, allowed):
            raise InvalidParameterValueException(
                f"Invalid value for parameter {param}: {value}. Allowed values: {allowed}"
            )
    for param, value in name_values:
        group.values[param] = str(value)
    return group


def reset_parameter_group(
    backend: MemoryDBBackend, name: str, all_parameters: bool, names: list[str]
) -> ParameterGroup:
    group = get_parameter_group(backend, name)
    _check_modifiable(group)
    if all_parameters:
        group.values.clear()
    for param in names:
        group.values.pop(param, None)
    return group


def delete_parameter_group(backend: MemoryDBBackend, name: str) -> ParameterGroup:
    group = get_parameter_group(backend, name)
    _check_modifiable(group)
    users = [c.cluster_name for c in list(backend.clusters.values()) if c.parameter_group_name == name]
    if users:
        raise InvalidParameterGroupStateFault(f"Parameter group {name} is in use by cluster(s) {users}.")
    parameter_groups(backend).pop(name, None)
    return group


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


# --- response handlers (added to MemoryDBResponse) -----------------------------------------------------


def _params(self: MemoryDBResponse) -> dict[str, Any]:
    return json.loads(self.body or "{}")


def create_parameter_group_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    group = create_parameter_group(
        self.memorydb_backend, p["ParameterGroupName"], p["Family"], p.get("Description"), p.get("Tags")
    )
    return ActionResult({"ParameterGroup": group.to_dict()})


def describe_parameter_groups_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    name = p.get("ParameterGroupName")
    backend = self.memorydb_backend
    groups = [get_parameter_group(backend, name)] if name else list(parameter_groups(backend).values())
    page, token = _page([g.to_dict() for g in groups], p)
    return ActionResult({"ParameterGroups": page, "NextToken": token})


def update_parameter_group_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    pairs = [(item["ParameterName"], item["ParameterValue"]) for item in p.get("ParameterNameValues", [])]
    group = update_parameter_group(self.memorydb_backend, p["ParameterGroupName"], pairs)
    return ActionResult({"ParameterGroup": group.to_dict()})


def reset_parameter_group_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    group = reset_parameter_group(
        self.memorydb_backend,
        p["ParameterGroupName"],
        bool(p.get("AllParameters")),
        p.get("ParameterNames", []),
    )
    return ActionResult({"ParameterGroup": group.to_dict()})


def delete_parameter_group_action(self: MemoryDBResponse) -> ActionResult:
    group = delete_parameter_group(self.memorydb_backend, _params(self)["ParameterGroupName"])
    return ActionResult({"ParameterGroup": group.to_dict()})


def describe_parameters_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    group = get_parameter_group(self.memorydb_backend, p["ParameterGroupName"])
    page, token = _page(group.parameters(), p)
    return ActionResult({"Parameters": page, "NextToken": token})


def describe_acls_action(self: MemoryDBResponse) -> ActionResult:
    p = _params(self)
    backend = self.memorydb_backend
    name = p.get("ACLName")
    if name and name != OPEN_ACCESS:
        raise ACLNotFoundFault(f"ACL {name} not found.")
    acl = {
        "Name": OPEN_ACCESS,
        "Status": "active",
        "UserNames": ["default"],
        "MinimumEngineVersion": "6.2",
        "PendingChanges": {},
        "Clusters": [c.cluster_name for c in list(backend.clusters.values()) if c.acl_name == OPEN_ACCESS],
        "ARN": _arn(backend, "acl", OPEN_ACCESS),
    }
    return ActionResult({"ACLs": [acl]})


ACTIONS = {
    "CreateParameterGroup": create_parameter_group_action,
    "DescribeParameterGroups": describe_parameter_groups_action,
    "UpdateParameterGroup": update_parameter_group_action,
    "ResetParameterGroup": reset_parameter_group_action,
    "DeleteParameterGroup": delete_parameter_group_action,
    "DescribeParameters": describe_parameters_action,
    "DescribeACLs": describe_acls_action,
}


# --- backend fixes -----------------------------------------------------------------------------------


def _place_nodes(cluster: MemoryDBCluster, subnet_group: MemoryDBSubnetGroup | None) -> None:
    zones = sorted({s.availability_zone for s in subnet_group.subnets}) if subnet_group is not None else []
    if not zones:
        return
    for shard in cluster.shards:
        for index, node in enumerate(shard["Nodes"]):
            node["AvailabilityZone"] = zones[index % len(zones)]


def _create_cluster(orig: Any, self: MemoryDBBackend, **kwargs: Any) -> MemoryDBCluster:
    group_name = kwargs.get("parameter_group_name")
    if group_name:
        get_parameter_group(self, group_name)
    subnet_group_name = kwargs.get("subnet_group_name")
    if subnet_group_name and subnet_group_name not in self.subnet_groups:
        raise SubnetGroupNotFoundFault(f"Subnet group {subnet_group_name} not found.")
    acl_name = kwargs.get("acl_name")
    if acl_name and acl_name != OPEN_ACCESS:
        raise ACLNotFoundFault(f"ACL {acl_name} not found.")
    kwargs["tags"] = kwargs.get("tags") or []
    cluster = orig(self, **kwargs)
    if kwargs.get("num_replicas_per_shard") == 0:  # moto turns 0 into 1
        cluster.num_replicas_per_shard = 0
        cluster.availability_mode = "SingleAZ"
        cluster.shards = cluster.get_shard_details()
    _place_nodes(cluster, self.subnet_groups.get(cluster.subnet_group_name))
    return cluster


def _unsupported_subnets(backend: MemoryDBBackend, subnet_ids: list[str]) -> list[Any]:
    subnets = backend.ec2_backend.describe_subnets(filters={"subnet-id": list(subnet_ids)})
    return [
        s for s in subnets if not memorydb_zones.is_supported(backend.region_name, s.availability_zone_id)
    ]


def _create_subnet_group(orig: Any, self: MemoryDBBackend, *args: Any, **kwargs: Any) -> MemoryDBSubnetGroup:
    subnet_ids = kwargs["subnet_ids"] if "subnet_ids" in kwargs else args[2]
    outside = _unsupported_subnets(self, subnet_ids)
    if outside:
        listing = ", ".join(f"{s.id} ({s.availability_zone}, {s.availability_zone_id})" for s in outside)
        supported = ", ".join(sorted(memorydb_zones.supported_zone_ids(self.region_name) or ()))
        raise InvalidParameterValueException(
            f"MemoryDB does not support the availability zone of subnet(s) {listing} in {self.region_name}; "
            f"supported availability zone IDs: {supported}."
        )
    return orig(self, *args, **kwargs)


def _default_subnets(orig: Any, self: MemoryDBBackend) -> list[str]:
    subnet_ids = orig(self)
    outside = {s.id for s in _unsupported_subnets(self, subnet_ids)}
    # Never empty: moto cannot make a subnet group without subnets.
    return [i for i in subnet_ids if i not in outside] or subnet_ids


def _list_arns(orig: Any, self: MemoryDBBackend) -> list[str]:
    return orig(self) + [group.arn for group in parameter_groups(self).values()]


def _subnet_group_vpc_id(self: MemoryDBSubnetGroup) -> str | None:
    # moto raises IndexError once the subnets are gone, which breaks /moto-api/data.json.
    subnets = self.subnets
    return subnets[0].vpc_id if subnets else None


def apply() -> None:
    for action, handler in ACTIONS.items():
        patch_attr(MemoryDBResponse, camelcase_to_underscores(action), handler)
    wrap_method(MemoryDBBackend, "create_cluster", _create_cluster)
    wrap_method(MemoryDBBackend, "create_subnet_group", _create_subnet_group)
    wrap_method(MemoryDBBackend, "get_default_subnets", _default_subnets)
    wrap_method(MemoryDBBackend, "_list_arns", _list_arns)
    patch_attr(MemoryDBSubnetGroup, "vpc_id", property(_subnet_group_vpc_id))
