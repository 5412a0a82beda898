"""What a change set lists: the resource changes between a stack's template and a new one, as CloudFormation.

Both templates are compared after resolving what needs no resource: parameters (each side its own values),
pseudo parameters, Fn::Sub and Fn::Join over them. A resource is listed as

- Add / Remove when only one template declares it (Remove with PolicyAction Retain or Delete);
- Modify when its resolved Properties (or Metadata) differ: one Detail per changed top-level property, Static,
  from a DirectModification or, when only a parameter's value moved, a ParameterReference; Replacement "True"
  when one of them is in REPLACING (the CloudFormation resource reference's "Update requires: Replacement"),
  "False" otherwise;
- Modify with Dynamic details when it refers (Ref) to a resource that is replaced, or to an attribute
  (Fn::GetAtt) of one that changes: RequiresRecreation "Conditionally" and Replacement "Conditional" when the
  reference sits in a replacing property, "Never" otherwise. This propagates along references.

A resource whose resolved declaration did not change is not listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

REPLACING: dict[str, frozenset[str]] = {
    "AWS::EC2::VPC": frozenset({"CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength"}),
    "AWS::EC2::Subnet": frozenset(
        {"AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "VpcId", "Ipv4IpamPoolId", "OutpostArn"}
    ),
    "AWS::EC2::SecurityGroup": frozenset({"GroupName", "GroupDescription", "VpcId"}),
    "AWS::EC2::SecurityGroupIngress": frozenset(
        {
            "GroupId",
            "GroupName",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "SourcePrefixListId",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourceSecurityGroupOwnerId",
        }
    ),  # fmt: skip
    "AWS::EC2::SecurityGroupEgress": frozenset(
        {
            "GroupId",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "DestinationPrefixListId",
            "DestinationSecurityGroupId",
        }
    ),  # fmt: skip
    "AWS::EC2::VPCGatewayAttachment": frozenset({"VpcId"}),
    "AWS::EC2::RouteTable": frozenset({"VpcId"}),
    "AWS::EC2::Route": frozenset(
        {"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"}
    ),
    "AWS::EC2::SubnetRouteTableAssociation": frozenset({"SubnetId", "RouteTableId"}),
    "AWS::EC2::VPCEndpoint": frozenset({"ServiceName", "VpcEndpointType", "VpcId"}),
    "AWS::EC2::NatGateway": frozenset({"AllocationId", "ConnectivityType", "PrivateIpAddress", "SubnetId"}),
    "AWS::EC2::EIP": frozenset({"Domain", "NetworkBorderGroup"}),
    "AWS::S3::Bucket": frozenset({"BucketName"}),
    "AWS::S3::BucketPolicy": frozenset({"Bucket"}),
    "AWS::EFS::FileSystem": frozenset({"Encrypted", "KmsKeyId", "PerformanceMode", "AvailabilityZoneName"}),
    "AWS::EFS::MountTarget": frozenset({"FileSystemId", "SubnetId", "IpAddress"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::IAM::InstanceProfile": frozenset({"InstanceProfileName", "Path"}),
    "AWS::MemoryDB::Cluster": frozenset(
        {
            "ClusterName",
            "TLSEnabled",
            "DataTiering",
            "KmsKeyId",
            "Port",
            "SubnetGroupName",
            "SnapshotArns",
            "SnapshotName",
        }
    ),  # fmt: skip
    "AWS::MemoryDB::SubnetGroup": frozenset({"SubnetGroupName"}),
    "AWS::MemoryDB::ParameterGroup": frozenset({"ParameterGroupName", "Family", "Description"}),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": frozenset({"Name", "Scheme", "Type"}),
    "AWS::ElasticLoadBalancingV2::TargetGroup": frozenset(
        {"Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"}
    ),
    "AWS::ElasticLoadBalancingV2::Listener": frozenset({"LoadBalancerArn"}),
}
_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


@dataclass
class ResourceChange:
    """One entry of DescribeChangeSet's Changes (moto serialises the attributes by name)."""

    action: str
    logical_resource_id: str
    resource_type: str
    physical_resource_id: str | None = None
    replacement: str | None = None
    policy_action: str | None = None
    scope: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)

    def add_detail(self, detail: dict[str, Any]) -> bool:
        if detail in self.details:
            return False
        self.details.append(detail)
        attribute = detail["Target"]["Attribute"]
        if attribute not in self.scope:
            self.scope.append(attribute)
        recreation = [d["Target"].get("RequiresRecreation") for d in self.details]
        if "Always" in recreation:
            self.replacement = "True"
        elif "Conditionally" in recreation:
            self.replacement = "Conditional"
        else:
            self.replacement = "False"
        return True


@dataclass(frozen=True)
class Side:
    """One template with the values its parameters and pseudo parameters take."""

    resources: dict[str, Any]
    values: dict[str, Any]


# --- resolving what needs no resource ------------------------------------------------------------------------


