"""What `cloud update` keeps of a customer's edits to the role's managed policies, and what it puts back."""

from __future__ import annotations

import copy
from typing import Any

from cloudplane.clouds.policy_drift import find_drift, merged_customer_policy

BASE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": ["ec2:DescribeVpcs", "ec2:DescribeSubnets"],
            "Resource": "*",
        },
        {
            "Sid": "Tagged",
            "Effect": "Allow",
            "Action": "ec2:TerminateInstances",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/cloud": "x"}},
        },
    ],
}


def _drift(edit: Any) -> Any:
    live = copy.deepcopy(BASE)
    edit(live["Statement"])
    return find_drift({"P": live}, {"P": BASE})


def test_an_unchanged_policy_has_no_drift() -> None:
    drift = find_drift({"P": copy.deepcopy(BASE)}, {"P": BASE})
    assert not drift.changed and merged_customer_policy(None, drift) is None


def test_an_added_statement_and_an_added_deny_are_kept() -> None:
    drift = _drift(
        lambda s: s.extend(
            [
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
                {"Sid": "NoDelete", "Effect": "Deny", "Action": "ec2:DeleteVpc", "Resource": "*"},
            ]
        )
    )
    assert [s.get("Sid") for _, s in drift.kept] == [None, "NoDelete"]
    assert drift.restored == []
    merged = merged_customer_policy(None, drift)
    assert merged is not None
    assert [s["Sid"] for s in merged["Statement"]] == ["Drifted", "NoDeleteDrifted"]


def test_a_widened_statement_is_kept_whole_and_not_reported_as_put_back() -> None:
    def widen(statements: list[dict[str, Any]]) -> None:
        statements[0]["Action"] = "ec2:Describe*"
        del statements[1]["Condition"]

    drift = _drift(widen)
    assert [s["Sid"] for _, s in drift.kept] == ["Describe", "Tagged"]
    assert drift.restored == []


def test_a_narrowed_or_removed_statement_is_put_back_not_kept() -> None:
    def narrow(statements: list[dict[str, Any]]) -> None:
        statements[0]["Action"] = ["ec2:DescribeVpcs"]
        statements[1]["Condition"]["StringEquals"]["ec2:Region"] = "us-west-2"

    drift = _drift(narrow)
    assert drift.kept == []
    assert drift.restored == [("P", "statement Describe"), ("P", "statement Tagged")]
    assert find_drift({"P": None}, {"P": BASE}).restored == [("P", "the whole policy, which was deleted")]


def test_kept_statements_are_added_once_with_free_sids() -> None:
    drift = _drift(
        lambda s: s.append({"Sid": "Mine", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*"})
    )
    first = merged_customer_policy(None, drift)
    assert first is not None and [s["Sid"] for s in first["Statement"]] == ["MineDrifted"]
    assert merged_customer_policy(first, drift) is None  # already there: nothing to write
    other = _drift(
        lambda s: s.append({"Sid": "Mine", "Effect": "Allow", "Action": "sns:List*", "Resource": "*"})
    )
    second = merged_customer_policy(first, other)
    assert second is not None and [s["Sid"] for s in second["Statement"]] == ["MineDrifted", "MineDrifted2"]
