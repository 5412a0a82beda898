"""Which zones MemoryDB runs in, matched by zone ID, and when a region is refused."""

from __future__ import annotations

import pytest

from cloudplane.aws import memorydb_zones
from cloudplane.aws.memorydb_zones import capable_zones, is_supported, require_capable_zones
from cloudplane.errors import InputError

# us-east-1 as two accounts may see it: names map to different physical zones, IDs do not.
ONE_ACCOUNT = [{"name": "us-east-1a", "id": "use1-az6"}, {"name": "us-east-1b", "id": "use1-az1"}]
OTHER_ACCOUNT = [{"name": "us-east-1a", "id": "use1-az1"}, {"name": "us-east-1b", "id": "use1-az6"}]


def test_zones_are_matched_by_id_not_by_name() -> None:
    assert capable_zones("us-east-1", ONE_ACCOUNT) == [ONE_ACCOUNT[0]]
    assert capable_zones("us-east-1", OTHER_ACCOUNT) == [OTHER_ACCOUNT[1]]
    assert is_supported("us-west-2", "usw2-az3") and not is_supported("us-west-2", "usw2-az4")


def test_the_table_covers_every_region_with_two_zones_or_more() -> None:
    table = memorydb_zones.SUPPORTED_ZONE_IDS
    assert len(table) == 20
    assert all(len(ids) >= memorydb_zones.MIN_ZONES for ids in table.values())
    for region, ids in table.items():
        # A zone ID starts with the region's short form, the same for all of its zones.
        assert len({zone_id.split("-az")[0] for zone_id in ids}) == 1, region
    assert table["cn-northwest-1"] == {"cnnw1-az1", "cnnw1-az2", "cnnw1-az3"}


def test_two_capable_zones_are_enough() -> None:
    zones = [
        {"name": "us-west-1a", "id": "usw1-az3"},
        {"name": "us-west-1b", "id": "usw1-az1"},
    ]
    assert require_capable_zones("us-west-1", zones) == zones


@pytest.mark.parametrize(
    ("zones", "words"),
    [
        (
            ONE_ACCOUNT,
            "supports only 1 of the 2 availability zones of us-east-1 in this account (us-east-1a = use1-az6)",
        ),
        (
            [{"name": "us-east-1e", "id": "use1-az3"}] * 3,
            "supports only 0 of the 3 availability zones of us-east-1 in this account (none of them)",
        ),
    ],
)
def test_fewer_than_two_is_one_clear_line(zones: list[dict[str, str]], words: str) -> None:
    with pytest.raises(InputError) as error:
        require_capable_zones("us-east-1", zones)
    message = str(error.value)
    assert words in message and "needs two" in message and "\n" not in message
    assert error.value.exit_code == 2


def test_an_unknown_region_takes_every_zone_and_says_so() -> None:
    zones = [{"name": "af-south-1a", "id": "afs1-az1"}, {"name": "af-south-1b", "id": "afs1-az2"}]
    heard: list[str] = []
    assert memorydb_zones.supported_zone_ids("af-south-1") is None
    assert require_capable_zones("af-south-1", zones, heard.append) == zones
    (line,) = heard
    assert "does not know which availability zones MemoryDB supports in af-south-1" in line
    # Known regions are quiet.
    require_capable_zones(
        "us-west-1", [{"name": "a", "id": "usw1-az1"}, {"name": "b", "id": "usw1-az3"}], heard.append
    )
    assert len(heard) == 1


def test_an_unknown_region_with_one_zone_is_refused_for_its_zones() -> None:
    with pytest.raises(InputError, match="region af-south-1 has 1 availability zone"):
        require_capable_zones("af-south-1", [{"name": "af-south-1a", "id": "afs1-az1"}])
