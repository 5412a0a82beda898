from __future__ import annotations

import pytest

from cloudplane.aws.regions import check_region_name
from cloudplane.errors import InputError


@pytest.mark.parametrize("region", ["us-west-2", "eu-central-1", "ap-southeast-1", "me-central-1"])
def test_commercial_regions_are_accepted(region: str) -> None:
    assert check_region_name(region) == region


@pytest.mark.parametrize(
    ("region", "words"),
    [
        ("cn-north-1", "aws-cn partition"),
        ("cn-northwest-1", "aws-cn partition"),
        ("us-gov-west-1", "aws-us-gov partition"),
        ("us-wset-2", "did you mean us-west-2"),
        ("xy-east-9", "unknown region"),
        ("US-WEST-2", "expected a name like us-west-2"),
        ("", "expected a name like us-west-2"),
    ],
)
def test_other_regions_are_refused_with_a_reason(region: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        check_region_name(region)
