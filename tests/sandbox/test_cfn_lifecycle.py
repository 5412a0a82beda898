"""Stack lifecycle: events, outputs, rollback, delete, and AWS's dependency rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer

from .templates import bucket, events, managed_cloud, outputs, ref, stack, subnet, tags, template, vpc

ZONES = ["us-east-1a", "us-east-1c"]  # zones where MemoryDB runs (use1-az6, use1-az2)


def _leftovers(client: Any) -> dict[str, list[str]]:
    """Everything a managed cloud could leave behind, except the default VPC and its parts."""
    ec2, efs, iam, mdb = client("ec2"), client("efs"), client("iam"), client("memorydb")
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]
    in_vpcs = [{"Name": "vpc-id", "Values": vpcs}] if vpcs else [{"Name": "vpc-id", "Values": ["none"]}]
    return {
        "vpcs": vpcs,
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=in_vpcs)["Subnets"]],
        "igws": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]],
        "route_tables": [
            r["RouteTableId"] for r in ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]
        ],
        "endpoints": [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]],
        "groups": [g["GroupId"] for g in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]],
        "file_systems": [f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "profiles": [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]],
        "clusters": [c["Name"] for c in mdb.describe_clusters()["Clusters"]],
        "subnet_groups": [
            g["Name"] for g in mdb.describe_subnet_groups()["SubnetGroups"] if g["Name"] != "default"
        ],
        "parameter_groups": [
            g["Name"]
            for g in mdb.describe_parameter_groups()["ParameterGroups"]
            if not g["Name"].startswith("default.")
        ],
    }


def _nothing_left(client: Any) -> None:
    assert {kind: ids for kind, ids in _leftovers(client).items() if ids} == {}


def test_full_cloud_create_outputs_events_and_delete(client: Any) -> None:
    cfn, ec2, s3 = client("cloudformation"), client("ec2"), client("s3")
    body = managed_cloud("c1", ZONES)
    stack_id = cfn.create_stack(StackName="cloud", TemplateBody=json.dumps(body))["StackId"]
    described = stack(cfn, "cloud")
    assert described["StackStatus"] == "CREATE_COMPLETE"

    out = outputs(cfn, "cloud")
    assert set(out) == set(body["Outputs"])
    assert all(value and "Fn::" not in value for value in out.values())
    assert out["Subnet1Zone"] == "us-east-1c" and out["FileSystemId"] == out["FileSystemRef"]

    # One CREATE_IN_PROGRESS and one CREATE_COMPLETE per resource, dependencies first.
    resource_events = [e for e in events(cfn, "cloud") if e["LogicalResourceId"] != "cloud"]
    done = [e["LogicalResourceId"] for e in resource_events if e["ResourceStatus"] == "CREATE_COMPLETE"]
    assert sorted(done) == sorted(body["Resources"])
    assert done.index("Vpc") < done.index("Subnet0") < done.index("MountTarget0")
    assert done.index("MemoryDbSubnetGroup") < done.index("MemoryDbCluster")
    statuses = {
        r["ResourceStatus"] for r in cfn.describe_stack_resources(StackName="cloud")["StackResources"]
    }
    assert statuses == {"CREATE_COMPLETE"}
    summaries = cfn.list_stack_resources(StackName="cloud")["StackResourceSummaries"]
    assert len(summaries) == len(body["Resources"]) and all(s["PhysicalResourceId"] for s in summaries)

    # AWS refuses to delete a VPC with an attached gateway or a live endpoint.
    with pytest.raises(ClientError) as error:
        ec2.delete_vpc(VpcId=out["VpcId"])
    assert error.value.response["Error"]["Code"] == "DependencyViolation"

    cfn.delete_stack(StackName="cloud")
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert "Outputs" not in deleted  # describing a deleted stack must not re-create its resources
    _nothing_left(client)
    # The retained bucket stays, as on AWS.
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["cloudplane-c1"]
    delete_events = {e["LogicalResourceId"]: e["ResourceStatus"] for e in events(cfn, stack_id)}
    assert delete_events["Bucket"] == "DELETE_SKIPPED" and delete_events["Vpc"] == "DELETE_COMPLETE"


def test_failing_subnet_rolls_the_stack_back(client: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    resources = {
        "Vpc": vpc("c1"),
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {"BucketName": "kept-c1"},
        },
        "Scratch": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "scratch-c1"}},
        "BadSubnet": {**subnet("c1", "10.99.0.0/24", "us-east-1a"), "DependsOn": ["Bucket", "Scratch"]},
        "Later": {
            "Type": "AWS::EC2::InternetGateway",
            "DependsOn": "BadSubnet",
            "Properties": {"Tags": tags("c1")},
        },
    }
    stack_id = cfn.create_stack(StackName="bad", TemplateBody=template(resources, {"Vpc": ref("Vpc")}))[
        "StackId"
    ]
    assert stack_id.startswith("arn:aws:cloudformation:")

    described = stack(cfn, "bad")
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Outputs" not in described
    assert "[BadSubnet]" in described["StackStatusReason"]
    history = events(cfn, "bad")
    failed = [e for e in history if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["BadSubnet"]
    assert "InvalidSubnet.Range" in failed[0]["ResourceStatusReason"]
    stack_statuses = [e["ResourceStatus"] for e in history if e["LogicalResourceId"] == "bad"]
    assert stack_statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert not [e for e in history if e["LogicalResourceId"] == "Later"]

    _nothing_left(client)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-c1"]

    # update is refused, delete works.
    with pytest.raises(ClientError):
        cfn.update_stack(StackName="bad", TemplateBody=template(resources))
    cfn.delete_stack(StackName="bad")
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    _nothing_left(client)


def test_injected_failure_rolls_back_the_full_cloud(
    client: Any, sandbox: SandboxServer, moto_api: Any
) -> None:
    cfn = client("cloudformation")
    moto_api(
        "POST", "cloudplane/fail-next", {"ResourceType": "AWS::EFS::FileSystem", "Reason": "EFS is down"}
    )
    assert moto_api("GET", "cloudplane/fail-next") == [
        {"ResourceType": "AWS::EFS::FileSystem", "Reason": "EFS is down"}
    ]

    cfn.create_stack(StackName="cloud", TemplateBody=json.dumps(managed_cloud("c1", ZONES)))
    assert stack(cfn, "cloud")["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, "cloud") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [(e["LogicalResourceId"], e["ResourceStatusReason"]) for e in failed] == [
        ("FileSystem", "EFS is down")
    ]
    _nothing_left(client)
    assert moto_api("GET", "cloudplane/fail-next") == []  # rules fire once

    # A rule for a type that is never created is dropped by a reset.
    sandbox.fail_next("AWS::EC2::Volume")
    sandbox.reset()
    assert moto_api("GET", "cloudplane/fail-next") == []


def test_on_failure_do_nothing_keeps_the_resources(client: Any, sandbox: SandboxServer) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    sandbox.fail_next("AWS::EC2::Subnet", "no subnets today")
    resources = {"Vpc": vpc("c1"), "Subnet": subnet("c1", "10.0.0.0/20", "us-east-1a")}
    cfn.create_stack(StackName="keep", TemplateBody=template(resources), OnFailure="DO_NOTHING")
    assert stack(cfn, "keep")["StackStatus"] == "CREATE_FAILED"
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]
    cfn.delete_stack(StackName="keep")
    _nothing_left(client)


def test_template_errors_are_refused_up_front(client: Any) -> None:
    cfn = client("cloudformation")
    resources = {"Subnet": subnet("c1", "10.0.0.0/20", "us-east-1a", vpc_id="Missing")}
    with pytest.raises(ClientError) as error:
        cfn.create_stack(StackName="t", TemplateBody=template(resources))
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "Missing" in error.value.response["Error"]["Message"]
    assert cfn.list_stacks()["StackSummaries"] == []

    with pytest.raises(ClientError) as error:
        cfn.create_stack(
            StackName="t",
            TemplateBody=template({"Vpc": vpc("c1")}, {"X": {"Fn::GetAtt": ["Vpc", "NoSuchThing"]}}),
        )
    assert error.value.response["Error"]["Code"] == "ValidationError"
    _nothing_left(client)


def test_direct_delete_rules(client: Any) -> None:
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    with pytest.raises(ClientError) as error:
        ec2.delete_vpc(VpcId=vpc_id)
    assert error.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)

    route_table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"][
        0
    ]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[route_table["RouteTableId"]]
    )["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError):
        ec2.delete_vpc(VpcId=vpc_id)
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])

    # A subnet with a running instance cannot go; once the instance is terminated it can.
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.5.0.0/24")["Subnet"]["SubnetId"]
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet_id)
    with pytest.raises(ClientError) as error:
        ec2.delete_subnet(SubnetId=subnet_id)
    assert error.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.terminate_instances(InstanceIds=[instance["Instances"][0]["InstanceId"]])
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_update_keeps_tracking_resources(client: Any) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    cfn.create_stack(StackName="u", TemplateBody=template({"Vpc": vpc("c1")}))
    changed = vpc("c1")
    changed["Properties"]["Tags"] = tags("c1", "renamed")
    resources = {"Vpc": changed, "Gateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {}}}
    cfn.update_stack(StackName="u", TemplateBody=template(resources))
    assert stack(cfn, "u")["StackStatus"] == "UPDATE_COMPLETE"
    updates = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events(cfn, "u")]
    assert ("Vpc", "UPDATE_COMPLETE") in updates and ("Gateway", "CREATE_COMPLETE") in updates
    logical_ids = {
        r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName="u")["StackResources"]
    }
    assert logical_ids == {"Vpc", "Gateway"}
    created = next(v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"])
    assert {"Key": "Name", "Value": "renamed"} in created["Tags"]

    cfn.delete_stack(StackName="u")
    _nothing_left(client)


# --- AWS limits a managed cloud's stack runs into -------------------------------------------------------


def test_a_bucket_name_in_use_fails_the_stack_and_the_bucket_is_left_alone(client: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    # A rolled-back create keeps a Retain bucket, as on AWS ...
    resources = {
        "Vpc": vpc("c1"),
        "Bucket": bucket("cloudplane-data-c1", "c1"),
        "BadSubnet": {**subnet("c1", "10.99.0.0/24", "us-east-1a"), "DependsOn": "Bucket"},
    }
    cfn.create_stack(StackName="first", TemplateBody=template(resources))
    assert stack(cfn, "first")["StackStatus"] == "ROLLBACK_COMPLETE"
    skipped = [e for e in events(cfn, "first") if e["LogicalResourceId"] == "Bucket"]
    assert skipped[-1]["ResourceStatus"] == "DELETE_SKIPPED"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["cloudplane-data-c1"]
    s3.put_object(Bucket="cloudplane-data-c1", Key="keep.txt", Body=b"data")

    # ... so a new stack that makes a bucket of that name fails it with AWS's "already exists".
    cfn.create_stack(
        StackName="second", TemplateBody=template({"Bucket": bucket("cloudplane-data-c1", "c1")})
    )
    assert stack(cfn, "second")["StackStatus"] == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in events(cfn, "second") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Bucket"
    assert '"cloudplane-data-c1 already exists"' in failed["ResourceStatusReason"]
    assert "AlreadyExists" in failed["ResourceStatusReason"]
    # The rollback never touches a bucket the stack did not make.
    assert s3.get_object(Bucket="cloudplane-data-c1", Key="keep.txt")["Body"].read() == b"data"

    # CreateBucket itself: outside us-east-1 an owner's second create is BucketAlreadyOwnedByYou.
    west = client("s3", region_name="us-west-2")
    west.create_bucket(Bucket="west-c1", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    with pytest.raises(ClientError) as error:
        west.create_bucket(Bucket="west-c1", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert error.value.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"


def _role_stack() -> str:
    return template(
        {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "cross-account-c1",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "ManagedPolicyArns": [
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
                        }
                    ],
                    "Policies": [
                        {
                            "PolicyName": "declared",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
                                ],
                            },
                        }
                    ],
                },
            }
        }
    )


DRIFTS_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)


@pytest.mark.parametrize("added", ["inline", "managed"])
def test_a_role_with_a_policy_added_outside_the_stack_fails_to_delete(client: Any, added: str) -> None:
    cfn, iam = client("cloudformation"), client("iam")
    cfn.create_stack(StackName="roles", TemplateBody=_role_stack(), Capabilities=["CAPABILITY_NAMED_IAM"])
    assert stack(cfn, "roles")["StackStatus"] == "CREATE_COMPLETE"
    if added == "inline":
        iam.put_role_policy(
            RoleName="cross-account-c1", PolicyName="Customer_Drifts_Policy", PolicyDocument=DRIFTS_POLICY
        )
        message = "Cannot delete entity, must delete policies first."
    else:
        arn = iam.create_policy(PolicyName="extra", PolicyDocument=DRIFTS_POLICY)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="cross-account-c1", PolicyArn=arn)
        message = "Cannot delete entity, must detach all policies first."

    cfn.delete_stack(StackName="roles")
    failed = stack(cfn, "roles")
    assert failed["StackStatus"] == "DELETE_FAILED"
    assert "[Role]" in failed["StackStatusReason"] and "DeleteConflict" in failed["StackStatusReason"]
    (event,) = [
        e
        for e in events(cfn, "roles")
        if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] == "Role"
    ]
    assert message in event["ResourceStatusReason"]
    # The stack's own policies went; the one added outside it is still there.
    inline = iam.list_role_policies(RoleName="cross-account-c1")["PolicyNames"]
    attached = [
        p["PolicyName"]
        for p in iam.list_attached_role_policies(RoleName="cross-account-c1")["AttachedPolicies"]
    ]
    assert (inline, attached) == ((["Customer_Drifts_Policy"], []) if added == "inline" else ([], ["extra"]))

    if added == "inline":
        iam.delete_role_policy(RoleName="cross-account-c1", PolicyName="Customer_Drifts_Policy")
    else:
        iam.detach_role_policy(RoleName="cross-account-c1", PolicyArn=arn)
    cfn.delete_stack(StackName="roles")
    assert cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert "cross-account-c1" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def _memorydb_stack(cluster: dict[str, Any]) -> str:
    return template(
        {
            "Vpc": vpc("c1"),
            "Subnet0": subnet("c1", "10.0.0.0/20", ZONES[0]),
            "Subnet1": subnet("c1", "10.0.16.0/20", ZONES[1]),
            "Group": {
                "Type": "AWS::MemoryDB::ParameterGroup",
                "Properties": {"ParameterGroupName": "pg-c1", "Family": "memorydb_redis7"},
            },
            "Subnets": {
                "Type": "AWS::MemoryDB::SubnetGroup",
                "Properties": {"SubnetGroupName": "sg-c1", "SubnetIds": [ref("Subnet0"), ref("Subnet1")]},
            },
            "Cluster": {
                "Type": "AWS::MemoryDB::Cluster",
                "Properties": {
                    "ClusterName": "mdb-c1",
                    "NodeType": "db.t4g.small",
                    "ACLName": "open-access",
                    "ParameterGroupName": ref("Group"),
                    "SubnetGroupName": ref("Subnets"),
                    **cluster,
                },
            },
        }
    )


@pytest.mark.parametrize(
    ("cluster", "default", "outcome"),
    [
        ({"Engine": "redis", "EngineVersion": "7.1"}, "", "CREATE_COMPLETE"),
        ({}, "", "CREATE_COMPLETE"),  # today's default engine fits the redis7 family
        ({"Engine": "valkey", "EngineVersion": "7.2"}, "", "InvalidParameterCombinationException"),
        ({"Engine": "redis", "EngineVersion": "6.2"}, "", "InvalidParameterCombinationException"),
        ({}, "valkey 7.2", "InvalidParameterCombinationException"),  # AWS's default moved
        ({"Engine": "redis", "EngineVersion": "7.1"}, "valkey 7.2", "CREATE_COMPLETE"),
        ({"Engine": "redis", "EngineVersion": "9.0"}, "", "InvalidParameterValueException"),
    ],
)
def test_memorydb_cluster_refuses_a_parameter_group_of_another_family(
    client: Any, monkeypatch: pytest.MonkeyPatch, cluster: dict[str, Any], default: str, outcome: str
) -> None:
    from cloudplane.sandbox import cfn_types

    cfn = client("cloudformation")
    if default:
        monkeypatch.setenv(cfn_types.ENV_MEMORYDB_DEFAULT_ENGINE, default)
    cfn.create_stack(StackName="mdb", TemplateBody=_memorydb_stack(cluster))
    status = stack(cfn, "mdb")["StackStatus"]
    if outcome == "CREATE_COMPLETE":
        assert status == outcome
        (described,) = client("memorydb").describe_clusters(ClusterName="mdb-c1")["Clusters"]
        assert described["EngineVersion"] == cluster.get("EngineVersion", "7.1")
        assert described["ParameterGroupName"] == "pg-c1"
    else:
        assert status == "ROLLBACK_COMPLETE"
        (failed,) = [e for e in events(cfn, "mdb") if e["ResourceStatus"] == "CREATE_FAILED"]
        assert failed["LogicalResourceId"] == "Cluster" and outcome in failed["ResourceStatusReason"]
    cfn.delete_stack(StackName="mdb")
    _nothing_left(client)


def test_an_update_leaves_policies_added_outside_the_stack(client: Any) -> None:
    """CloudFormation removes only what the previous template declared; a customer's own policies stay."""
    cfn, iam = client("cloudformation"), client("iam")
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}

    def role(policies: list[str], managed: list[str]) -> dict[str, Any]:
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "drifted",
                "AssumeRolePolicyDocument": trust,
                "Policies": [{"PolicyName": name, "PolicyDocument": allow_all} for name in policies],
                "ManagedPolicyArns": managed,
            },
        }

    readonly = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    outside = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
    cfn.create_stack(StackName="drift", TemplateBody=template({"Role": role(["Old", "Kept"], [readonly])}))
    iam.put_role_policy(RoleName="drifted", PolicyName="Customer_Drifts_Policy", PolicyDocument=json.dumps(allow_all))
    iam.attach_role_policy(RoleName="drifted", PolicyArn=outside)

    cfn.update_stack(StackName="drift", TemplateBody=template({"Role": role(["Kept", "New"], [])}))
    assert stack(cfn, "drift")["StackStatus"] == "UPDATE_COMPLETE"
    assert sorted(iam.list_role_policies(RoleName="drifted")["PolicyNames"]) == [
        "Customer_Drifts_Policy",
        "Kept",
        "New",
    ]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="drifted")["AttachedPolicies"]]
    assert attached == [outside]
    iam.delete_role_policy(RoleName="drifted", PolicyName="Customer_Drifts_Policy")
    iam.detach_role_policy(RoleName="drifted", PolicyArn=outside)
    cfn.delete_stack(StackName="drift")
