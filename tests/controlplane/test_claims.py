"""One command at a time on a cloud: claims through the client, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.clouds.claims import CloudClaim, holder_is_gone, new_owner
from cloudplane.errors import Conflict, InputError

ARGS = {"provider": "aws", "region": "us-west-2", "deployment": "managed", "networking": "public"}


def claim_body(owner: str, seconds: float = 60, operation: str = "setup") -> dict:
    return {"operation": operation, "owner": owner, "seconds": seconds}


def test_a_cloud_created_with_a_claim_is_held_until_released(client: ControlPlaneClient) -> None:
    cloud = client.create_cloud("held", **ARGS, claim=claim_body("host:1:a"))
    assert cloud["operation"]["name"] == "setup" and cloud["operation"]["owner"] == "host:1:a"
    with pytest.raises(Conflict, match="busy: another `setup` is running"):
        client.claim_cloud(cloud["id"], **claim_body("host:2:b", operation="delete"))
    # The holder renews its own claim; a release by someone else changes nothing.
    client.claim_cloud(cloud["id"], **claim_body("host:1:a"))
    assert client.release_cloud(cloud["id"], "host:2:b")["operation"]["owner"] == "host:1:a"
    assert client.release_cloud(cloud["id"], "host:1:a")["operation"] is None
    taken = client.claim_cloud(cloud["id"], **claim_body("host:2:b", operation="delete"))
    assert taken["operation"]["name"] == "delete"


def test_an_expired_claim_can_be_taken(client: ControlPlaneClient) -> None:
    cloud = client.create_cloud("brief", **ARGS, claim=claim_body("host:1:a", seconds=0.5))
    time.sleep(0.8)
    assert client.claim_cloud(cloud["id"], **claim_body("host:2:b"))["operation"]["owner"] == "host:2:b"


def test_a_claim_is_replaced_only_when_its_holder_is_named(client: ControlPlaneClient) -> None:
    cloud = client.create_cloud("stuck", **ARGS, claim=claim_body("host:1:a"))
    with pytest.raises(Conflict):
        client.claim_cloud(cloud["id"], **claim_body("host:2:b"), replace="host:9:z")
    replaced = client.claim_cloud(cloud["id"], **claim_body("host:2:b"), replace="host:1:a")
    assert replaced["operation"]["owner"] == "host:2:b"


@pytest.mark.parametrize(
    "body",
    [
        claim_body("host:1:a", operation="Setup!"),
        claim_body("", seconds=60),
        claim_body("host:1:a", seconds=0),
        claim_body("host:1:a", seconds=100_000),
        claim_body("line\nbreak"),
    ],
)
def test_bad_claims_are_refused(client: ControlPlaneClient, body: dict) -> None:
    cloud = client.create_cloud("plain", **ARGS)
    with pytest.raises(InputError):
        client.claim_cloud(cloud["id"], **body)


def test_a_killed_holder_on_this_machine_is_taken_over_at_once(client: ControlPlaneClient) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = new_owner().split(":")
    dead_owner = f"{owner[0]}:{child.pid}:{owner[2]}"
    cloud = client.create_cloud("orphan", **ARGS, claim=claim_body(dead_owner))
    assert not holder_is_gone(dead_owner)
    with pytest.raises(Conflict), CloudClaim(client, "setup") as claim:
        claim.take(cloud["id"])
    child.kill()
    child.wait()
    assert holder_is_gone(dead_owner)
    with CloudClaim(client, "setup") as claim:
        taken = claim.take(cloud["id"])
        assert taken["operation"]["owner"] == claim.owner
    assert client.get_cloud(cloud["id"])["operation"] is None


def test_holders_elsewhere_are_never_presumed_gone() -> None:
    assert not holder_is_gone("another-host:1:abc")
    assert not holder_is_gone("not an owner")
