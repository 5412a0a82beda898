"""The tag-scoped steady-state policy (templates with --cloud-id), evaluated per request as AWS does.

`iam_eval` matches actions and resources but leaves conditions unevaluated (the verifier has no request);
here each request brings its context, and the few operators the policy uses are evaluated. RunInstances is
authorised resource by resource: every resource the request names or creates must be allowed.
"""

from __future__ import annotations

from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.naming import TAG_KEY
from cloudplane.verify.iam_eval import Statement, glob_match, statements_of

CLOUD_ID = "cld_abcdefghij0123456789"
OTHER_CLOUD = "cld_zzzzzzzzzz0123456789"
ACCOUNT = "123456789012"
REGION = "us-west-2"

Context = dict[str, Any]


def _arn(kind: str, name: str) -> str:
    owner = "" if kind in ("image", "snapshot") else ACCOUNT
    return f"arn:aws:ec2:{REGION}:{owner}:{kind}/{name}"


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    wanted = _values(expected)
    present = context.get(key)
    if operator.startswith("ForAnyValue:"):
        base = operator.split(":", 1)[1]
        return present is not None and any(_holds(base, key, wanted, {key: v}) for v in _values(present))
    if operator == "StringEquals":
        return present is not None and any(v in wanted for v in _values(present))
    if operator == "StringNotEquals":  # a missing key is "not equal", as on AWS
        return present is None or not any(v in wanted for v in _values(present))
    if operator == "StringLike":
        return present is not None and any(glob_match(w, v) for w in wanted for v in _values(present))
    raise AssertionError(f"operator {operator} not evaluated by this test")


def _conditions_hold(statement: Statement, context: Context) -> bool:
    return all(
        _holds(operator, key, expected, context)
        for operator, keys in statement.condition.items()
        for key, expected in keys.items()
    )


def allowed(statements: list[Statement], action: str, resource: str, context: Context) -> bool:
    """AWS's decision for one resource of one request: an explicit Deny wins, then any Allow."""
    allow = False
    for statement in statements:
        if not statement.matches_action(action) or not _conditions_hold(statement, context):
            continue
        if statement.effect == "Deny" and statement.denies_resource(resource)[0]:
            return False
        if statement.effect == "Allow" and statement.covers_resource(resource):
            allow = True
    return allow


def run_instances_allowed(statements: list[Statement], request: list[tuple[str, Context]]) -> bool:
    return all(allowed(statements, "ec2:RunInstances", arn, context) for arn, context in request)


@pytest.fixture(scope="module")
def scoped() -> list[Statement]:
    return statements_of(policies.document(policies.steady_state_statements(CLOUD_ID)), "steady state")


def tagged(cloud_id: str) -> Context:
    """The context of a resource that carries the cloud's tag (ResourceTag) or is created with it (RequestTag)."""
    return {f"aws:ResourceTag/{TAG_KEY}": cloud_id}


def created_with_tag(cloud_id: str | None) -> Context:
    if cloud_id is None:
        return {}
    return {f"aws:RequestTag/{TAG_KEY}": cloud_id, "aws:TagKeys": [TAG_KEY]}


@pytest.mark.parametrize("action", ["ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"])
def test_existing_instances_are_scoped_by_their_own_tag(scoped: list[Statement], action: str) -> None:
    instance = _arn("instance", "i-0123456789abcdef0")
    # StartInstances carries no request tags: only the instance's own tag can allow it.
    assert allowed(scoped, action, instance, tagged(CLOUD_ID))
    assert not allowed(scoped, action, instance, {})
    assert not allowed(scoped, action, instance, tagged(OTHER_CLOUD))


def _launch(instance_tag: str | None, volume_tag: str | None, *extra: str) -> list[tuple[str, Context]]:
    """What one RunInstances request is authorised on: what it creates (instance, volume, interface) and
    what it uses (image, subnet, security group, key pair, and the extras)."""
    request = [
        (_arn("instance", "*"), created_with_tag(instance_tag)),
        (_arn("volume", "*"), created_with_tag(volume_tag)),
        (_arn("network-interface", "*"), {}),
        (_arn("image", "ami-0123456789abcdef0"), {}),
        (_arn("subnet", "subnet-0123"), {}),
        (_arn("security-group", "sg-0123"), {}),
        (_arn("key-pair", "ray"), {}),
    ]
    return request + [(arn, {}) for arn in extra]


EXTRAS = {
    "launch template": _arn("launch-template", "lt-0123456789abcdef0"),
    "placement group": _arn("placement-group", "ray-cluster"),
    "capacity reservation": _arn("capacity-reservation", "cr-0123456789abcdef0"),
    "spot request (InstanceMarketOptions)": _arn("spot-instances-request", "sir-01234567"),
    "snapshot": _arn("snapshot", "snap-0123456789abcdef0"),
}


@pytest.mark.parametrize("extra", list(EXTRAS), ids=list(EXTRAS))
def test_launches_with_each_kind_of_resource_are_allowed_when_tagged(
    scoped: list[Statement], extra: str
) -> None:
    assert run_instances_allowed(scoped, _launch(CLOUD_ID, CLOUD_ID, EXTRAS[extra]))


def test_a_launch_needs_the_cloud_tag_on_the_instance(scoped: list[Statement]) -> None:
    every_extra = list(EXTRAS.values())
    assert run_instances_allowed(scoped, _launch(CLOUD_ID, CLOUD_ID, *every_extra))
    assert not run_instances_allowed(scoped, _launch(None, CLOUD_ID, *every_extra))
    assert not run_instances_allowed(scoped, _launch(OTHER_CLOUD, CLOUD_ID, *every_extra))


def test_tagging_is_denied_on_other_clouds_instances_but_not_at_launch(scoped: list[Statement]) -> None:
    instance = _arn("instance", "i-0123456789abcdef0")
    assert allowed(scoped, "ec2:CreateTags", instance, tagged(CLOUD_ID))
    assert not allowed(scoped, "ec2:CreateTags", instance, tagged(OTHER_CLOUD))
    launching = {**created_with_tag(CLOUD_ID), "ec2:CreateAction": "RunInstances"}
    assert allowed(scoped, "ec2:CreateTags", _arn("instance", "*"), launching)


def test_unscoped_policy_allows_everything_the_scoped_one_does(scoped: list[Statement]) -> None:
    unscoped = statements_of(policies.document(policies.steady_state_statements()), "steady state")
    instance = _arn("instance", "i-0123456789abcdef0")
    for action in ("ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"):
        assert allowed(unscoped, action, instance, {})
    assert run_instances_allowed(unscoped, _launch(None, None, *EXTRAS.values()))
