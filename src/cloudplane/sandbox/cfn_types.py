"""CloudFormation resource types moto lacks or implements as a no-op.

New: AWS::EC2::SecurityGroupEgress, AWS::S3::BucketPolicy, AWS::MemoryDB::{ParameterGroup,SubnetGroup,Cluster}
(a SubnetGroup with a subnet in a zone MemoryDB does not support fails with InvalidParameterValueException; a
Cluster whose parameter group's family does not match its Engine / EngineVersion, given or defaulted, fails with
InvalidParameterCombinationException).
Replaced (a later CloudFormationModel subclass wins moto's type lookup): AWS::EC2::SecurityGroupIngress (now with
a physical id and a delete) and AWS::EC2::SubnetRouteTableAssociation (moto records it but never associates).
AWS::EC2::Subnet takes its zone from AvailabilityZoneId too (moto reads only AvailabilityZone).

Classes must stay *direct* subclasses of CloudFormationModel (moto only scans `__subclasses__()`), and must
live in a dotted module (moto's instance tracker keys models by the second module component).
"""

from __future__ import annotations

import json
import os
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.subnets import Subnet
from moto.memorydb.models import memorydb_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from . import memorydb_api
from ._patching import SandboxServiceError, as_bool, wrap_classmethod
from .cfn_properties import rule_arguments


class _SandboxModel(CloudFormationModel):
    """Shared plumbing; subclasses set TYPE, NAME_PROPERTY and ATTRIBUTES (GetAtt name -> attribute name)."""

    sandbox_model = True  # cfn_delete calls .delete() directly (no moto fallback that hides errors)
    TYPE = ""
    NAME_PROPERTY = ""
    ATTRIBUTES: dict[str, str] = {}

    def __init__(self, physical_id: str, account_id: str, region: str) -> None:
        self.physical_resource_id = physical_id
        self.account_id = account_id
        self.region = region

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override]
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:  # type: ignore[override]
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:  # type: ignore[override]
        # Only reached through moto's update path; the live object carries everything we need.
        raise NotImplementedError(f"{cls.TYPE}: delete the live resource instead")


