"""IAM policy documents as data: what the cross-account role and the instance role are given.

The verifier checks roles against these same documents, so a change here changes both sides.
"""

from __future__ import annotations

from typing import Any

from cloudplane.naming import TAG_KEY

POLICY_VERSION = "2012-10-17"

STEADY_STATE_POLICY_NAME = "Cloudplane_Steady_State"
SERVICE_STEADY_STATE_POLICY_NAME = "Cloudplane_Service_Steady_State"
INITIAL_SETUP_POLICY_NAME = "Cloudplane_Initial_Setup"

# Default origin of the web console that reads logs straight from the bucket.
CONSOLE_ORIGIN = "https://*.cloudplane.dev"
CORS_METHODS = ("GET", "PUT", "POST", "HEAD", "DELETE")

Statement = dict[str, Any]

# The role Elastic Load Balancing creates in an account the first time it is used there.
LOAD_BALANCING_SERVICE_LINKED_ROLE = "arn:aws:iam::*:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
SPOT_SERVICE_LINKED_ROLE = "arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"
INSTANCE_BUCKET_POLICY_NAME = "Cloudplane_Bucket_Access"


def _allow(sid: str, actions: list[str], resource: str | list[str] = "*", **extra: Any) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
    statement.update(extra)
    return statement


def document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}


def steady_state_statements(cloud_id: str | None = None) -> list[Statement]:
    """What the control plane needs to run clusters: instances, volumes, spot, tags, mount targets.

    With a cloud id, starting, stopping and tagging instances is limited to those tagged with it: the
    unrestricted StartInstances/StopInstances statements give way to `tag_scoped_statements(cloud_id)`.
    """
    statements = _steady_state_statements()
    if cloud_id is None:
        return statements
    scoped: list[Statement] = []
    for statement in statements:
        if statement["Sid"] == "StartInstances":
            scoped.extend(tag_scoped_statements(cloud_id))
        elif statement["Sid"] != "StopInstances":
            scoped.append(statement)
    return scoped


# What a RunInstances request may use or create without a tag of its own: only the instance has to carry
# the cloud's tag. Each resource the request names or creates is authorised on its own, so a launch template,
# placement group, capacity reservation or spot request (InstanceMarketOptions) left out of this list makes the
# whole launch fail. Volumes and network interfaces are created by the launch but not necessarily tagged.
UNTAGGED_RUN_INSTANCES_RESOURCES = (
    "arn:aws:ec2:*::image/*",
    "arn:aws:ec2:*::snapshot/*",
    "arn:aws:ec2:*:*:subnet/*",
    "arn:aws:ec2:*:*:network-interface/*",
    "arn:aws:ec2:*:*:security-group/*",
    "arn:aws:ec2:*:*:key-pair/*",
    "arn:aws:ec2:*:*:volume/*",
    "arn:aws:ec2:*:*:launch-template/*",
    "arn:aws:ec2:*:*:placement-group/*",
    "arn:aws:ec2:*:*:capacity-reservation/*",
    "arn:aws:ec2:*:*:spot-instances-request/*",
)
INSTANCES = "arn:aws:ec2:*:*:instance/*"


def tag_scoped_statements(cloud_id: str) -> list[Statement]:
    """Instance actions limited to instances tagged `cloudplane-cloud-id=<cloud_id>`.

    Starting, stopping and terminating act on existing instances, so they are scoped by the instance's own
    tag (`aws:ResourceTag`); StartInstances carries no request tags, so a `aws:RequestTag` condition could
    never allow it. Launching (RunInstances) creates the instance, so it must carry the tag in the request.
    """
    resource_tag = f"aws:ResourceTag/{TAG_KEY}"
    return [
        {
            "Sid": "DenyTaggingOnOtherInstances",
            "Effect": "Deny",
            "Action": ["ec2:DeleteTags", "ec2:CreateTags"],
            "Resource": INSTANCES,
            # Both keys must differ: tagging an instance while launching it is allowed.
            "Condition": {
                "StringNotEquals": {
                    resource_tag: cloud_id,
                    "ec2:CreateAction": ["RunInstances", "StartInstances"],
                }
            },
        },
        _allow(
            "RestrictedInstanceStop",
            ["ec2:TerminateInstances", "ec2:StopInstances"],
            INSTANCES,
            Condition={"StringEquals": {resource_tag: cloud_id}},
        ),
        _allow(
            "RestrictedInstanceRestart",
            ["ec2:StartInstances"],
            INSTANCES,
            Condition={"StringEquals": {resource_tag: cloud_id}},
        ),
        _allow(
            "RestrictedInstanceStart",
            ["ec2:RunInstances"],
            INSTANCES,
            Condition={
                "StringEquals": {f"aws:RequestTag/{TAG_KEY}": cloud_id},
                "ForAnyValue:StringEquals": {"aws:TagKeys": [TAG_KEY]},
            },
        ),
        _allow(
            "AllowRunInstancesForUntaggedResources",
            ["ec2:RunInstances"],
            list(UNTAGGED_RUN_INSTANCES_RESOURCES),
        ),
    ]


