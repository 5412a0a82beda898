"""Who may do what over HTTP: the token matrix, organisations as walls (404, never 403), admin-only calls."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cloudplane import __version__
from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.auth import Forbidden, Unauthorized
from cloudplane.errors import NotFound
from tests.controlplane.conftest import Served, mint_token, serve
from tests.helpers import cloudplane

BODY = {
    "name": "shared-name",
    "provider": "aws",
    "region": "us-west-2",
    "deployment": "managed",
    "networking": "public",
}
PRINCIPAL = "arn:aws:iam::123456789012:role/cloudplane-control-plane"


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    with serve(database_url, aws_principal=PRINCIPAL) as served:
        yield served


def _http(served: Served, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=served.url, headers=headers)


def _refused(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def test_every_api_route_needs_a_valid_token(served: Served, database_url: str) -> None:
    cloud_id = "cld_00000000000000000000"
    calls = [
        ("GET", "/api/v1/clouds", None),
        ("POST", "/api/v1/clouds", BODY),
        ("GET", f"/api/v1/clouds/{cloud_id}", None),
        ("PATCH", f"/api/v1/clouds/{cloud_id}", {"state": "active"}),
        ("PUT", f"/api/v1/clouds/{cloud_id}/verification", {"report": {}}),
        ("POST", f"/api/v1/clouds/{cloud_id}/default", None),
        ("POST", f"/api/v1/clouds/{cloud_id}/claim", {"operation": "setup", "owner": "x", "seconds": 5}),
        ("DELETE", f"/api/v1/clouds/{cloud_id}/claim?owner=x", None),
        ("DELETE", f"/api/v1/clouds/{cloud_id}", None),
        ("POST", "/api/v1/tokens", {"admin": True}),
        ("GET", "/api/v1/tokens", None),
        ("DELETE", "/api/v1/tokens/laptop", None),
    ]
    revoked = mint_token(database_url, name="old")
    with ControlPlaneClient.embedded(database_url) as direct:
        direct.revoke_token("old")
    wrong = "cpt_" + "A" * 43
    with _http(served) as none, _http(served, wrong) as bad, _http(served, revoked) as gone:
        for method, path, body in calls:
            assert "needs a token" in _refused(none.request(method, path, json=body))
            assert (
                _refused(bad.request(method, path, json=body))
                == "the token is not valid for this control plane"
            )
            assert "was revoked" in _refused(gone.request(method, path, json=body))
        # Not a bearer token at all, or not shaped like one: refused the same way.
        assert _refused(none.get("/api/v1/clouds", headers={"Authorization": "Basic dXNlcjpwdw=="}))
        assert _refused(none.get("/api/v1/clouds", headers={"Authorization": "Bearer s3cret"}))
        assert _refused(none.get("/api/v1/clouds", headers={"Authorization": "Bearer"}))
        # The unauthenticated routes.
        assert none.get("/healthz").json() == {"status": "ok", "version": __version__}
        assert none.get("/api/v1/info").json() == {"version": __version__, "aws_principal": PRINCIPAL}


def test_another_organisations_cloud_is_not_found(served: Served, database_url: str) -> None:
    acme = ControlPlaneClient.remote(served.url, token=mint_token(database_url, "acme", admin=True))
    umbrella = ControlPlaneClient.remote(served.url, token=mint_token(database_url, "umbrella", admin=True))
    with acme, umbrella:
        mine = acme.create_cloud("shared-name", "aws", "us-west-2", "managed", "public")
        theirs = umbrella.create_cloud(
            "shared-name", "aws", "us-east-1", "managed", "public"
        )  # same name: fine
        assert [c["id"] for c in acme.list_clouds()] == [mine["id"]]
        assert [c["id"] for c in umbrella.list_clouds(name="shared-name")] == [theirs["id"]]

        missing = f"^no cloud with id '{mine['id']}'$"
        for attempt in (
            lambda: umbrella.get_cloud(mine["id"]),
            lambda: umbrella.update_cloud(mine["id"], state="failed"),
            lambda: umbrella.store_verification(mine["id"], {"verdict": "passed"}),
            lambda: umbrella.set_default(mine["id"]),
            lambda: umbrella.claim_cloud(mine["id"], operation="delete", owner="x", seconds=5),
            lambda: umbrella.release_cloud(mine["id"], "x"),
            lambda: umbrella.delete_cloud(mine["id"]),
        ):
            with pytest.raises(NotFound, match=missing):
                attempt()
        assert acme.get_cloud(mine["id"]) == mine  # untouched

        # The default cloud is per organisation.
        assert acme.set_default(mine["id"])["is_default"] is True
        assert umbrella.set_default(theirs["id"])["is_default"] is True
        assert acme.get_cloud(mine["id"])["is_default"] is True


def test_only_admin_tokens_set_the_default_and_manage_tokens(served: Served, database_url: str) -> None:
    admin = ControlPlaneClient.remote(
        served.url, token=mint_token(database_url, "acme", admin=True, name="boss")
    )
    user = ControlPlaneClient.remote(
        served.url, token=mint_token(database_url, "acme", admin=False, name="dev")
    )
    with admin, user:
        cloud = user.create_cloud("team", "aws", "us-west-2", "managed", "public")  # users work on clouds
        with pytest.raises(
            Forbidden, match="setting the default cloud needs an admin token of organisation 'acme'"
        ):
            user.set_default(cloud["id"])
        assert admin.set_default(cloud["id"])["is_default"] is True
        with pytest.raises(Forbidden, match="managing tokens needs an admin token"):
            user.create_token(name="mine")
        with pytest.raises(Forbidden):
            user.list_tokens()
        with pytest.raises(Forbidden):
            user.revoke_token("boss")
        # An admin's reach ends at its organisation.
        with pytest.raises(Forbidden, match="cannot manage the tokens of organisation 'umbrella'"):
            admin.create_token(org="umbrella", admin=True)
        made = admin.create_token(name="ci")
        assert (made["org"], made["admin"]) == ("acme", False)
        assert {t["name"] for t in admin.list_tokens()} == {"boss", "dev", "ci"}


def test_the_raw_forbidden_answer(served: Served, database_url: str) -> None:
    with _http(served, mint_token(database_url, admin=False)) as user:
        cloud = user.post("/api/v1/clouds", json=BODY).json()
        answer = user.post(f"/api/v1/clouds/{cloud['id']}/default")
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "setting the default cloud needs an admin token of organisation 'local'"
    }


def test_a_revoked_token_stops_working_at_once(served: Served, database_url: str) -> None:
    with ControlPlaneClient.remote(served.url, token=mint_token(database_url, name="laptop")) as client:
        client.list_clouds()
        client.revoke_token("laptop")  # revoking itself
        with pytest.raises(Unauthorized, match="refused the token from CLOUDPLANE_TOKEN: the token 'laptop'"):
            client.list_clouds()


def test_the_cli_says_which_token_it_uses_and_what_is_wrong_with_it(
    served: Served, database_url: str, isolated_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDPLANE_URL", served.url)

    run = cloudplane("cloud", "list")
    assert run.exit_code == 2
    assert run.stderr == (
        f"error: the control plane at {served.url} needs a token: set CLOUDPLANE_TOKEN "
        "(an admin makes one with `cloudplane token create`)\n"
    )

    monkeypatch.setenv("CLOUDPLANE_TOKEN", "cpt_" + "x" * 43)
    run = cloudplane("cloud", "list")
    assert run.exit_code == 2
    assert run.stderr == (
        "Using the token from CLOUDPLANE_TOKEN\n"
        f"error: the control plane at {served.url} refused the token from CLOUDPLANE_TOKEN: "
        "the token is not valid for this control plane; set CLOUDPLANE_TOKEN to a valid token\n"
    )

    monkeypatch.setenv("CLOUDPLANE_TOKEN", mint_token(database_url))
    run = cloudplane("cloud", "list", "--output", "json")
    assert (run.exit_code, run.json(), run.stderr) == (
        0,
        {"clouds": []},
        "Using the token from CLOUDPLANE_TOKEN\n",
    )
    assert not isolated_env.exists(), "the remote mode must not touch the local database"
