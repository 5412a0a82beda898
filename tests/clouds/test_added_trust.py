"""Which trust statements count as trusting cloudplane's principal (no AWS: the documents alone)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudplane.clouds.added_trust import statement_sid, trusted_principals, trusts

ROOT = "arn:aws:iam::123456789012:root"
ROLE = "arn:aws:iam::123456789012:role/cloudplane-server"


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, action: str = "sts:AssumeRole", effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action}


@pytest.mark.parametrize(
    ("statement", "principal", "expected"),
    [
        (allow({"AWS": ROOT}), ROOT, True),
        (allow({"AWS": "123456789012"}), ROOT, True),  # an account id is its root
        (allow({"AWS": ["arn:aws:iam::525325868955:root", ROOT]}), ROOT, True),
        (allow({"AWS": "*"}), ROLE, True),
        (allow({"AWS": ROLE}, action="sts:*"), ROLE, True),
        (allow({"AWS": ROOT}), ROLE, False),  # the account root does not name a role of it (IAM-2 neither)
        (allow({"AWS": "arn:aws:iam::525325868955:root"}), ROOT, False),
        (allow({"AWS": ROOT}, effect="Deny"), ROOT, False),
        (allow({"AWS": ROOT}, action="sts:TagSession"), ROOT, False),
        (allow({"Service": "ec2.amazonaws.com"}), ROOT, False),
    ],
)
def test_trusts(statement: dict[str, Any], principal: str, expected: bool) -> None:
    assert trusts(trust(statement), principal) is expected


def test_trusted_principals_lists_each_aws_principal_allowed_to_assume_once() -> None:
    document = trust(
        allow({"AWS": "arn:aws:iam::525325868955:root"}),
        allow({"AWS": ["arn:aws:iam::525325868955:root", ROLE]}),
        allow({"Service": "ec2.amazonaws.com"}),
        allow({"AWS": ROOT}, effect="Deny"),
    )
    assert trusted_principals(document) == ["arn:aws:iam::525325868955:root", ROLE]


def test_the_sid_is_letters_and_digits() -> None:
    assert statement_sid("cld_0123456789abcdefghij") == "CloudplaneAssume0123456789abcdefghij"
