"""GET /api/v1/clouds/{id}, answered ahead of FastAPI (controlplane/hot_reads.py), says exactly what FastAPI's
own route says: the same status, body and headers that matter, for every kind of caller and cloud."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cloudplane.client import ControlPlaneClient
from tests.controlplane.conftest import mint_token, serve


@pytest.fixture
def answers(database_url: str) -> dict[str, Any]:
    admin = mint_token(database_url, "acme", name="admin")
    member = mint_token(database_url, "acme", admin=False, name="member")
    other = mint_token(database_url, "other", name="other")
    revoked = mint_token(database_url, "acme", name="gone")
    with ControlPlaneClient.embedded(database_url) as direct:
        direct.revoke_token("gone", org="acme")
    with serve(database_url) as hot, serve(database_url, hot_reads=False) as plain:
        with ControlPlaneClient.remote(hot.url, token=admin) as client:
            cloud = client.create_cloud("first", "aws", "us-west-2", "managed", "public")["id"]
        requests = {
            "admin": (f"/api/v1/clouds/{cloud}", f"Bearer {admin}"),
            "member": (f"/api/v1/clouds/{cloud}", f"Bearer {member}"),
            "another organisation": (f"/api/v1/clouds/{cloud}", f"Bearer {other}"),
            "unknown cloud": ("/api/v1/clouds/cld_aaaaaaaaaaaaaaaaaaaa", f"Bearer {admin}"),
            "percent-encoded id": ("/api/v1/clouds/cld%5Fnope%20x", f"Bearer {admin}"),
            "no token": (f"/api/v1/clouds/{cloud}", None),
            "not bearer": (f"/api/v1/clouds/{cloud}", f"Basic {admin}"),
            "empty bearer": (f"/api/v1/clouds/{cloud}", "Bearer"),
            "not a token": (f"/api/v1/clouds/{cloud}", "Bearer hello"),
            "unknown token": (f"/api/v1/clouds/{cloud}", "Bearer cpt_" + "A" * 43),
            "revoked token": (f"/api/v1/clouds/{cloud}", f"Bearer {revoked}"),
            "a sub-path": (f"/api/v1/clouds/{cloud}/claim", f"Bearer {admin}"),
        }
        seen = {}
        for label, (path, authorization) in requests.items():
            headers = {"authorization": authorization} if authorization else {}
            seen[label] = tuple(
                _answer(httpx.get(base + path, headers=headers)) for base in (hot.url, plain.url)
            )
    return seen


def _answer(response: httpx.Response) -> tuple[int, Any, str | None, str | None]:
    return (
        response.status_code,
        response.json(),
        response.headers.get("content-type"),
        response.headers.get("www-authenticate"),
    )


def test_every_answer_is_the_routes_own(answers: dict[str, Any]) -> None:
    for label, (hot, plain) in answers.items():
        assert hot == plain, label
    statuses = {label: hot[0] for label, (hot, _) in answers.items()}
    assert statuses == {
        "admin": 200,
        "member": 200,
        "another organisation": 404,
        "unknown cloud": 404,
        "percent-encoded id": 404,
        "no token": 401,
        "not bearer": 401,
        "empty bearer": 401,
        "not a token": 401,
        "unknown token": 401,
        "revoked token": 401,
        "a sub-path": 405,
    }