def resolve(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and isinstance(arg, str) and arg in values:
            return values[arg]
        if key == "Fn::Sub":
            text = _substitute(arg, values)
            if text is not None:
                return text
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            parts = resolve(arg[1], values)
            if isinstance(arg[0], str) and isinstance(parts, list) and all(isinstance(p, str) for p in parts):
                return arg[0].join(parts)
    return {key: resolve(value, values) for key, value in node.items()}


def _substitute(arg: Any, values: dict[str, Any]) -> str | None:
    text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
    if not isinstance(text, str) or not isinstance(variables, dict):
        return None
    known = dict(values)
    known.update({name: resolve(value, values) for name, value in variables.items()})
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        value = known.get(match.group(1).strip())
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        unresolved = True
        return match.group(0)

    result = _SUB_NAME.sub(replace, text)
    return None if unresolved else result


def references(node: Any) -> set[tuple[str, str]]:
    """(kind, logical id) pairs a node refers to: kind "Ref" or "GetAtt"."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(("Ref", value))
            elif key == "Fn::GetAtt":
                target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
                found.add(("GetAtt", str(target)))
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                found |= references(variables)
                for name in _SUB_NAME.findall(text if isinstance(text, str) else ""):
                    name = name.strip()
                    if name not in (variables or {}):
                        found.add(("GetAtt", name.split(".", 1)[0]) if "." in name else ("Ref", name))
            else:
                found |= references(value)
    return found


# --- the diff ----------------------------------------------------------------------------------------------------


def _target(attribute: str, name: str | None, recreation: str, change: str) -> dict[str, Any]:
    target: dict[str, Any] = {"Attribute": attribute, "RequiresRecreation": recreation}
    if name is not None:
        target["Name"] = name
    target["AttributeChangeType"] = change
    return target


def _static_details(
    resource_type: str, old_body: dict[str, Any], new_body: dict[str, Any], old: Side, new: Side
) -> list[dict[str, Any]]:
    details = []
    replacing = REPLACING.get(resource_type, frozenset())
    old_props, new_props = old_body.get("Properties") or {}, new_body.get("Properties") or {}
    for name in [*new_props, *(n for n in old_props if n not in new_props)]:
        before, after = old_props.get(name), new_props.get(name)
        if resolve(before, old.values) == resolve(after, new.values):
            continue
        change = "Add" if name not in old_props else "Remove" if name not in new_props else "Modify"
        recreation = "Always" if name in replacing else "Never"
        attribute = "Tags" if name == "Tags" else "Properties"
        detail: dict[str, Any] = {
            "Target": _target(attribute, None if attribute == "Tags" else name, recreation, change),
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }
        if before == after:
            # The text is the same: a parameter's value moved.
            moved = sorted(
                ref for kind, ref in references(after) if kind == "Ref" and ref in new.values
                if old.values.get(ref) != new.values.get(ref)
            )  # fmt: skip
            detail["ChangeSource"] = "ParameterReference"
            if moved:
                detail["CausingEntity"] = moved[0]
        details.append(detail)
    if resolve(old_body.get("Metadata"), old.values) != resolve(new_body.get("Metadata"), new.values):
        details.append(
            {
                "Target": _target("Metadata", None, "Never", "Modify"),
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
        )
    return details


def _propagate(changes: dict[str, ResourceChange], new: Side) -> None:
    """List the resources whose references to changed resources may change what they are given."""
    grew = True
    while grew:
        grew = False
        for logical_id, body in new.resources.items():
            current = changes.get(logical_id)
            if current is not None and current.action != "Modify":
                continue
            replacing = REPLACING.get(str(body.get("Type")), frozenset())
            for name, value in (body.get("Properties") or {}).items():
                for kind, target in sorted(references(value)):
                    cause = changes.get(target)
                    if cause is None or cause.action != "Modify" or target == logical_id:
                        continue
                    if kind == "Ref" and cause.replacement not in ("True", "Conditional"):
                        continue
                    recreation = "Conditionally" if name in replacing else "Never"
                    detail = {
                        "Target": _target("Properties", name, recreation, "Modify"),
                        "Evaluation": "Dynamic",
                        "ChangeSource": "ResourceReference" if kind == "Ref" else "ResourceAttribute",
                        "CausingEntity": target,
                    }
                    if current is None:
                        current = changes[logical_id] = ResourceChange(
                            "Modify", logical_id, str(body.get("Type"))
                        )
                    grew |= current.add_detail(detail)


def diff(old: Side, new: Side, physical_ids: dict[str, str]) -> list[ResourceChange]:
    """The Changes of a change set from `old` to `new`, in the new template's order, removals last."""
    changes: dict[str, ResourceChange] = {}
    for logical_id, body in new.resources.items():
        resource_type = str(body.get("Type"))
        before = old.resources.get(logical_id)
        if before is None:
            changes[logical_id] = ResourceChange("Add", logical_id, resource_type)
            continue
        details = _static_details(resource_type, before, body, old, new)
        if details:
            change = changes[logical_id] = ResourceChange("Modify", logical_id, resource_type)
            for detail in details:
                change.add_detail(detail)
    _propagate(changes, new)
    for change in changes.values():
        if change.action == "Modify":
            change.physical_resource_id = physical_ids.get(change.logical_resource_id)
            if change.replacement == "True":
                policy = new.resources[change.logical_resource_id].get("UpdateReplacePolicy", "Delete")
                change.policy_action = f"ReplaceAnd{policy}"
    ordered = [changes[lid] for lid in new.resources if lid in changes]
    for logical_id, body in old.resources.items():
        if logical_id not in new.resources:
            retain = body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
            ordered.append(
                ResourceChange(
                    "Remove",
                    logical_id,
                    str(body.get("Type")),
                    physical_resource_id=physical_ids.get(logical_id),
                    policy_action="Retain" if retain else "Delete",
                )
            )
    return ordered
