"""The least IAM policy each `cloudplane cloud` command needs of the identity that runs it, as data.

What a command calls with the caller's own credentials is allowed here, nothing more: what the control plane
does through the cloud's cross-account role is the role's business (`policies`), and sts:GetCallerIdentity
needs no permission on AWS. `cloud setup` and `cloud delete` build and remove the stack's resources through
CloudFormation, which acts with the caller's permissions, so their policies hold the resource handlers'
actions for every type the managed template declares (`handler_permissions`).

`cloud policy --for COMMAND` prints these documents and docs/iam-policies.md is generated from them; tests
run each command in the sandbox as a user holding exactly its policy and compare what was checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cloudplane.aws.policies import Statement, document

ANY_ROLE = "arn:aws:iam::*:role/*"
# The roles a managed cloud's stack makes: cloudplane-<cloud id>-controlplane|instance.
CLOUDPLANE_ROLES = "arn:aws:iam::*:role/cloudplane-*"
# A managed cloud's bucket: cloudplane-data-<cloud id>.
CLOUDPLANE_BUCKETS = "arn:aws:s3:::cloudplane-*"
CLOUDPLANE_OBJECTS = "arn:aws:s3:::cloudplane-*/*"


def _allow(sid: str, actions: list[str], resource: str | list[str] = "*") -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


# -- the verification's reads ----------------------------------------------------------------------------
# Every rule reads with the caller's credentials; a read it may not make leaves its rule "not checked".

NETWORK_READS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeRouteTables",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeNetworkInterfaces",
]
# Private networking: NAT gateways routing the subnets, and Elastic IPs left for more of them (QUOTA-3).
PRIVATE_NETWORK_READS = ["ec2:DescribeNatGateways", "ec2:DescribeAddresses"]
ROLE_READS = [
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetInstanceProfile",
]
BUCKET_READS = [
    "s3:GetBucketLocation",
    "s3:GetBucketCORS",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:GetBucketPolicy",
    "s3:GetEncryptionConfiguration",
    # Only when the bucket's own block leaves a flag open: the account's block may still close it (S3-4).
    "s3:GetAccountPublicAccessBlock",
]
FILE_SYSTEM_READS = [
    "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeMountTargets",
    "elasticfilesystem:DescribeBackupPolicy",
    # Only for a mount target whose network interface EC2 does not show.
    "elasticfilesystem:DescribeMountTargetSecurityGroups",
]
MEMORYDB_READS = ["memorydb:DescribeClusters", "memorydb:DescribeSubnetGroups", "memorydb:DescribeParameters"]
QUOTA_READS = ["servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota"]
STACK_READS = ["cloudformation:DescribeStacks", "cloudformation:ListStackResources"]


# Reads only a resource changed since the template made it calls for.
AFTER_CHANGES = frozenset(
    {"s3:GetAccountPublicAccessBlock", "elasticfilesystem:DescribeMountTargetSecurityGroups"}
)


def verification_statements(
    *, managed: bool, customer_defined: bool, just_built: bool = False
) -> list[Statement]:
    """The reads of `cloud verify` for clouds of the given kinds, and assuming the cloud's role (IAM-11).
    `just_built`: the cloud's stack was made a moment ago (setup), so reads for hand-made changes drop out."""

    def reads(actions: list[str]) -> list[str]:
        return [a for a in actions if not (just_built and a in AFTER_CHANGES)]

    network = NETWORK_READS + (PRIVATE_NETWORK_READS if customer_defined else [])
    statements = [
        _allow("VerifyNetwork", network),
        _allow("VerifyRoles", ROLE_READS),
        _allow("VerifyBucket", reads(BUCKET_READS)),
        _allow("VerifyFileSystem", reads(FILE_SYSTEM_READS)),
        _allow("VerifyMemoryDB", MEMORYDB_READS),
        _allow("VerifyQuotas", QUOTA_READS),
    ]
    if customer_defined:
        # A customer's bucket may be encrypted with their own KMS key, whose policy must let the roles use it.
        statements.insert(3, _allow("VerifyBucketKey", ["kms:GetKeyPolicy"]))
    if managed:
        statements.append(_allow("VerifyStack", STACK_READS))
    # IAM-11 proves that the control plane can act: the caller assumes the role with the cloud's External ID.
    statements.append(_allow("AssumeCloudRole", ["sts:AssumeRole"], ANY_ROLE))
    return statements


# -- CloudFormation's resource handlers --------------------------------------------------------------------
# What CloudFormation calls with the caller's permissions for the stack's resources (`handler_permissions`),
# one statement per service. The sandbox checks them against any resource, as AWS's handlers act on resources
# they name only once made: these statements act on "*".
_HANDLER_SIDS = {
    "ec2": "Network",
    "s3": "Bucket",
    "iam": "Roles",
    "elasticfilesystem": "FileSystem",
    "memorydb": "MemoryDB",
    "kms": "Keys",
    "s3tables": "BucketTables",
    "vpc-lattice": "ServiceNetwork",
    "vpce": "Endpoints",
}


