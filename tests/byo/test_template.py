"""The customer-defined template as data: cfn-lint clean in every variant, and shaped as the rules need."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from cloudplane.aws import policies
from cloudplane.aws.byo_network import private_plan
from cloudplane.aws.byo_template import CustomerDefinedOptions, customer_defined_template, new_external_id
from cloudplane.naming import TAG_KEY

CLOUD_ID = "cld_abcdefghij0123456789"
PRINCIPAL = "arn:aws:iam::123456789012:root"


# us-west-2's zones by ID; MemoryDB runs in the first three.
US_WEST_2 = ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4")


def build(cloud_id: str | None = None, zone_count: int | None = None, **options: Any) -> dict[str, Any]:
    """A template for us-west-2: three zones, or with MemoryDB all four of its zones (MemoryDB in three)."""
    memorydb = options.get("head_node_fault_tolerance", False)
    zone_ids = US_WEST_2[: zone_count or (4 if memorydb else 3)]
    if memorydb:
        options = {"memorydb_zone_ids": US_WEST_2[:3], **options}
    return customer_defined_template(
        CustomerDefinedOptions("cloudplane-byo-0123", PRINCIPAL, "us-west-2", zone_ids, cloud_id, **options)
    )


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


NETWORKS = [
    pytest.param({}, id="public"),
    pytest.param({"private_network": True, "nat_gateways": "per-az"}, id="private-per-az"),
]


@pytest.mark.parametrize("cloud_id", [None, CLOUD_ID], ids=["no-cloud-id", "cloud-id"])
@pytest.mark.parametrize("memorydb", [False, True], ids=["no-memorydb", "memorydb"])
@pytest.mark.parametrize("efs", [True, False], ids=["efs", "no-efs"])
@pytest.mark.parametrize("network", NETWORKS)
def test_every_variant_is_cfn_lint_clean(
    network: dict[str, Any], efs: bool, memorydb: bool, cloud_id: str | None
) -> None:
    template = build(cloud_id, efs=efs, head_node_fault_tolerance=memorydb, **network)
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-west-2"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize("cloud_id", [None, CLOUD_ID])
@pytest.mark.parametrize("memorydb", [False, True])
@pytest.mark.parametrize("efs", [True, False])
def test_single_nat_variant_differs_from_the_linted_per_az_one_only_in_a_default(
    efs: bool, memorydb: bool, cloud_id: str | None
) -> None:
    """Both NAT layouts are in every private template (a condition picks one), so linting the per-az
    variant lints the single one too."""
    options = {"private_network": True, "efs": efs, "head_node_fault_tolerance": memorydb}
    single = build(cloud_id, nat_gateways="single", **options)
    per_az = build(cloud_id, nat_gateways="per-az", **options)
    assert single["Parameters"].pop("NatGateways")["Default"] == "single"
    assert per_az["Parameters"].pop("NatGateways")["Default"] == "per-az"
    assert single == per_az


def test_every_subnet_names_its_zone_by_id_never_by_getazs() -> None:
    template = build(private_network=True, zone_count=4)
    subnets = of_type(template, "AWS::EC2::Subnet")
    assert [subnets[f"Subnet{i}"]["Properties"]["AvailabilityZoneId"] for i in range(4)] == list(US_WEST_2)
    assert [subnets[f"NatSubnet{i}"]["Properties"]["AvailabilityZoneId"] for i in range(4)] == list(US_WEST_2)
    assert not any("AvailabilityZone" in s["Properties"] for s in subnets.values())
    assert "Fn::GetAZs" not in json.dumps(template)


def test_public_subnets_get_public_ips_and_the_internet_gateway() -> None:
    template = build()
    subnets = of_type(template, "AWS::EC2::Subnet")
    assert sorted(subnets) == ["Subnet0", "Subnet1", "Subnet2"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is True for s in subnets.values())
    assert template["Resources"]["DefaultRoute"]["Properties"]["GatewayId"] == {"Ref": "InternetGateway"}
    assert not of_type(template, "AWS::EC2::NatGateway")
    assert "NatGateways" not in template["Parameters"]


def test_private_subnets_route_to_nat_gateways_in_small_public_subnets() -> None:
    template = build(private_network=True, nat_gateways="single")
    resources = template["Resources"]
    assert template["Parameters"]["NatGateways"]["Default"] == "single"
    assert template["Conditions"]["PerAzNatGateways"] == {"Fn::Equals": [{"Ref": "NatGateways"}, "per-az"]}
    for index in range(3):
        assert resources[f"Subnet{index}"]["Properties"]["MapPublicIpOnLaunch"] is False
        assert resources[f"NatSubnet{index}"]["Properties"]["CidrBlock"].endswith("/26")
        route = resources[f"PrivateDefaultRoute{index}"]["Properties"]
        assert route["RouteTableId"] == {"Ref": f"PrivateRouteTable{index}"}
        assert "GatewayId" not in route
    # The first NAT gateway always exists; the others only with per-az.
    assert "Condition" not in resources["NatGateway0"]
    assert resources["NatGateway2"]["Condition"] == "PerAzNatGateways"
    assert resources["PrivateDefaultRoute2"]["Properties"]["NatGatewayId"] == {
        "Fn::If": ["PerAzNatGateways", {"Ref": "NatGateway2"}, {"Ref": "NatGateway0"}]
    }
    endpoint_tables = resources["S3GatewayEndpoint"]["Properties"]["RouteTableIds"]
    assert {"Ref": "PrivateRouteTable1"} in endpoint_tables


def test_private_address_plan_keeps_cluster_and_nat_subnets_apart() -> None:
    cluster, nat = private_plan(3)
    assert cluster == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    assert nat == ["10.0.192.0/26", "10.0.192.64/26", "10.0.192.128/26"]
    cluster, nat = private_plan(6)
    assert len(cluster) == len(nat) == 6 and all(c.endswith("/19") for c in cluster)


def test_trust_requires_the_external_id_from_the_start() -> None:
    role = build()["Resources"]["ControlPlaneRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": PRINCIPAL}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "cloudplane-byo-0123"}}


def test_a_cloud_id_tags_everything_and_scopes_instance_actions() -> None:
    before, after = build(), build(CLOUD_ID)
    assert set(before["Resources"]) == set(after["Resources"])  # an update replaces nothing
    for key in ("RoleName", "BucketName", "GroupName", "GroupDescription"):
        for logical_id, resource in before["Resources"].items():
            if key in resource["Properties"]:
                assert after["Resources"][logical_id]["Properties"][key] == resource["Properties"][key]
    for logical_id, resource in after["Resources"].items():
        tags = resource["Properties"].get("Tags") or resource["Properties"].get("FileSystemTags")
        if tags is not None:
            assert {"Key": TAG_KEY, "Value": CLOUD_ID} in tags, logical_id
    assert not any(
        t["Key"] == TAG_KEY for r in before["Resources"].values() for t in r["Properties"].get("Tags", [])
    )
    policies_by_name = {
        p["PolicyName"]: p["PolicyDocument"]
        for p in after["Resources"]["ControlPlaneRole"]["Properties"]["Policies"]
    }
    sids = [s["Sid"] for s in policies_by_name[policies.STEADY_STATE_POLICY_NAME]["Statement"]]
    assert "StartInstances" not in sids and "StopInstances" not in sids
    assert {"DenyTaggingOnOtherInstances", "RestrictedInstanceStop", "RestrictedInstanceStart"} <= set(sids)
    assert after["Rules"]["CloudRegion"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-west-2"]
    }
    assert after["Outputs"]["CloudId"]["Value"] == CLOUD_ID


def test_tag_scoped_statements_follow_the_seed() -> None:
    deny, stop, restart, start, untagged = policies.tag_scoped_statements(CLOUD_ID)
    assert deny["Effect"] == "Deny" and deny["Resource"] == "arn:aws:ec2:*:*:instance/*"
    assert deny["Condition"]["StringNotEquals"] == {
        f"aws:ResourceTag/{TAG_KEY}": CLOUD_ID,
        "ec2:CreateAction": ["RunInstances", "StartInstances"],
    }
    assert stop["Condition"] == {"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": CLOUD_ID}}
    # StartInstances carries no request tags: it is scoped by the instance's own tag, like Stop.
    assert restart["Action"] == ["ec2:StartInstances"] and restart["Condition"] == stop["Condition"]
    assert start["Action"] == ["ec2:RunInstances"]
    assert start["Condition"]["StringEquals"] == {f"aws:RequestTag/{TAG_KEY}": CLOUD_ID}
    assert start["Condition"]["ForAnyValue:StringEquals"] == {"aws:TagKeys": [TAG_KEY]}
    assert untagged["Action"] == ["ec2:RunInstances"]
    assert set(untagged["Resource"]) >= {"arn:aws:ec2:*::image/*", "arn:aws:ec2:*:*:key-pair/*"}
    # Callers that pass nothing (the verifier) see the unrestricted statements, as before.
    assert [s["Sid"] for s in policies.steady_state_statements()][4:6] == ["StartInstances", "StopInstances"]


def test_register_command_lists_what_the_variant_has() -> None:
    def command(**options: Any) -> str:
        text, _ = build(**options)["Outputs"]["RegisterCommand"]["Value"]["Fn::Sub"]
        return text

    public = command()
    assert public.startswith(
        "cloudplane cloud register --provider aws --name ${Name} --region ${AWS::Region}"
    )
    assert "--efs-id ${FileSystem}" in public and "--private-network" not in public
    assert public.endswith("--external-id cloudplane-byo-0123")
    private = command(private_network=True, efs=False, head_node_fault_tolerance=True)
    assert "--efs-id" not in private
    assert "--memorydb-cluster-id ${MemoryDbCluster}" in private and "--private-network" in private


def test_new_external_ids_are_fresh_and_acceptable_to_aws() -> None:
    first, second = new_external_id(), new_external_id()
    assert first != second and first.startswith("cloudplane-byo-")
    CustomerDefinedOptions(first, PRINCIPAL, "us-west-2", US_WEST_2[:3]).validate()


@pytest.mark.parametrize("network", NETWORKS)
def test_memorydb_names_zones_by_id_and_its_subnet_group_takes_only_memorydb_zones(
    network: dict[str, Any],
) -> None:
    template = build(head_node_fault_tolerance=True, **network)
    resources = template["Resources"]
    subnets = [resources[f"Subnet{i}"]["Properties"] for i in range(4)]
    assert [s["AvailabilityZoneId"] for s in subnets] == list(US_WEST_2)
    assert not any(
        "AvailabilityZone" in r["Properties"] for r in of_type(template, "AWS::EC2::Subnet").values()
    )
    if network:  # the NAT subnets sit in the same zones as the cluster subnets
        assert [resources[f"NatSubnet{i}"]["Properties"]["AvailabilityZoneId"] for i in range(4)] == list(
            US_WEST_2
        )
    group = resources["MemoryDbSubnetGroup"]["Properties"]["SubnetIds"]
    assert group == [{"Ref": "Subnet0"}, {"Ref": "Subnet1"}, {"Ref": "Subnet2"}]  # not usw2-az4
    assert len(of_type(template, "AWS::EFS::MountTarget")) == 4
    assert template["Rules"]["CloudRegion"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-west-2"]
    }


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"region": ""}, "the template needs its region"),
        ({"zone_ids": US_WEST_2[:1]}, "2 to 6 zone IDs are needed"),
        ({"zone_ids": ("usw2-az1", "usw2-az1")}, "zone IDs must be distinct"),
        ({"zone_ids": ("us-west-2a", "us-west-2b")}, "shaped like usw2-az1"),
        (
            {
                "head_node_fault_tolerance": True,
                "zone_ids": US_WEST_2[2:],
                "memorydb_zone_ids": US_WEST_2[2:3],
            },
            "MemoryDB needs two of the zones",
        ),
    ],
)
def test_zone_options_that_make_no_sense_are_refused(options: dict[str, Any], words: str) -> None:
    values = {"region": "us-west-2", "zone_ids": US_WEST_2[:3], **options}
    with pytest.raises(ValueError, match=words):
        CustomerDefinedOptions("cloudplane-byo-0123", PRINCIPAL, **values).validate()
