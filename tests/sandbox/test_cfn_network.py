"""Networking resources created through CloudFormation look as they would on AWS."""

from __future__ import annotations

from typing import Any

from .templates import TAG_KEY, getatt, outputs, ref, stack, subnet, tags, template, vpc


def _network_stack(cfn: Any) -> dict[str, str]:
    resources = {
        "Vpc": vpc("c1"),
        "Subnet0": subnet("c1", "10.0.0.0/20", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        "Subnet1": subnet("c1", "10.0.16.0/20", "us-east-1c"),
        "RouteTable": {
            "Type": "AWS::EC2::RouteTable",
            "Properties": {"VpcId": ref("Vpc"), "Tags": tags("c1")},
        },
        "Association0": {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": ref("Subnet0"), "RouteTableId": ref("RouteTable")},
        },
        "InternetGateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": tags("c1")}},
        "Attachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")},
        },
        "Endpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "VpcId": ref("Vpc"),
                "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
                "VpcEndpointType": "Gateway",
                "RouteTableIds": [ref("RouteTable")],
            },
        },
    }
    body = template(
        resources,
        {
            "VpcId": ref("Vpc"),
            "Subnet0": ref("Subnet0"),
            "Subnet0Zone": getatt("Subnet0", "AvailabilityZone"),
            "Subnet1Zone": getatt("Subnet1", "AvailabilityZone"),
            "RouteTable": ref("RouteTable"),
            "Igw": ref("InternetGateway"),
            "IgwId": getatt("InternetGateway", "InternetGatewayId"),
            "Endpoint": ref("Endpoint"),
        },
    )
    cfn.create_stack(StackName="net", TemplateBody=body)
    assert stack(cfn, "net")["StackStatus"] == "CREATE_COMPLETE"
    return outputs(cfn, "net")


def test_vpc_subnet_and_association_properties_take_effect(client: Any) -> None:
    ec2 = client("ec2")
    out = _network_stack(client("cloudformation"))

    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        answer = ec2.describe_vpc_attribute(VpcId=out["VpcId"], Attribute=attribute)
        assert answer[key]["Value"] is True
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [out["VpcId"]]}])["Subnets"]
    assert {s["MapPublicIpOnLaunch"] for s in subnets} == {True}
    # Fn::GetAZs "" answers the stack region's zones; GetAtt AvailabilityZone resolves.
    assert out["Subnet0Zone"] == "us-east-1a"
    assert out["Subnet1Zone"] == "us-east-1c"

    found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [out["Subnet0"]]}])
    assert [rt["RouteTableId"] for rt in found["RouteTables"]] == [out["RouteTable"]]
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[out["Igw"]])["InternetGateways"][0]
    assert igw["Attachments"][0]["VpcId"] == out["VpcId"]
    assert out["IgwId"] == out["Igw"]
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["Endpoint"]])["VpcEndpoints"][0]
    assert endpoint["RouteTableIds"] == [out["RouteTable"]]


def test_resource_tags_are_visible(client: Any) -> None:
    ec2 = client("ec2")
    out = _network_stack(client("cloudformation"))
    tagged = {
        item["ResourceId"]
        for item in ec2.describe_tags(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": ["c1"]}])["Tags"]
        if item["Key"] == TAG_KEY
    }
    assert {out["VpcId"], out["Subnet0"], out["RouteTable"], out["Igw"]} <= tagged


def test_getazs_follows_the_stack_region(client: Any) -> None:
    cfn = client("cloudformation", region_name="eu-west-1")
    resources = {
        "Vpc": vpc("c1"),
        "Subnet": subnet("c1", "10.0.0.0/20", {"Fn::Select": [2, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}),
    }
    cfn.create_stack(
        StackName="eu", TemplateBody=template(resources, {"Zone": getatt("Subnet", "AvailabilityZone")})
    )
    assert outputs(cfn, "eu")["Zone"] == "eu-west-1c"


def test_security_group_rules(client: Any) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    anywhere = "0.0.0.0/0"
    group_id = getatt("Group", "GroupId")
    resources = {
        "Vpc": vpc("c1"),
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "nodes",
                "VpcId": ref("Vpc"),
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": anywhere,
                        "Description": "HTTPS",
                    },
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": anywhere},
                ],
                "SecurityGroupEgress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": anywhere}
                ],
                "Tags": tags("c1"),
            },
        },
        "SelfIngress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": group_id, "IpProtocol": "-1", "SourceSecurityGroupId": group_id},
        },
        "SelfEgress": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {"GroupId": group_id, "IpProtocol": "-1", "DestinationSecurityGroupId": group_id},
        },
    }
    cfn.create_stack(
        StackName="sg",
        TemplateBody=template(resources, {"GroupId": group_id, "GroupVpc": getatt("Group", "VpcId")}),
    )
    out = outputs(cfn, "sg")
    group = ec2.describe_security_groups(GroupIds=[out["GroupId"]])["SecurityGroups"][0]
    assert out["GroupVpc"] == group["VpcId"]

    ingress = {(p["IpProtocol"], p.get("FromPort")) for p in group["IpPermissions"]}
    assert ingress == {("tcp", 443), ("tcp", 22), ("-1", None)}
    https = next(p for p in group["IpPermissions"] if p.get("FromPort") == 443)
    assert https["IpRanges"] == [{"CidrIp": anywhere, "Description": "HTTPS"}]
    # Declared egress replaced the default allow-all rule; the self-referencing egress is there.
    egress = group["IpPermissionsEgress"]
    assert [(p["IpProtocol"], p.get("FromPort")) for p in egress if p["IpRanges"]] == [("tcp", 443)]
    self_egress = [p for p in egress if p["UserIdGroupPairs"]]
    assert self_egress and self_egress[0]["IpProtocol"] == "-1"
    assert self_egress[0]["UserIdGroupPairs"][0]["GroupId"] == out["GroupId"]

    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName="sg")["StackResources"]
    }
    assert physical["SelfIngress"].startswith("sgr-") and physical["SelfEgress"].startswith("sgr-")

    cfn.delete_stack(StackName="sg")
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [out["GroupId"]]}])[
        "SecurityGroups"
    ]


def test_yaml_template_with_short_form_functions(client: Any) -> None:
    cfn = client("cloudformation")
    body = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.0.0/20
      AvailabilityZone: !Select [1, !GetAZs ""]
Outputs:
  Zone:
    Value: !GetAtt Subnet.AvailabilityZone
  Cidr:
    Value: {"Fn::GetAtt": "Vpc.CidrBlock"}
"""
    cfn.create_stack(StackName="yaml", TemplateBody=body)
    assert outputs(cfn, "yaml") == {"Zone": "us-east-1b", "Cidr": "10.0.0.0/16"}