def _steady_state_statements() -> list[Statement]:
    return [
        _allow("PassInstanceRole", ["iam:PassRole", "iam:GetInstanceProfile"]),
        _allow(
            "DescribeRegionInfo",
            [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeRegions",
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeImages",
            ],
        ),
        _allow(
            "DescribeClusterResources",
            [
                "ec2:DescribeInstances",
                "ec2:DescribeSubnets",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups",
                # A node's console: where functional verification reads its start-up check's result.
                "ec2:GetConsoleOutput",
            ],
        ),
        _allow("TagInstances", ["ec2:CreateTags", "ec2:DeleteTags"]),
        _allow("StartInstances", ["ec2:RunInstances", "ec2:StartInstances"]),
        _allow("StopInstances", ["ec2:StopInstances", "ec2:TerminateInstances"]),
        _allow(
            "SpotInstances",
            [
                "ec2:CancelSpotInstanceRequests",
                "ec2:ModifyImageAttribute",
                "ec2:ModifyInstanceAttribute",
                "ec2:RequestSpotInstances",
            ],
        ),
        _allow(
            "VolumesProfilesAddresses",
            [
                "ec2:AttachVolume",
                "ec2:CreateVolume",
                "ec2:DescribeVolumes",
                "ec2:AssociateIamInstanceProfile",
                "ec2:DisassociateIamInstanceProfile",
                "ec2:ReplaceIamInstanceProfileAssociation",
                "ec2:CreatePlacementGroup",
                "ec2:AllocateAddress",
                "ec2:ReleaseAddress",
                "ec2:DescribeIamInstanceProfileAssociations",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribePlacementGroups",
                "ec2:DescribePrefixLists",
                "ec2:DescribeReservedInstancesOfferings",
                "ec2:DescribeSpotInstanceRequests",
                "ec2:DescribeSpotPriceHistory",
            ],
        ),
        _allow("DescribeMountTargets", ["elasticfilesystem:DescribeMountTargets"]),
        _allow("DescribeMemoryDB", ["memorydb:DescribeClusters"]),
        _allow(
            "SpotServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            SPOT_SERVICE_LINKED_ROLE,
            Condition={"StringLike": {"iam:AWSServiceName": "spot.amazonaws.com"}},
        ),
        # Apart from the statement above: iam:AWSServiceName exists only for CreateServiceLinkedRole, so under
        # that condition PutRolePolicy would never be allowed.
        _allow("SpotServiceLinkedRolePolicy", ["iam:PutRolePolicy"], SPOT_SERVICE_LINKED_ROLE),
    ]


def service_steady_state_statements() -> list[Statement]:
    """What services need: load balancers, certificates and the stacks that hold them."""
    return [
        _allow(
            "ServiceStacks",
            [
                "cloudformation:TagResource",
                "cloudformation:UntagResource",
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResources",
                "cloudformation:DescribeStacks",
                "cloudformation:GetTemplate",
            ],
        ),
        _allow(
            "DescribeLoadBalancing",
            [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeTags",
            ],
        ),
        _allow("DescribeNetwork", ["ec2:DescribeVpcs", "ec2:DescribeInternetGateways"]),
        _allow(
            "ListenerCertificates",
            [
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
            ],
        ),
        _allow("ListCertificates", ["acm:ListCertificates"]),
        # A cloud's load-balancer stacks and certificates are found by its tag, not by listing the account.
        _allow("FindTaggedResources", ["tag:GetResources"]),
        _allow(
            "ManageCertificates",
            [
                "acm:DeleteCertificate",
                "acm:ImportCertificate",
                "acm:RenewCertificate",
                "acm:RequestCertificate",
                "acm:AddTagsToCertificate",
                "acm:DescribeCertificate",
                "acm:GetCertificate",
                "acm:ListTagsForCertificate",
            ],
        ),
        _allow(
            "ManageLoadBalancers",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:SetRulePriorities",
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
            ],
            # Load balancers are built and removed only as CloudFormation stacks, never directly.
            Condition={"StringEquals": {"aws:CalledViaFirst": "cloudformation.amazonaws.com"}},
        ),
        _allow(
            "LoadBalancingServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            Condition={"StringLike": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        _allow(
            "LoadBalancingServiceLinkedRolePolicies",
            [
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "iam:UpdateRoleDescription",
                "iam:DeleteServiceLinkedRole",
                "iam:GetServiceLinkedRoleDeletionStatus",
            ],
            LOAD_BALANCING_SERVICE_LINKED_ROLE,
        ),
    ]


