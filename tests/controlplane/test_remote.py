"""The remote path: a real uvicorn server on 127.0.0.1 and the client configured by CLOUDPLANE_URL."""

from __future__ import annotations

import socket

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed
from tests.controlplane.conftest import Served, mint_token


def test_client_from_env_talks_to_a_server(
    server: Served, database_url: str, isolated_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint_token(database_url)
    monkeypatch.setenv("CLOUDPLANE_URL", server.url)
    monkeypatch.setenv("CLOUDPLANE_TOKEN", token)

    with ControlPlaneClient.from_env() as client:
        assert client.mode == "remote"
        cloud = client.create_cloud("remote-one", "aws", "us-east-1", "managed", "private")
        assert client.find_cloud(name="remote-one") == cloud
        updated = client.update_cloud(cloud["id"], state="active", resources={"vpc_id": "vpc-0a1b2c3d"})
        assert updated["resources"]["vpc_id"] == "vpc-0a1b2c3d"
        assert client.set_default(cloud["id"])["is_default"] is True
        assert client.store_verification(cloud["id"], {"verdict": "passed"})["last_verification"]
        with pytest.raises(Conflict):
            client.create_cloud("remote-one", "aws", "us-east-1", "managed", "private")
        with pytest.raises(InputError, match=r"^invalid cloud name"):
            client.create_cloud("bad name", "aws", "us-east-1", "managed", "private")
        with pytest.raises(InputError, match=r"^unknown resource key 'x'"):
            client.update_cloud(cloud["id"], resources={"x": "y"})
        client.delete_cloud(cloud["id"])
        with pytest.raises(NotFound, match=r"^no cloud named 'remote-one'$"):
            client.find_cloud(name="remote-one")
        assert client.health()["status"] == "ok"

    assert set(server.authorizations) == {f"Bearer {token}"}
    assert not isolated_env.exists(), "the remote mode must not touch the local database"


def test_unreachable_server_is_an_operation_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ControlPlaneClient.from_env({"CLOUDPLANE_URL": f"http://127.0.0.1:{port}"})
    with (
        client,
        pytest.raises(OperationFailed, match=r"^cannot reach the control plane at http://127\.0\.0\.1:"),
    ):
        client.list_clouds()


def test_a_url_that_is_not_a_control_plane(server: Served) -> None:
    client = ControlPlaneClient.remote(server.url + "/elsewhere")
    with client, pytest.raises(OperationFailed, match="does not serve the cloudplane API"):
        client.list_clouds()
