"""Cloud behaviour through the client, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.models import RESOURCE_KEYS
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.errors import Conflict, InputError, NotFound
from tests.helpers import cloudplane

CLOUD_KEYS = {
    "id",
    "name",
    "provider",
    "region",
    "deployment",
    "networking",
    "state",
    "is_default",
    "external_id",
    "resources",
    "options",
    "failure_reason",
    "created_at",
    "updated_at",
    "last_verification",
    "last_verified_at",
    "operation",
    "last_functional_verification",
    "last_functional_verified_at",
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def make(client: ControlPlaneClient, name: str, **kwargs) -> dict:
    args = {"provider": "aws", "region": "us-west-2", "deployment": "managed", "networking": "public"}
    args.update(kwargs)
    return client.create_cloud(name, **args)


def test_created_cloud_has_every_key(client: ControlPlaneClient) -> None:
    cloud = make(client, "first", options={"stack_name": "cloudplane-first"})

    assert set(cloud) == CLOUD_KEYS
    assert re.fullmatch(r"cld_[a-z0-9]{20}", cloud["id"])
    assert cloud["external_id"].startswith(cloud["id"] + "-")
    assert list(cloud["resources"]) == list(RESOURCE_KEYS)
    assert all(value is None for value in cloud["resources"].values())
    assert cloud["options"] == {"stack_name": "cloudplane-first"}
    assert (cloud["state"], cloud["is_default"], cloud["failure_reason"]) == ("creating", False, None)
    assert (cloud["last_verification"], cloud["last_verified_at"], cloud["operation"]) == (None, None, None)
    assert (cloud["last_functional_verification"], cloud["last_functional_verified_at"]) == (None, None)
    assert TIMESTAMP.match(cloud["created_at"]) and cloud["created_at"] == cloud["updated_at"]
    assert client.get_cloud(cloud["id"]) == cloud


def test_create_with_given_external_id_and_resources(client: ControlPlaneClient) -> None:
    cloud = make(
        client,
        "mine",
        deployment="customer_defined",
        networking="private",
        external_id="org-1234:abc",
        resources={"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]},
    )
    assert cloud["external_id"] == "org-1234:abc"
    assert cloud["resources"]["vpc_id"] == "vpc-0a1b2c3d"
    assert cloud["resources"]["subnet_ids"] == ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]
    assert cloud["resources"]["efs_id"] is None
    assert (cloud["deployment"], cloud["networking"]) == ("customer_defined", "private")


def test_list_is_in_creation_order_and_filters_by_name(client: ControlPlaneClient) -> None:
    assert client.list_clouds() == []
    names = ["zeta", "alpha", "mid"]
    for name in names:
        make(client, name)
    assert [cloud["name"] for cloud in client.list_clouds()] == names


def test_find_by_name_and_by_id(client: ControlPlaneClient) -> None:
    make(client, "other")
    cloud = make(client, "wanted")

    assert client.find_cloud(name="wanted") == cloud
    assert client.find_cloud(cloud_id=cloud["id"]) == cloud
    assert client.find_cloud(name="wanted", cloud_id=cloud["id"]) == cloud
    with pytest.raises(NotFound, match=r"^no cloud named 'missing'$"):
        client.find_cloud(name="missing")
    with pytest.raises(NotFound, match=r"^no cloud with id 'cld_00000000000000000000'$"):
        client.find_cloud(cloud_id="cld_00000000000000000000")
    with pytest.raises(InputError, match="is named 'wanted', not 'other'"):
        client.find_cloud(name="other", cloud_id=cloud["id"])
    with pytest.raises(InputError):
        client.find_cloud()


def test_duplicate_name_is_a_conflict(client: ControlPlaneClient) -> None:
    make(client, "dup")
    with pytest.raises(Conflict, match=r"^a cloud named 'dup' already exists$"):
        make(client, "dup", region="eu-west-1")
    assert len(client.list_clouds()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "-starts-badly"}, r"^invalid cloud name '-starts-badly': use 1-63"),
        ({"name": "x" * 64}, r"^invalid cloud name"),
        (
            {"deployment": "hybrid"},
            r"^invalid deployment 'hybrid': expected 'managed' or 'customer_defined'$",
        ),
        ({"networking": "mesh"}, r"^invalid networking 'mesh'"),
        ({"provider": "gcp"}, r"^invalid provider 'gcp'"),
        ({"region": "Mars"}, r"^invalid region 'Mars'"),
        ({"external_id": "a b"}, r"^invalid external_id"),
    ],
)
def test_bad_input_is_a_one_line_input_error(client: ControlPlaneClient, kwargs: dict, message: str) -> None:
    args = {"name": "fine"} | kwargs
    with pytest.raises(InputError, match=message) as caught:
        make(client, **args)
    assert type(caught.value) is InputError
    assert "\n" not in str(caught.value)
    assert client.list_clouds() == []


def test_patch_merges_resources_and_options(client: ControlPlaneClient) -> None:
    cloud = make(client, "merge", options={"shared_storage": "efs", "stack_name": "s"})
    client.update_cloud(cloud["id"], resources={"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d"]})
    updated = client.update_cloud(
        cloud["id"],
        state="active",
        resources={"s3_bucket_id": "bucket-1", "subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]},
        options={"head_node_fault_tolerance": True, "stack_name": None},
    )

    assert updated["state"] == "active"
    assert updated["resources"]["vpc_id"] == "vpc-0a1b2c3d"
    assert updated["resources"]["subnet_ids"] == ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]
    assert updated["resources"]["s3_bucket_id"] == "bucket-1"
    assert list(updated["resources"]) == list(RESOURCE_KEYS)
    assert updated["options"] == {"shared_storage": "efs", "head_node_fault_tolerance": True}
    assert updated["updated_at"] > cloud["updated_at"]
    assert client.get_cloud(cloud["id"]) == updated


def test_unknown_resource_key_is_rejected(client: ControlPlaneClient) -> None:
    cloud = make(client, "strict")
    with pytest.raises(InputError, match=r"^unknown resource key 'vpc': expected one of vpc_id, "):
        client.update_cloud(cloud["id"], resources={"vpc": "vpc-0a1b2c3d"})
    with pytest.raises(InputError, match=r"^unknown resource key 'nat_id'"):
        make(client, "strict2", resources={"nat_id": "nat-1"})
    with pytest.raises(InputError, match="subnet_ids"):
        client.update_cloud(cloud["id"], resources={"subnet_ids": "subnet-1"})
    with pytest.raises(InputError, match=r"^invalid state 'gone'"):
        client.update_cloud(cloud["id"], state="gone")
    assert client.get_cloud(cloud["id"]) == cloud


def test_failure_reason_is_kept_until_cleared(client: ControlPlaneClient) -> None:
    cloud = make(client, "flaky")
    failed = client.update_cloud(cloud["id"], state="failed", failure_reason="stack rolled back")
    assert (failed["state"], failed["failure_reason"]) == ("failed", "stack rolled back")
    assert client.update_cloud(cloud["id"], state="deleting")["failure_reason"] == "stack rolled back"
    assert client.update_cloud(cloud["id"], failure_reason="")["failure_reason"] is None
    client.update_cloud(cloud["id"], state="failed", failure_reason="again")
    assert client.update_cloud(cloud["id"], state="active")["failure_reason"] is None


def test_set_default_is_exclusive(client: ControlPlaneClient) -> None:
    a, b, c = (make(client, name) for name in ("a", "b", "c"))
    assert not any(cloud["is_default"] for cloud in client.list_clouds())

    assert client.set_default(a["id"])["is_default"] is True
    assert client.set_default(b["id"])["is_default"] is True
    assert client.set_default(b["id"])["is_default"] is True
    assert {cloud["name"]: cloud["is_default"] for cloud in client.list_clouds()} == {
        "a": False,
        "b": True,
        "c": False,
    }

    client.delete_cloud(b["id"])
    assert not any(cloud["is_default"] for cloud in client.list_clouds())
    assert client.set_default(c["id"])["is_default"] is True
    with pytest.raises(NotFound):
        client.set_default(b["id"])


def test_delete(client: ControlPlaneClient) -> None:
    keep, gone = make(client, "keep"), make(client, "gone")
    assert client.delete_cloud(gone["id"]) is None
    with pytest.raises(NotFound, match=f"no cloud with id '{gone['id']}'"):
        client.get_cloud(gone["id"])
    with pytest.raises(NotFound):
        client.delete_cloud(gone["id"])
    assert [cloud["id"] for cloud in client.list_clouds()] == [keep["id"]]
    make(client, "gone")  # the name is free again


def test_verification_report_is_stored(client: ControlPlaneClient) -> None:
    cloud = make(client, "checked")
    report = {
        "verdict": "failed",
        "findings": [
            {"id": "vpc.dns_hostnames", "severity": "error", "message": "off", "resource": "vpc-0a1b2c3d"}
        ],
        "counts": {"passed": 11, "failed": 1},
    }
    stored = client.store_verification(cloud["id"], report)

    assert stored["last_verification"] == report
    assert TIMESTAMP.match(stored["last_verified_at"])
    assert client.get_cloud(cloud["id"])["last_verification"] == report
    newer = client.store_verification(cloud["id"], {"verdict": "passed"})
    assert newer["last_verification"] == {"verdict": "passed"}
    assert newer["last_verified_at"] >= stored["last_verified_at"]
    with pytest.raises(NotFound):
        client.store_verification("cld_00000000000000000000", report)


@pytest.mark.parametrize(
    ("resources", "named"),
    [
        ({"vpc_id": "vpc-xyz"}, "resources.vpc_id: 'vpc-xyz' is not a vpc id"),
        ({"subnet_ids": ["subnet-0a1b2c3d", "sg-0a1b2c3d"]}, "'sg-0a1b2c3d' is not a subnet id"),
        ({"controlplane_role_arn": "arn:aws:iam::123:user/x"}, "is not an IAM role ARN"),
        ({"s3_bucket_id": "Bad_Bucket"}, "is not an S3 bucket name"),
        ({"efs_mount_target_ips": ["10.0.0.300"]}, "is not an IPv4 address"),
        ({"cloudformation_stack_id": "my-stack"}, "is not a CloudFormation stack id"),
    ],
)
def test_resources_of_the_wrong_shape_are_refused(
    client: ControlPlaneClient, resources: dict, named: str
) -> None:
    """The API checks ids itself, as the CLI does: the CLI is not its only client."""
    with pytest.raises(InputError, match=re.escape(named)):
        make(client, "shapes", resources=resources)
    cloud = make(client, "shapes")
    with pytest.raises(InputError, match=re.escape(named)):
        client.update_cloud(cloud["id"], resources=resources)
    assert client.get_cloud(cloud["id"])["resources"] == make_empty_resources()


def make_empty_resources() -> dict:
    return dict.fromkeys(RESOURCE_KEYS)


def test_pages_follow_one_another_without_gaps_or_repeats(
    client: ControlPlaneClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [make(client, f"page-{i}")["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        page = client.list_clouds_page(limit=3, cursor=cursor)
        assert set(page) == {"clouds", "next_cursor"} and len(page["clouds"]) <= 3
        seen += [cloud["id"] for cloud in page["clouds"]]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
        if pages == 1:
            client.delete_cloud(made[3])  # a change between pages neither skips nor repeats the others
            made.remove(made[3])
            made.append(make(client, "page-late")["id"])
    assert seen == made and pages == 3
    assert client.list_clouds_page(limit=7) == {"clouds": client.list_clouds(), "next_cursor": None}
    assert client.list_clouds_page(name="page-5", limit=1)["clouds"][0]["name"] == "page-5"
    monkeypatch.setattr("cloudplane.client_http.MAX_LIMIT", 2)  # the whole list over HTTP takes 4 pages now
    assert [cloud["id"] for cloud in client.list_clouds()] == made


def test_cloud_list_shows_a_page_and_how_to_get_the_next(isolated_env) -> None:
    with ControlPlaneClient.embedded() as direct:
        ids = [make(direct, f"cli-{i}")["id"] for i in range(3)]

    first = cloudplane("cloud", "list", "--limit", "2")
    assert first.exit_code == 0
    assert [line.split()[1] for line in first.stdout.splitlines()[1:3]] == ids[:2]
    more = first.stdout.splitlines()[-1]
    assert more.startswith("More clouds: cloudplane cloud list --limit 2 --cursor ")

    second = cloudplane(*more.removeprefix("More clouds: cloudplane ").split(), "--output", "json")
    assert (second.exit_code, [c["id"] for c in second.json()["clouds"]]) == (0, ids[2:])
    assert second.json()["next_cursor"] is None
    assert [c["id"] for c in cloudplane("cloud", "list", "--output", "json").json()["clouds"]] == ids


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, r"^limit must be a whole number from 1 to 1000, not 0$"),
        ({"limit": 1001}, r"^limit must be a whole number from 1 to 1000, not 1001$"),
        ({"cursor": "not-a-cursor"}, r"^invalid cursor 'not-a-cursor': pass the next_cursor of the previous"),
    ],
)
def test_bad_page_requests_are_refused(client: ControlPlaneClient, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        client.list_clouds_page(**kwargs)


def test_many_clouds_are_created_at_once_or_not_at_all(database_url: str) -> None:
    service = ControlPlaneService.open(database_url)
    base = {"provider": "aws", "region": "us-west-2", "deployment": "managed", "networking": "public"}
    try:
        made = service.create_clouds([{**base, "name": f"bulk-{i}", "options": {"n": i}} for i in range(50)])
        assert [cloud["options"]["n"] for cloud in made] == list(range(50))
        assert {cloud["id"] for cloud in service.list_clouds()} == {cloud["id"] for cloud in made}
        assert service.get_cloud(made[7]["id"]) == made[7]

        refused = [
            ([{**base, "name": "new-1"}, {**base, "name": "bulk-3"}], Conflict, "'bulk-3' already exists"),
            ([{**base, "name": "twice"}, {**base, "name": "twice"}], Conflict, "'twice' already exists"),
            ([{**base, "name": "new-2"}, {**base, "name": "bad", "region": "mars"}], InputError, "region"),
            ([{**base, "name": "new-3", "claim": {}}], InputError, "unknown cloud key 'claim'"),
        ]
        for batch, error, message in refused:
            with pytest.raises(error, match=message):
                service.create_clouds(batch)
        assert len(service.list_clouds()) == 50
    finally:
        service.close()