def _handler_statements(prefix: str, operations: tuple[str, ...]) -> list[Statement]:
    from cloudplane.aws.handler_permissions import stack_actions

    by_service: dict[str, set[str]] = {}
    for operation in operations:
        for action in stack_actions(operation):
            by_service.setdefault(action.split(":")[0], set()).add(action)
    return [
        _allow(f"{prefix}{_HANDLER_SIDS.get(service, service.title())}", sorted(actions))
        for service, actions in sorted(by_service.items())
    ]


def _without_repeats(statements: list[Statement]) -> list[Statement]:
    """Drop from each statement the actions an earlier statement already allows on "*"; drop it if empty."""
    everywhere: set[str] = set()
    kept: list[Statement] = []
    for statement in statements:
        actions = [a for a in statement["Action"] if a not in everywhere]
        if not actions:
            continue
        kept.append({**statement, "Action": actions})
        if statement["Resource"] == "*":
            everywhere.update(actions)
    return kept


# -- the commands ------------------------------------------------------------------------------------------

# An opt-in region's status is read before anything is built there (not asked for default regions).
REGION_STATUS = ["ec2:DescribeRegions"]


def setup_statements() -> list[Statement]:
    return _without_repeats(
        [
            _allow("CheckRegionAndZones", ["ec2:DescribeAvailabilityZones", *REGION_STATUS]),
            _allow(
                "Stack",
                [
                    "cloudformation:CreateStack",
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:ListStackResources",
                    # A stack that rolled back is deleted (a failed setup), with the empty bucket it kept.
                    "cloudformation:DeleteStack",
                ],
            ),
            # CloudFormation creates the resources, and deletes them again when a failed create rolls back.
            *_handler_statements("StackResources", ("create", "delete")),
            _allow(
                "CleanUpFailedStackBucket",
                ["s3:GetBucketTagging", "s3:ListBucketVersions", "s3:DeleteBucket"],
                CLOUDPLANE_BUCKETS,
            ),
            *verification_statements(managed=True, customer_defined=False, just_built=True),
        ]
    )


def register_statements() -> list[Statement]:
    return [
        _allow("CheckRegion", REGION_STATUS),
        # The cloud's External ID is added to the role's trust policy, or with --add-trust a statement of
        # cloudplane's own (and put back if registering fails).
        _allow("RequireExternalId", ["iam:UpdateAssumeRolePolicy"], ANY_ROLE),
        # --from-stack: the stack whose resources are adopted (left as it is).
        _allow("ReadSourceStack", STACK_READS),
        *verification_statements(managed=False, customer_defined=True),
    ]


def verify_statements() -> list[Statement]:
    return verification_statements(managed=True, customer_defined=True)


def edit_statements() -> list[Statement]:
    return verification_statements(managed=False, customer_defined=True)


def delete_statements() -> list[Statement]:
    return _without_repeats(
        [
            _allow(
                "Stack",
                [
                    "cloudformation:DescribeStacks",
                    "cloudformation:ListStackResources",
                    "cloudformation:GetTemplate",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStackEvents",
                ],
            ),
            # CloudFormation deletes the resources with the caller's permissions.
            *_handler_statements("StackResources", ("delete",)),
            # Policies added to the stack's roles outside the stack would fail their delete: removed first.
            _allow(
                "RemovePoliciesAddedOutsideTheStack",
                [
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                ],
                CLOUDPLANE_ROLES,
            ),
            # Whether the kept bucket is still there; with --delete-bucket, every object version and the bucket.
            _allow(
                "KeptBucket",
                ["s3:ListBucket", "s3:ListBucketVersions", "s3:DeleteBucket"],
                CLOUDPLANE_BUCKETS,
            ),
            _allow("DeleteBucketObjects", ["s3:DeleteObjectVersion"], CLOUDPLANE_OBJECTS),
            # The cloud's instances and load balancers are found and removed through its role ...
            _allow("AssumeCloudRole", ["sts:AssumeRole"], ANY_ROLE),
            # ... and with the caller's credentials when the role cannot be used (deleted, or no longer trusting).
            _allow(
                "WithoutTheCloudRole", ["ec2:DescribeInstances", "tag:GetResources", "acm:DeleteCertificate"]
            ),
            # A customer-defined cloud registered with --add-trust: the trust statement cloudplane added to its
            # role is read and, unless --keep-trust, removed (every other statement stays).
            _allow("RemoveAddedTrustStatement", ["iam:GetRole", "iam:UpdateAssumeRolePolicy"], ANY_ROLE),
        ]
    )


def update_statements() -> list[Statement]:
    return _without_repeats(
        [
            # With --enable-head-node-fault-tolerance: which of the cloud's zones MemoryDB runs in.
            _allow("CheckZones", ["ec2:DescribeAvailabilityZones"]),
            _allow(
                "Stack",
                [
                    "cloudformation:DescribeStacks",
                    "cloudformation:GetTemplate",
                    "cloudformation:ListStackResources",
                    "cloudformation:CreateChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:ExecuteChangeSet",
                    # A change set not applied (the question declined, or a step before it failed) is removed.
                    "cloudformation:DeleteChangeSet",
                    "cloudformation:DescribeStackEvents",
                ],
            ),
            # CloudFormation adds, changes and removes resources with your permissions, and undoes them the
            # same way when an update rolls back.
            *_handler_statements("StackResources", ("create", "update", "delete")),
            # The role's policies are read to find your own statements, which are kept in
            # Customer_Drifts_Policy; a managed policy CloudFormation does not rewrite is written directly.
            _allow(
                "KeepYourStatements",
                ["iam:ListRolePolicies", "iam:GetRolePolicy", "iam:PutRolePolicy"],
                CLOUDPLANE_ROLES,
            ),
            *verification_statements(managed=True, customer_defined=False),
        ]
    )


