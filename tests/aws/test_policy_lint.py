"""Every policy document cloudplane applies passes a real IAM policy linter (parliament): no unknown action,
no malformed ARN, no condition key that does not exist for its action. What it reports beyond that is
listed here, each with the reason it is meant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from cloudplane.aws import command_policies, policies

# Issues accepted wherever they occur, and (issue, the action it names) accepted for that action only.
ACCEPTED_ISSUES = {
    # The seed's policies act on "*" where AWS offers no narrower resource, or where the resources (instances,
    # volumes, stacks, load balancers) are made by the control plane and not known in advance.
    "RESOURCE_STAR",
}
ACCEPTED_FOR_ACTION = {
    # RunInstances is split in two statements (the instance carrying the cloud's tag, and the untagged
    # resources a launch uses), so each one alone lacks the other's resource types.
    ("RESOURCE_MISMATCH", "ec2:RunInstances"),
    # In the Deny on tagging other instances, ec2:CreateAction is absent for DeleteTags, so StringNotEquals
    # holds and the Deny applies: deleting tags of another cloud's instance is refused, as meant.
    ("UNKNOWN_CONDITION_FOR_ACTION", "ec2:DeleteTags"),
    # `cloud setup` and `cloud delete` hold what CloudFormation's resource handlers list in the registry's
    # schemas (handler_permissions), as the handlers may call them. These are newer than parliament's action
    # list (VPC encryption controls, S3 ABAC, S3 Tables encryption, VPC Lattice endpoint associations) ...
    ("UNKNOWN_ACTION", "ec2:CreateVpcEncryptionControl"),
    ("UNKNOWN_ACTION", "s3:PutBucketAbac"),
    ("UNKNOWN_ACTION", "s3tables:PutTableEncryption"),
    ("UNKNOWN_ACTION", "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation"),
    # ... and these are the S3::Bucket schema's own spellings, which IAM names s3:PutReplicationConfiguration
    # and s3:PutBucketObjectLockConfiguration (listed too): allowing a name IAM does not know grants nothing.
    ("UNKNOWN_ACTION", "s3:PutBucketReplication"),
    ("UNKNOWN_ACTION", "s3:PutObjectLockConfiguration"),
    # `cloud update` also holds the update handlers' lists. The S3::Bucket one names the S3 API calls that take
    # a setting away rather than their IAM actions (DeleteBucketCors is authorised by s3:PutBucketCORS, ...,
    # all in the policy too) ...
    ("UNKNOWN_ACTION", "s3:DeleteBucketAnalyticsConfiguration"),
    ("UNKNOWN_ACTION", "s3:DeleteBucketCors"),
    ("UNKNOWN_ACTION", "s3:DeleteBucketEncryption"),
    ("UNKNOWN_ACTION", "s3:DeleteBucketLifecycle"),
    ("UNKNOWN_ACTION", "s3:DeleteBucketMetricsConfiguration"),
    ("UNKNOWN_ACTION", "s3:DeleteBucketReplication"),
    # ... and S3 Metadata's table configurations, newer than parliament's list.
    ("UNKNOWN_ACTION", "s3:UpdateBucketMetadataAnnotationTableConfiguration"),
    ("UNKNOWN_ACTION", "s3:UpdateBucketMetadataInventoryTableConfiguration"),
    ("UNKNOWN_ACTION", "s3:UpdateBucketMetadataJournalTableConfiguration"),
}


def _documents() -> dict[str, dict[str, Any]]:
    documents = {f"{name} (any cloud)": doc for name, doc in policies.controlplane_inline_policies().items()}
    scoped = policies.controlplane_inline_policies("cld_abcdefghij0123456789")
    documents.update({f"{name} (one cloud)": doc for name, doc in scoped.items()})
    documents.update(policies.instance_policies("cloudplane-data-cld-abcdefghij0123456789"))
    documents.update({f"cloud {c}": command_policies.command_policy(c) for c in command_policies.COMMANDS})
    return documents


def _unexpected(document: dict[str, Any]) -> list[str]:
    found = []
    for finding in analyze_policy_string(json.dumps(document)).findings:
        detail = json.dumps(finding.detail)
        if finding.issue in ACCEPTED_ISSUES:
            continue
        if any(finding.issue == issue and action in detail for issue, action in ACCEPTED_FOR_ACTION):
            continue
        found.append(f"{finding.issue}: {detail}")
    return found


@pytest.mark.parametrize("name", list(_documents()))
def test_policy_passes_the_linter(name: str) -> None:
    assert _unexpected(_documents()[name]) == []


def test_the_linter_catches_what_it_is_here_for() -> None:
    broken = policies.document(
        [
            {"Effect": "Allow", "Action": ["ec2:RunInstance"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket"},
            {
                "Effect": "Allow",
                "Action": ["iam:PutRolePolicy"],
                "Resource": "*",
                "Condition": {"StringLike": {"iam:AWSServiceName": "spot.amazonaws.com"}},
            },
        ]
    )
    issues = {line.split(":")[0] for line in _unexpected(broken)}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH", "UNKNOWN_CONDITION_FOR_ACTION"} <= issues
