"""The raw HTTP contract (status codes, `detail` strings), seen without the client's mapping."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cloudplane import __version__
from tests.controlplane.conftest import mint_token, serve

BODY = {
    "name": "raw",
    "provider": "aws",
    "region": "us-west-2",
    "deployment": "managed",
    "networking": "public",
}


@pytest.fixture
def http(tmp_path) -> Iterator[httpx.Client]:
    url = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    headers = {"Authorization": f"Bearer {mint_token(url)}"}
    with serve(url) as served, httpx.Client(base_url=served.url, headers=headers) as client:
        yield client


def test_status_codes(http: httpx.Client) -> None:
    created = http.post("/api/v1/clouds", json=BODY)
    assert created.status_code == 201
    cloud_id = created.json()["id"]
    assert http.get("/api/v1/clouds").json()["clouds"][0]["id"] == cloud_id
    assert http.get("/api/v1/clouds", params={"name": "nope"}).json() == {"clouds": [], "next_cursor": None}
    assert http.post("/api/v1/clouds", json=BODY).status_code == 409
    assert http.post(f"/api/v1/clouds/{cloud_id}/default").json()["is_default"] is True
    assert http.put(f"/api/v1/clouds/{cloud_id}/verification", json={"report": {}}).status_code == 200

    deleted = http.delete(f"/api/v1/clouds/{cloud_id}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    missing = http.get(f"/api/v1/clouds/{cloud_id}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"no cloud with id '{cloud_id}'"}


def test_validation_errors_are_one_line_strings(http: httpx.Client) -> None:
    response = http.post("/api/v1/clouds", json={"name": "x", "deployment": "hybrid", "colour": "red"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    assert "provider: Field required" in detail
    assert "invalid deployment 'hybrid'" in detail
    assert "unknown field 'colour'" in detail

    bad_json = http.post("/api/v1/clouds", content=b"{nope", headers={"content-type": "application/json"})
    assert (bad_json.status_code, bad_json.json()) == (422, {"detail": "request body is not valid JSON"})

    bad_report = http.put("/api/v1/clouds/cld_00000000000000000000/verification", json={"report": [1]})
    assert bad_report.status_code == 422
    assert bad_report.json()["detail"].startswith("report: ")


def test_healthz(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "version": __version__}