def _ec2(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


# --- EC2 -------------------------------------------------------------------------------------------------


class _SecurityGroupRule(CloudFormationModel):
    sandbox_model = True
    EGRESS = False

    def __init__(self, group_id: str, rule_ids: list[str]) -> None:
        self.group_id = group_id
        self.rule_ids = rule_ids
        self.physical_resource_id = rule_ids[0] if rule_ids else group_id

    @classmethod
    def cloudformation_name_type(cls) -> str:  # type: ignore[override]
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_resource_id
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        ec2 = _ec2(account_id, region_name)
        group_ref = props.get("GroupId") or props.get("GroupName")
        group = ec2.get_security_group_by_name_or_id(group_ref)
        if group is None:
            from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

            raise InvalidSecurityGroupNotFoundError(group_ref)
        authorize = (
            ec2.authorize_security_group_egress if cls.EGRESS else ec2.authorize_security_group_ingress
        )
        rules, _ = authorize(group.id, vpc_id=group.vpc_id, **rule_arguments(props, egress=cls.EGRESS))
        return cls(group.id, [rule.id for rule in rules])

    def delete(self, account_id: str, region_name: str) -> None:
        ec2 = _ec2(account_id, region_name)
        group = ec2.get_security_group_from_id(self.group_id)
        if group is None:
            return
        current = {rule.id for rule in (group.egress_rules if self.EGRESS else group.ingress_rules)}
        gone = [rule_id for rule_id in self.rule_ids if rule_id in current]
        if gone:
            revoke = ec2.revoke_security_group_egress if self.EGRESS else ec2.revoke_security_group_ingress
            revoke(group.id, None, None, None, [], security_rule_ids=gone)


class CfnSecurityGroupIngress(_SecurityGroupRule, CloudFormationModel):
    EGRESS = False

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupIngress"


class CfnSecurityGroupEgress(_SecurityGroupRule, CloudFormationModel):
    EGRESS = True

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupEgress"


class CfnSubnetRouteTableAssociation(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::EC2::SubnetRouteTableAssociation"
    ATTRIBUTES = {"Id": "physical_resource_id"}

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        ec2 = _ec2(account_id, region_name)
        ec2.get_subnet(props["SubnetId"])  # AWS rejects an unknown subnet
        association_id = ec2.associate_route_table(props["RouteTableId"], subnet_id=props["SubnetId"])
        return cls(association_id, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _ec2(account_id, region_name).disassociate_route_table(self.physical_resource_id)


def _subnet_zone_by_id(
    orig: Any, cls: type, name: str, cfn_json: Any, account_id: str, region: str, **kw: Any
) -> Any:
    props = cfn_json["Properties"]
    zone_id = props.get("AvailabilityZoneId")
    if zone_id and not props.get("AvailabilityZone"):
        zones = _ec2(account_id, region).describe_availability_zones()
        zone = next((z.name for z in zones if z.zone_id == zone_id), None)
        if zone is None:
            raise SandboxServiceError(
                "InvalidParameterValue",
                f"Value ({zone_id}) for parameter availabilityZoneId is invalid. Subnets can currently only be "
                f"created in the following availability zone IDs: {', '.join(sorted(z.zone_id for z in zones))}.",
            )
        cfn_json = {**cfn_json, "Properties": {**props, "AvailabilityZone": zone}}
    return orig(name, cfn_json, account_id, region, **kw)


# --- S3 --------------------------------------------------------------------------------------------------


class CfnBucketPolicy(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        cls._put(props, account_id, region_name)
        return cls(props["Bucket"], account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        if props["Bucket"] != original_resource.physical_resource_id:
            original_resource.delete(account_id, region_name)
        cls._put(props, account_id, region_name)
        return cls(props["Bucket"], account_id, region_name)

    @staticmethod
    def _put(props: dict[str, Any], account_id: str, region_name: str) -> None:
        document = props["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(props["Bucket"], text.encode())

    def delete(self, account_id: str, region_name: str) -> None:
        s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(self.physical_resource_id)


# --- MemoryDB --------------------------------------------------------------------------------------------


def _memorydb(account_id: str, region: str) -> Any:
    try:
        return memorydb_backends[account_id][region]
    except KeyError:  # moto has no MemoryDB backend in a region without the service
        raise SandboxServiceError(
            "ValidationError", f"Template format error: MemoryDB is not available in region {region}"
        ) from None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


class CfnMemoryDBParameterGroup(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::MemoryDB::ParameterGroup"
    NAME_PROPERTY = "ParameterGroupName"
    ATTRIBUTES = {"ARN": "arn"}

    def __init__(self, physical_id: str, account_id: str, region: str, arn: str) -> None:
        super().__init__(physical_id, account_id, region)
        self.arn = arn

    @staticmethod
    def parameter_pairs(parameters: Any) -> list[tuple[str, str]]:
        """`Parameters` is a JSON object in CloudFormation; also accept a list of {Name, Value}."""
        if isinstance(parameters, dict):
            return [(str(k), str(v)) for k, v in parameters.items()]
        pairs = []
        for item in parameters or []:
            name = item.get("Name", item.get("ParameterName"))
            value = item.get("Value", item.get("ParameterValue"))
            pairs.append((str(name), str(value)))
        return pairs

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        backend = _memorydb(account_id, region_name)
        group = memorydb_api.create_parameter_group(
            backend, resource_name, props.get("Family", ""), props.get("Description"), props.get("Tags")
        )
        try:
            pairs = cls.parameter_pairs(props.get("Parameters"))
            if pairs:
                memorydb_api.update_parameter_group(backend, group.name, pairs)
        except Exception:
            memorydb_api.delete_parameter_group(backend, group.name)
            raise
        return cls(group.name, account_id, region_name, group.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        memorydb_api.delete_parameter_group(_memorydb(account_id, region_name), self.physical_resource_id)


class CfnMemoryDBSubnetGroup(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::MemoryDB::SubnetGroup"
    NAME_PROPERTY = "SubnetGroupName"
    ATTRIBUTES = {"ARN": "arn"}

    def __init__(self, physical_id: str, account_id: str, region: str, arn: str) -> None:
        super().__init__(physical_id, account_id, region)
        self.arn = arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        group = _memorydb(account_id, region_name).create_subnet_group(
            subnet_group_name=resource_name,
            description=props.get("Description", ""),
            subnet_ids=list(props.get("SubnetIds", [])),
            tags=props.get("Tags"),
        )
        return cls(group.subnet_group_name, account_id, region_name, group.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        _memorydb(account_id, region_name).delete_subnet_group(self.physical_resource_id)


ENV_MEMORYDB_DEFAULT_ENGINE = "CLOUDPLANE_SANDBOX_MEMORYDB_DEFAULT_ENGINE"
# What a cluster runs when the template leaves Engine / EngineVersion out. AWS moves these defaults over
# time; "<engine> <version>" in the environment variable above stands for such a move (read per create).
DEFAULT_ENGINE = ("redis", "7.1")
DEFAULT_VERSIONS = {"redis": "7.1", "valkey": "7.2"}
# The parameter-group family of each engine and major version.
ENGINE_FAMILIES = {
    ("redis", "6"): "memorydb_redis6",
    ("redis", "7"): "memorydb_redis7",
    ("valkey", "7"): "memorydb_valkey7",
}


def _default_engine() -> tuple[str, str]:
    words = os.environ.get(ENV_MEMORYDB_DEFAULT_ENGINE, "").split()
    return (words[0].lower(), words[1]) if len(words) == 2 else DEFAULT_ENGINE


def cluster_engine(props: dict[str, Any]) -> tuple[str, str, str]:
    """(engine, version, parameter-group family) of a cluster; InvalidParameterValue for an unknown one."""
    default_engine, default_version = _default_engine()
    engine = str(props.get("Engine") or default_engine).lower()
    if props.get("EngineVersion"):
        version = str(props["EngineVersion"])
    else:
        version = default_version if engine == default_engine else DEFAULT_VERSIONS.get(engine, "")
    family = ENGINE_FAMILIES.get((engine, version.split(".", 1)[0]))
    if family is None:
        raise SandboxServiceError(
            "InvalidParameterValueException", f"Invalid engine or engine version: {engine} {version}".strip()
        )
    return engine, version, family


def _check_parameter_group_family(
    backend: Any, group_name: Any, engine: str, version: str, family: str
) -> None:
    if not group_name:
        return
    group = memorydb_api.get_parameter_group(backend, str(group_name))
    if group.family != family:
        raise SandboxServiceError(
            "InvalidParameterCombinationException",
            f"Parameter group {group.name} has family {group.family}, which cannot be used with engine "
            f"{engine} {version} (family {family}).",
        )


class CfnMemoryDBCluster(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::MemoryDB::Cluster"
    NAME_PROPERTY = "ClusterName"
    ATTRIBUTES = {
        "ARN": "arn",
        "ClusterEndpoint.Address": "endpoint_address",
        "ClusterEndpoint.Port": "endpoint_port",
        "Status": "status",
        "ParameterGroupStatus": "parameter_group_status",
    }

    def __init__(self, physical_id: str, account_id: str, region: str, cluster: Any) -> None:
        super().__init__(physical_id, account_id, region)
        self.arn = cluster.arn
        self.endpoint_address = cluster.cluster_endpoint["Address"]
        self.endpoint_port = cluster.cluster_endpoint["Port"]
        self.status = cluster.status
        self.parameter_group_status = cluster.parameter_group_status

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        p = cloudformation_json["Properties"]
        tls = p.get("TLSEnabled")
        backend = _memorydb(account_id, region_name)
        engine, version, family = cluster_engine(p)
        _check_parameter_group_family(backend, p.get("ParameterGroupName"), engine, version, family)
        cluster = backend.create_cluster(
            cluster_name=resource_name,
            node_type=p.get("NodeType"),
            # Without one, AWS gives the cluster its engine's default group (moto: always redis7's).
            parameter_group_name=p.get("ParameterGroupName") or f"default.{family.replace('_', '-')}",
            description=p.get("Description"),
            subnet_group_name=p.get("SubnetGroupName"),
            security_group_ids=list(p.get("SecurityGroupIds", [])),
            maintenance_window=p.get("MaintenanceWindow"),
            port=_int(p.get("Port")),
            sns_topic_arn=p.get("SnsTopicArn"),
            tls_enabled=None if tls is None else as_bool(tls),
            kms_key_id=p.get("KmsKeyId"),
            snapshot_arns=p.get("SnapshotArns"),
            snapshot_name=p.get("SnapshotName"),
            snapshot_retention_limit=_int(p.get("SnapshotRetentionLimit")),
            tags=p.get("Tags") or [],
            snapshot_window=p.get("SnapshotWindow"),
            acl_name=p.get("ACLName"),
            engine_version=version,
            auto_minor_version_upgrade=None
            if p.get("AutoMinorVersionUpgrade") is None
            else as_bool(p["AutoMinorVersionUpgrade"]),
            data_tiering=as_bool(p.get("DataTiering", False)),
            num_shards=_int(p.get("NumShards")),
            num_replicas_per_shard=_int(p.get("NumReplicasPerShard")),
        )
        # moto knows only redis 6.2 / 7.0 / 7.1 and has no Engine field: keep what the cluster runs.
        cluster.engine = engine
        cluster.engine_version = version
        return cls(cluster.cluster_name, account_id, region_name, cluster)

    def delete(self, account_id: str, region_name: str) -> None:
        _memorydb(account_id, region_name).delete_cluster(self.physical_resource_id, None)


SANDBOX_TYPES = (
    CfnSecurityGroupIngress,
    CfnSecurityGroupEgress,
    CfnSubnetRouteTableAssociation,
    CfnBucketPolicy,
    CfnMemoryDBParameterGroup,
    CfnMemoryDBSubnetGroup,
    CfnMemoryDBCluster,
)


def apply() -> None:
    wrap_classmethod(Subnet, "create_from_cloudformation_json", _subnet_zone_by_id)
    # moto caches its type registry on first use; our classes exist by now (this module is imported).
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    model_map = parsing.get_model_map()
    for cls in SANDBOX_TYPES:
        if model_map.get(cls.cloudformation_type()) is not cls:
            raise RuntimeError(f"{cls.cloudformation_type()} is not served by {cls.__name__}")
