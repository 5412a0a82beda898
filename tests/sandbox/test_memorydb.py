"""MemoryDB through CloudFormation and through its own API."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .templates import TAG_KEY, events, getatt, outputs, ref, stack, subnet, tags, template, vpc


def _memorydb_resources(parameters: Any) -> dict[str, Any]:
    return {
        "Vpc": vpc("c1"),
        "Subnet0": subnet("c1", "10.0.0.0/20", "us-east-1a"),
        "Subnet1": subnet("c1", "10.0.16.0/20", "us-east-1c"),
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "cache", "VpcId": ref("Vpc")},
        },
        "Params": {
            "Type": "AWS::MemoryDB::ParameterGroup",
            "Properties": {
                "ParameterGroupName": "cp-c1",
                "Family": "memorydb_redis7",
                "Parameters": parameters,
                "Tags": tags("c1"),
            },
        },
        "Subnets": {
            "Type": "AWS::MemoryDB::SubnetGroup",
            "Properties": {
                "SubnetGroupName": "cp-c1",
                "SubnetIds": [ref("Subnet0"), ref("Subnet1")],
                "Tags": tags("c1"),
            },
        },
        "Cluster": {
            "Type": "AWS::MemoryDB::Cluster",
            "Properties": {
                "ClusterName": "cp-c1",
                "NodeType": "db.t4g.small",
                "TLSEnabled": True,
                "NumReplicasPerShard": 1,
                "ACLName": "open-access",
                "SecurityGroupIds": [getatt("Group", "GroupId")],
                "ParameterGroupName": ref("Params"),
                "SubnetGroupName": ref("Subnets"),
                "Tags": tags("c1"),
            },
        },
    }


@pytest.mark.parametrize(
    "parameters",
    [[{"Name": "maxmemory-policy", "Value": "allkeys-lru"}], {"maxmemory-policy": "allkeys-lru"}],
    ids=["list", "object"],
)
def test_cluster_from_cloudformation(client: Any, parameters: Any) -> None:
    cfn, mdb = client("cloudformation"), client("memorydb")
    body = template(
        _memorydb_resources(parameters),
        {
            "Name": ref("Cluster"),
            "Arn": getatt("Cluster", "ARN"),
            "Endpoint": getatt("Cluster", "ClusterEndpoint.Address"),
            "ParamsArn": getatt("Params", "ARN"),
            "SubnetsArn": getatt("Subnets", "ARN"),
            "GroupId": getatt("Group", "GroupId"),
        },
    )
    cfn.create_stack(StackName="m", TemplateBody=body)
    out = outputs(cfn, "m")
    assert out["Name"] == "cp-c1" and out["Arn"].endswith(":cluster/cp-c1")
    assert out["Endpoint"].startswith("clustercfg.cp-c1.")

    cluster = mdb.describe_clusters(ClusterName="cp-c1", ShowShardDetails=True)["Clusters"][0]
    assert cluster["ParameterGroupName"] == "cp-c1" and cluster["SubnetGroupName"] == "cp-c1"
    assert cluster["TLSEnabled"] is True and cluster["NodeType"] == "db.t4g.small"
    assert cluster["ACLName"] == "open-access"
    assert [g["SecurityGroupId"] for g in cluster["SecurityGroups"]] == [out["GroupId"]]
    assert cluster["NumberOfShards"] == 1
    nodes = cluster["Shards"][0]["Nodes"]
    assert len(nodes) == 2  # one primary, one replica
    assert {n["AvailabilityZone"] for n in nodes} <= {"us-east-1a", "us-east-1c"}

    params = {
        p["Name"]: p["Value"] for p in mdb.describe_parameters(ParameterGroupName="cp-c1")["Parameters"]
    }
    assert params["maxmemory-policy"] == "allkeys-lru"
    group = mdb.describe_parameter_groups(ParameterGroupName="cp-c1")["ParameterGroups"][0]
    assert group["Family"] == "memorydb_redis7" and group["ARN"] == out["ParamsArn"]
    for arn in (out["Arn"], out["ParamsArn"], out["SubnetsArn"]):
        assert {"Key": TAG_KEY, "Value": "c1"} in mdb.list_tags(ResourceArn=arn)["TagList"]

    cfn.delete_stack(StackName="m")
    assert mdb.describe_clusters()["Clusters"] == []
    assert [g["Name"] for g in mdb.describe_subnet_groups()["SubnetGroups"]] == ["default"]
    assert all(g["Name"].startswith("default.") for g in mdb.describe_parameter_groups()["ParameterGroups"])


def test_invalid_parameter_fails_the_stack(client: Any) -> None:
    cfn, mdb = client("cloudformation"), client("memorydb")
    cfn.create_stack(
        StackName="m", TemplateBody=template(_memorydb_resources({"maxmemory-policy": "sometimes"}))
    )
    assert stack(cfn, "m")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert all(g["Name"].startswith("default.") for g in mdb.describe_parameter_groups()["ParameterGroups"])


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_parameter_group_api(client: Any) -> None:
    mdb = client("memorydb")
    defaults = {g["Name"]: g["Family"] for g in mdb.describe_parameter_groups()["ParameterGroups"]}
    assert defaults["default.memorydb-redis7"] == "memorydb_redis7"
    default_params = mdb.describe_parameters(ParameterGroupName="default.memorydb-redis7")["Parameters"]
    by_name = {p["Name"]: p for p in default_params}
    assert by_name["maxmemory-policy"]["Value"] == "noeviction"
    assert "allkeys-lru" in by_name["maxmemory-policy"]["AllowedValues"]
    assert {"activedefrag", "maxmemory-samples", "notify-keyspace-events", "timeout"} <= set(by_name)

    mdb.create_parameter_group(ParameterGroupName="pg", Family="memorydb_redis7", Description="d")
    with pytest.raises(ClientError) as error:
        mdb.create_parameter_group(ParameterGroupName="pg", Family="memorydb_redis7")
    assert _code(error) == "ParameterGroupAlreadyExistsFault"
    mdb.update_parameter_group(
        ParameterGroupName="pg",
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}],
    )
    values = {p["Name"]: p["Value"] for p in mdb.describe_parameters(ParameterGroupName="pg")["Parameters"]}
    assert values["maxmemory-policy"] == "allkeys-lru"
    with pytest.raises(ClientError) as error:
        mdb.update_parameter_group(
            ParameterGroupName="pg", ParameterNameValues=[{"ParameterName": "no-such", "ParameterValue": "1"}]
        )
    assert _code(error) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as error:
        mdb.update_parameter_group(
            ParameterGroupName="default.memorydb-redis7",
            ParameterNameValues=[{"ParameterName": "timeout", "ParameterValue": "30"}],
        )
    assert _code(error) == "InvalidParameterGroupStateFault"

    page = mdb.describe_parameters(ParameterGroupName="pg", MaxResults=5)
    assert len(page["Parameters"]) == 5 and page["NextToken"]

    acls = mdb.describe_acls()["ACLs"]
    assert [a["Name"] for a in acls] == ["open-access"]

    # A cluster must name an existing parameter group; a group in use cannot be deleted.
    with pytest.raises(ClientError) as error:
        mdb.create_cluster(
            ClusterName="x", NodeType="db.t4g.small", ACLName="open-access", ParameterGroupName="nope"
        )
    assert _code(error) == "ParameterGroupNotFoundFault"
    mdb.create_cluster(
        ClusterName="x", NodeType="db.t4g.small", ACLName="open-access", ParameterGroupName="pg"
    )
    with pytest.raises(ClientError) as error:
        mdb.delete_parameter_group(ParameterGroupName="pg")
    assert _code(error) == "InvalidParameterGroupStateFault"
    assert mdb.describe_acls(ACLName="open-access")["ACLs"][0]["Clusters"] == ["x"]
    mdb.delete_cluster(ClusterName="x")
    mdb.delete_parameter_group(ParameterGroupName="pg")
    with pytest.raises(ClientError) as error:
        mdb.describe_parameters(ParameterGroupName="pg")
    assert _code(error) == "ParameterGroupNotFoundFault"


# In the sandbox's us-east-1: 1a = use1-az6 and 1c = use1-az2 run MemoryDB, 1b = use1-az1 does not.


def _subnets_in(client: Any, *zones: str) -> list[str]:
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.1.{16 * i}.0/20", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(zones)
    ]


def test_subnet_group_refuses_a_zone_memorydb_does_not_run_in(client: Any) -> None:
    mdb = client("memorydb")
    good_a, unsupported, good_c = _subnets_in(client, "us-east-1a", "us-east-1b", "us-east-1c")
    with pytest.raises(ClientError) as error:
        mdb.create_subnet_group(SubnetGroupName="g", SubnetIds=[good_a, unsupported])
    assert _code(error) == "InvalidParameterValueException"
    message = error.value.response["Error"]["Message"]
    assert f"{unsupported} (us-east-1b, use1-az1)" in message and good_a not in message
    assert "use1-az2, use1-az4, use1-az6" in message
    assert "g" not in {g["Name"] for g in mdb.describe_subnet_groups()["SubnetGroups"]}

    group = mdb.create_subnet_group(SubnetGroupName="g", SubnetIds=[good_a, good_c])["SubnetGroup"]
    assert {s["AvailabilityZone"]["Name"] for s in group["Subnets"]} == {"us-east-1a", "us-east-1c"}


def test_default_subnet_group_leaves_out_unsupported_zones(client: Any) -> None:
    default = client("memorydb").describe_subnet_groups(SubnetGroupName="default")["SubnetGroups"][0]
    zones = {s["AvailabilityZone"]["Name"] for s in default["Subnets"]}
    assert zones == {"us-east-1a", "us-east-1c", "us-east-1d"}  # use1-az6, use1-az2, use1-az4


def test_cloudformation_subnet_group_in_an_unsupported_zone_rolls_back(client: Any) -> None:
    cfn, mdb = client("cloudformation"), client("memorydb")
    resources = _memorydb_resources({"maxmemory-policy": "allkeys-lru"})
    resources["Subnet1"]["Properties"]["AvailabilityZone"] = "us-east-1b"
    cfn.create_stack(StackName="m", TemplateBody=template(resources))
    assert stack(cfn, "m")["StackStatus"] == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in events(cfn, "m") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Subnets"
    assert "(ErrorCode: InvalidParameterValueException)" in failed["ResourceStatusReason"]
    assert "us-east-1b, use1-az1" in failed["ResourceStatusReason"]
    assert [g["Name"] for g in mdb.describe_subnet_groups()["SubnetGroups"]] == ["default"]


def test_cloudformation_subnet_takes_its_zone_by_id(client: Any) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    by_id = subnet("c1", "10.0.0.0/20", None)
    del by_id["Properties"]["AvailabilityZone"]
    by_id["Properties"]["AvailabilityZoneId"] = "use1-az4"
    cfn.create_stack(StackName="z", TemplateBody=template({"Vpc": vpc("c1"), "S": by_id}, {"S": ref("S")}))
    (made,) = ec2.describe_subnets(SubnetIds=[outputs(cfn, "z")["S"]])["Subnets"]
    assert (made["AvailabilityZone"], made["AvailabilityZoneId"]) == ("us-east-1d", "use1-az4")

    by_id["Properties"]["AvailabilityZoneId"] = "usw2-az1"  # another region's zone
    cfn.create_stack(StackName="y", TemplateBody=template({"Vpc": vpc("c1"), "S": by_id}))
    assert stack(cfn, "y")["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason") or "" for e in events(cfn, "y")]
    assert any("Value (usw2-az1) for parameter availabilityZoneId is invalid" in r for r in reasons)
