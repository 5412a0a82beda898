"""The policy evaluator on plain documents: wildcards, NotAction/NotResource, Deny, conditions, principals."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from cloudplane.aws import policies
from cloudplane.verify.iam_eval import (
    PolicySet,
    Statement,
    glob_match,
    parse_document,
    principal_matches,
    statements_of,
)

BUCKET = "arn:aws:s3:::logs-bucket"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def policy_set(*statements: dict[str, Any]) -> PolicySet:
    return PolicySet(statements_of({"Version": "2012-10-17", "Statement": list(statements)}, "test"))


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("ec2:*", "ec2:RunInstances", True),
        ("EC2:runinstances", "ec2:RunInstances", True),
        ("ec2:Describe*", "ec2:DescribeSubnets", True),
        ("ec2:Describe*", "ec2:RunInstances", False),
        ("*", "iam:PassRole", True),
        ("s3:*Object", "s3:GetObject", True),
        ("s3:*Object", "s3:GetObjectAcl", False),
        ("ec2:Run?nstances", "ec2:RunInstances", True),
        ("ec2:Run[I]nstances", "ec2:RunInstances", False),  # brackets are literal in IAM
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert policy_set(allow(pattern)).decide(action).allowed is expected


def test_resource_matching_is_case_sensitive() -> None:
    assert glob_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/x")
    assert not glob_match("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x")


def test_resource_wildcards_and_scoping() -> None:
    scoped = policy_set(allow("s3:GetObject", f"{BUCKET}/*"), allow("s3:ListBucket", BUCKET))
    assert scoped.decide("s3:GetObject", f"{BUCKET}/*").allowed
    assert scoped.decide("s3:ListBucket", BUCKET).allowed
    assert not scoped.decide("s3:ListBucket", f"{BUCKET}/*").allowed
    assert not scoped.decide("s3:GetObject", "arn:aws:s3:::other/*").allowed
    # A grant on part of the bucket does not cover every object.
    narrow = policy_set(allow("s3:GetObject", f"{BUCKET}/logs/*"))
    assert not narrow.decide("s3:GetObject", f"{BUCKET}/*").allowed
    wide = policy_set(allow("s3:*", "arn:aws:s3:::logs-*"))
    assert wide.decide("s3:GetObject", f"{BUCKET}/*").allowed


def test_any_resource_requirement() -> None:
    # "None" asks whether the action is granted on some resource (a resource-scoped grant counts).
    scoped = policy_set(allow("ec2:RunInstances", "arn:aws:ec2:*:*:subnet/subnet-1"))
    assert scoped.decide("ec2:RunInstances", None).allowed


def test_explicit_deny_wins_over_wildcard_allow() -> None:
    policy = policy_set(allow("*"), deny("ec2:RunInstances"))
    decision = policy.decide("ec2:RunInstances")
    assert not decision.allowed
    assert decision.denied_by[0].effect == "Deny"
    assert policy.decide("ec2:StartInstances").allowed


def test_deny_with_wildcard_action() -> None:
    policy = policy_set(allow("ec2:*"), deny("ec2:Terminate*"))
    assert not policy.decide("ec2:TerminateInstances").allowed
    assert policy.decide("ec2:StopInstances").allowed


def test_narrow_deny_is_partial_for_any_resource_and_whole_for_a_covered_one() -> None:
    policy = policy_set(
        allow("ec2:TerminateInstances"), deny("ec2:TerminateInstances", "arn:aws:ec2:*:*:instance/i-1")
    )
    anywhere = policy.decide("ec2:TerminateInstances", None)
    assert anywhere.allowed and anywhere.partially_denied_by
    assert not policy.decide("ec2:TerminateInstances", "arn:aws:ec2:us-west-2:1:instance/i-1").allowed


def test_not_action_and_not_resource() -> None:
    policy = policy_set({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert policy.decide("ec2:RunInstances").allowed
    assert not policy.decide("iam:PassRole").allowed
    except_bucket = policy_set(
        allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, f"{BUCKET}/*"]}
    )
    assert except_bucket.decide("s3:GetObject", f"{BUCKET}/*").allowed
    assert not except_bucket.decide("s3:GetObject", "arn:aws:s3:::other/*").allowed


def test_conditional_allow_counts_but_is_reported() -> None:
    condition = {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    decision = policy_set(allow("ec2:RunInstances", Condition=condition)).decide("ec2:RunInstances")
    assert decision.allowed
    assert [s.condition for s in decision.conditional] == [condition]


def test_unconditional_allow_hides_conditional_one() -> None:
    condition = {"Bool": {"aws:SecureTransport": "true"}}
    decision = policy_set(allow("ec2:*", Condition=condition), allow("ec2:RunInstances")).decide(
        "ec2:RunInstances"
    )
    assert decision.allowed and not decision.conditional


def test_conditional_deny_does_not_deny_but_is_reported() -> None:
    condition = {"StringNotEquals": {"aws:RequestedRegion": "us-west-2"}}
    decision = policy_set(allow("*"), deny("ec2:*", Condition=condition)).decide("ec2:RunInstances")
    assert decision.allowed and decision.conditional[0].effect == "Deny"


def test_expected_condition_is_not_reported() -> None:
    [required] = [s for s in policies.steady_state_statements() if s["Sid"] == "SpotServiceLinkedRole"]
    decision = PolicySet(statements_of(policies.document([required]), "x")).decide(
        "iam:CreateServiceLinkedRole", required["Resource"], required["Condition"]
    )
    assert decision.allowed and not decision.conditional


def test_steady_state_policy_allows_itself() -> None:
    policy = PolicySet(statements_of(policies.document(policies.steady_state_statements()), "x"))
    for action in policies.required_actions(policies.steady_state_statements()):
        assert policy.decide(action).allowed, action


def test_no_statement_means_implicit_deny() -> None:
    decision = policy_set(allow("s3:GetObject")).decide("ec2:RunInstances")
    assert not decision.allowed and not decision.denied_by and not decision.granted_by


@pytest.mark.parametrize(
    "raw",
    [
        {"Statement": [allow("ec2:*")]},
        json.dumps({"Statement": [allow("ec2:*")]}),
        quote(json.dumps({"Statement": [allow("ec2:*")]})),
        repr({"Statement": [allow("ec2:*")]}),
        json.dumps({"Statement": allow("ec2:*")}),  # a single statement, not a list
    ],
    ids=["dict", "json", "url-encoded", "python-repr", "single-statement"],
)
def test_document_forms(raw: Any) -> None:
    assert PolicySet(statements_of(raw, "x")).decide("ec2:RunInstances").allowed


def test_parse_document_rejects_garbage() -> None:
    with pytest.raises((ValueError, SyntaxError)):
        parse_document("not a policy")


@pytest.mark.parametrize(
    ("pattern", "principal", "expected"),
    [
        ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root", True),
        ("123456789012", "arn:aws:iam::123456789012:root", True),
        ("arn:aws:iam::123456789012:root", "123456789012", True),
        ("*", "arn:aws:iam::123456789012:root", True),
        ("arn:aws:iam::999999999999:root", "arn:aws:iam::123456789012:root", False),
        ("arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:root", False),
    ],
)
def test_principal_matching(pattern: str, principal: str, expected: bool) -> None:
    assert principal_matches(pattern, principal) is expected


def test_statement_principal_forms() -> None:
    role = "arn:aws:iam::123456789012:role/inst"
    named = Statement.parse({"Effect": "Allow", "Principal": {"AWS": [role]}, "Action": "s3:*"}, "b")
    anyone = Statement.parse({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}, "b")
    service = Statement.parse({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}, "t")
    not_principal = Statement.parse({"Effect": "Deny", "NotPrincipal": {"AWS": role}, "Action": "s3:*"}, "b")
    assert named.names_principal(role) and anyone.names_principal(role)
    assert not service.names_principal(role) and service.names_service("ec2.amazonaws.com")
    assert not not_principal.names_principal(role)
    assert not_principal.names_principal("arn:aws:iam::123456789012:role/other")