def template_statements() -> list[Statement]:
    return [
        # Zones by ID for the subnets; with --cloud-id, the zones of the cloud's subnets.
        _allow("ChooseZones", ["ec2:DescribeAvailabilityZones", "ec2:DescribeSubnets"]),
        # Room for the template's VPC, gateway and, with --private-network, its NAT gateways and addresses.
        _allow(
            "CheckQuotas",
            [
                "ec2:DescribeVpcs",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeAddresses",
                "ec2:DescribeNatGateways",
                *QUOTA_READS,
            ],
        ),
    ]


# Each command's policy: the CLI's `--for` choices, the docs page's sections and the tests follow this table.
STATEMENTS: dict[str, Callable[[], list[Statement]]] = {
    "setup": setup_statements,
    "register": register_statements,
    "verify": verify_statements,
    "edit": edit_statements,
    "update": update_statements,
    "delete": delete_statements,
    "template": template_statements,
}
COMMANDS = tuple(STATEMENTS)

# One sentence per command for the docs page: what it does with the caller's credentials.
ABOUT: dict[str, str] = {
    "setup": "Creates the cloud's stack (CloudFormation builds each resource with your permissions), follows "
    "it, removes a stack that rolled back, then verifies the cloud.",
    "register": "Adds the cloud's External ID to the cross-account role's trust policy (with --add-trust, a "
    "statement of its own beside the others) and verifies your resources.",
    "verify": "Reads every resource the rules check (managed and customer-defined clouds) and assumes the "
    "cloud's role once (IAM-11).",
    "edit": "Verifies a customer-defined cloud as it will be after the edit.",
    "update": "Reads the managed cloud's stack and its role's policies, keeps your own statements in "
    "Customer_Drifts_Policy, applies the changes through a change set (CloudFormation changes each resource "
    "with your permissions, and rolls them back the same way), then verifies the cloud.",
    "delete": "Deletes a managed cloud's stack (CloudFormation removes each resource with your permissions) "
    "and, with --delete-bucket, its bucket; the cloud's instances and load balancers are looked up through "
    "its role, or with your credentials when the role cannot be used. For a customer-defined cloud registered "
    "with --add-trust, it removes the trust statement register added, unless --keep-trust.",
    "template": "Reads the region's zones (and, with --cloud-id, the zones of the cloud's subnets) and its "
    "quotas to write the template; it creates nothing.",
}


def command_statements(command: str) -> list[Statement]:
    try:
        return STATEMENTS[command]()
    except KeyError:
        raise ValueError(f"no policy for command {command!r}; known: {', '.join(COMMANDS)}") from None


def command_policy(command: str) -> dict[str, Any]:
    """The policy document for `cloudplane cloud COMMAND`, ready for `aws iam put-user-policy`."""
    return document(command_statements(command))


# IAM's limit on a managed policy's size, in characters other than white space.
MANAGED_POLICY_LIMIT = 6144


def policy_size(document: dict[str, Any]) -> int:
    return len("".join(json.dumps(document).split()))


def command_policy_parts(command: str, limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """The command's policy as managed policies of at most `limit` characters each (one when it fits): the
    statements in order, a statement too long for one part split by its actions (`<Sid>2`, `<Sid>3`, ...)."""
    whole = command_policy(command)
    if policy_size(whole) <= limit:
        return [whole]
    parts: list[list[Statement]] = [[]]
    for statement in command_statements(command):
        for piece in _pieces(statement, limit):
            if parts[-1] and policy_size(document([*parts[-1], piece])) > limit:
                parts.append([])
            parts[-1].append(piece)
    return [document(part) for part in parts]


def _pieces(statement: Statement, limit: int) -> list[Statement]:
    """The statement, or its actions spread over numbered copies each of which fits a part on its own."""
    if policy_size(document([statement])) <= limit:
        return [statement]
    pieces: list[Statement] = []
    for action in statement["Action"]:
        if (
            pieces
            and policy_size(document([{**pieces[-1], "Action": [*pieces[-1]["Action"], action]}])) <= limit
        ):
            pieces[-1]["Action"].append(action)
            continue
        sid = statement["Sid"] + (str(len(pieces) + 1) if pieces else "")
        pieces.append({**statement, "Sid": sid, "Action": [action]})
    return pieces


def command_actions(command: str) -> list[str]:
    """Every action the command's policy allows, in order, without repeats."""
    seen: dict[str, None] = {}
    for statement in command_statements(command):
        for action in statement["Action"]:
            seen.setdefault(action, None)
    return list(seen)
