"""Tokens through both transports, what the database keeps of them, and the `cloudplane token` commands."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from sqlalchemy import create_engine, text

from cloudplane.client import ControlPlaneClient
from cloudplane.errors import Conflict, InputError, NotFound
from tests.controlplane.conftest import mint_token, serve
from tests.helpers import cloudplane

SECRET = re.compile(r"^cpt_[A-Za-z0-9_-]{43}$")
TOKEN_KEYS = {"id", "org", "name", "admin", "created_at", "revoked_at", "last_used_at"}


def test_create_list_revoke(client: ControlPlaneClient) -> None:
    made = client.create_token(name="laptop", admin=True)
    assert set(made) == TOKEN_KEYS | {"token"}
    assert SECRET.match(made["token"])
    assert (made["org"], made["name"], made["admin"], made["revoked_at"]) == ("local", "laptop", True, None)

    generated = client.create_token()
    assert re.fullmatch(r"token-[0-9a-f]{6}", generated["name"]) and generated["admin"] is False
    assert generated["token"] != made["token"]

    listed = {t["name"]: t for t in client.list_tokens()}
    assert {"laptop", generated["name"]} <= set(listed)
    assert all(set(t) == TOKEN_KEYS for t in listed.values())  # never a secret again

    with pytest.raises(Conflict, match="already has a live token named 'laptop'"):
        client.create_token(name="laptop")
    revoked = client.revoke_token(generated["name"])
    assert revoked["revoked_at"] is not None
    with pytest.raises(NotFound, match=f"no live token named '{generated['name']}'"):
        client.revoke_token(generated["name"])
    again = client.create_token(name=generated["name"])  # a revoked token's name is free again
    assert again["revoked_at"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Laptop"}, r"^invalid token name 'Laptop'"),
        ({"name": "a" * 64}, r"^invalid token name"),
        ({"org": "acme corp"}, r"^invalid organisation 'acme corp'"),
        ({"org": "-acme"}, r"^invalid organisation"),
    ],
)
def test_bad_names_are_refused(client: ControlPlaneClient, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        client.create_token(**kwargs)


def test_the_database_keeps_only_hashes(database_url: str) -> None:
    with ControlPlaneClient.embedded(database_url) as direct:
        secrets = [direct.create_token(org=org, name="t", admin=True)["token"] for org in ("local", "acme")]
        with serve(database_url) as served, ControlPlaneClient.remote(served.url, token=secrets[0]) as remote:
            secrets.append(remote.create_token(name="over-http")["token"])
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(text("SELECT * FROM tokens"))]
        dump = "\n".join(
            str(value)
            for table in ("tokens", "organisations", "clouds")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for value in row
        )
    engine.dispose()
    assert len(rows) == 3
    for secret in secrets:
        assert secret not in dump and secret[4:] not in dump
    assert {row["secret_sha256"] for row in rows} == {hashlib.sha256(s.encode()).hexdigest() for s in secrets}
    used = [row for row in rows if row["name"] == "t" and row["org"] == "local"]
    assert used[0]["last_used_at"] is not None  # the token that made the HTTP call


def test_token_commands_on_the_database_then_on_the_server(
    database_url: str, isolated_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", database_url)
    first = cloudplane("token", "create", "--org", "acme", "--admin", "--name", "laptop")
    assert first.exit_code == 0, first.stderr
    secret = first.stdout.strip()
    assert SECRET.match(secret) and first.stdout == secret + "\n"  # the secret alone on stdout
    assert "working on the database" in first.stderr and "shown only now" in first.stderr

    listed = cloudplane("token", "list", "--org", "acme", "--output", "json")
    assert [t["name"] for t in listed.json()["tokens"]] == ["laptop"]

    with serve(database_url) as served:
        monkeypatch.setenv("CLOUDPLANE_URL", served.url)
        monkeypatch.setenv("CLOUDPLANE_TOKEN", secret)
        made = cloudplane("token", "create", "--name", "ci", "--output", "json")
        assert made.exit_code == 0, made.stderr
        assert made.stderr == "Using the token from CLOUDPLANE_TOKEN\n"
        assert (made.json()["org"], made.json()["admin"]) == ("acme", False)
        text_list = cloudplane("token", "list")
        assert text_list.stdout.splitlines()[0].split() == [
            "ORG",
            "NAME",
            "ADMIN",
            "CREATED",
            "LAST",
            "USED",
            "REVOKED",
        ]
        assert cloudplane("token", "revoke", "ci").stdout == "Revoked token 'ci' of organisation 'acme'.\n"

        other = cloudplane("token", "list", "--org", "local")
        assert other.exit_code == 2
        assert "cannot manage the tokens of organisation 'local'" in other.stderr

        monkeypatch.setenv("CLOUDPLANE_TOKEN", made.json()["token"])  # revoked now
        refused = cloudplane("token", "list")
        assert (
            refused.exit_code == 2 and "the token 'ci' of organisation 'acme' was revoked" in refused.stderr
        )
    assert not isolated_env.exists()


def test_the_api_checks_token_fields_itself(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    headers = {"Authorization": f"Bearer {mint_token(url)}"}
    with serve(url) as served, httpx.Client(base_url=served.url, headers=headers) as http:
        for body, detail in [
            ({"admin": "yes"}, "admin: Input should be a valid boolean"),
            ({"admin": 1}, "admin: Input should be a valid boolean"),
            ({"name": "No Spaces"}, "invalid token name 'No Spaces'"),
            ({"org": 7}, "org: Input should be a valid string"),
            ({"colour": "red"}, "unknown field 'colour'"),
        ]:
            answer = http.post("/api/v1/tokens", json=body)
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"].startswith(detail)
        assert http.delete("/api/v1/tokens/Bad%20Name").status_code == 422
        assert http.get("/api/v1/tokens", params={"org": "UPPER"}).status_code == 422