def initial_setup_statements() -> list[Statement]:
    """Networking set-up and clean-up, kept in its own policy so it can be removed after set-up."""
    return [
        _allow(
            "SetupNetwork",
            [
                "ec2:CreateSecurityGroup",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:DescribeVpcs",
                "ec2:CreateVpc",
                "ec2:ModifyVpcAttribute",
                "ec2:CreateVpcEndpoint",
                "ec2:CreateSubnet",
                "ec2:ModifySubnetAttribute",
                "ec2:CreateInternetGateway",
                "ec2:AttachInternetGateway",
                "ec2:DescribeInternetGateways",
                "ec2:CreateRouteTable",
                "ec2:AssociateRouteTable",
                "ec2:CreateRoute",
                "ec2:ReplaceRoute",
                "ec2:CreateNatGateway",
                "ec2:DescribeNatGateways",
            ],
        ),
        _allow(
            "CleanupNetwork",
            [
                "ec2:DeleteSecurityGroup",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:DeleteVpc",
                "ec2:DeleteVpcEndpoints",
                "ec2:DeleteSubnet",
                "ec2:DeleteInternetGateway",
                "ec2:DetachInternetGateway",
                "ec2:DeleteRouteTable",
                "ec2:DisassociateRouteTable",
                "ec2:DeleteRoute",
                "ec2:DeleteNatGateway",
            ],
        ),
    ]


def controlplane_inline_policies(cloud_id: str | None = None) -> dict[str, dict[str, Any]]:
    """The three inline policies of the cross-account role, by name; a cloud id scopes instance actions."""
    return {
        STEADY_STATE_POLICY_NAME: document(steady_state_statements(cloud_id)),
        SERVICE_STEADY_STATE_POLICY_NAME: document(service_steady_state_statements()),
        INITIAL_SETUP_POLICY_NAME: document(initial_setup_statements()),
    }


def required_actions(statements: list[Statement]) -> list[str]:
    """Every action the statements allow, in order, without repeats."""
    seen: dict[str, None] = {}
    for statement in statements:
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            seen.setdefault(action, None)
    return list(seen)


def controlplane_trust_policy(principal_arn: str, external_id: str) -> dict[str, Any]:
    """Trust the control plane's principal, but only with this cloud's External ID."""
    return document(
        [
            {
                "Sid": "ControlPlaneAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ]
    )


def instance_trust_policy() -> dict[str, Any]:
    return document(
        [
            {
                "Sid": "Ec2AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


BUCKET_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def instance_policies(bucket: str) -> dict[str, dict[str, Any]]:
    """The instance role's inline policy, by name, for the cloud's bucket (its name)."""
    return {INSTANCE_BUCKET_POLICY_NAME: document(instance_bucket_statements(f"arn:aws:s3:::{bucket}"))}


def instance_bucket_statements(bucket_arn: Any) -> list[Statement]:
    """Read/write on the cloud's bucket. `bucket_arn` may be a CloudFormation expression."""
    objects = (
        {"Fn::Sub": ["${Arn}/*", {"Arn": bucket_arn}]} if isinstance(bucket_arn, dict) else f"{bucket_arn}/*"
    )
    return [
        _allow("ListCloudBucket", ["s3:ListBucket"], bucket_arn),
        _allow("ReadWriteCloudBucket", list(BUCKET_OBJECT_ACTIONS), objects),
    ]
