"""Against a shared server, customer roles must trust the server's principal, not the caller's account.

The server runs for real (FastAPI under uvicorn) with `--aws-principal`; the CLI talks to it with a token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.controlplane.conftest import mint_token, serve
from tests.e2e.test_customer_defined import customer_cloud, register_args, trust_of
from tests.helpers import cloudplane

SERVER_PRINCIPAL = "arn:aws:iam::999999999999:root"


@pytest.fixture
def shared_server(aws_env: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with serve(url, aws_principal=SERVER_PRINCIPAL) as served:
        monkeypatch.setenv("CLOUDPLANE_URL", served.url)
        monkeypatch.setenv("CLOUDPLANE_TOKEN", mint_token(url, name="e2e"))
        yield served.url


def trust_principal(aws: Callable[..., Any], role_arn: str, principal: str) -> None:
    document = trust_of(aws, role_arn)
    for statement in document["Statement"]:
        statement["Principal"] = {"AWS": principal}
    aws("iam").update_assume_role_policy(
        RoleName=role_arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(document)
    )


def test_the_template_trusts_the_servers_principal(shared_server: str) -> None:
    run = cloudplane("cloud", "template", "--customer-defined", "--region", "us-west-2", "--name", "shared")
    assert run.exit_code == 0, run.stderr
    assert SERVER_PRINCIPAL in run.stdout and "arn:aws:iam::123456789012:root" not in run.stdout


def test_register_wants_a_role_that_trusts_the_servers_principal(
    shared_server: str, aws: Callable[..., Any]
) -> None:
    built = customer_cloud(aws)  # its role trusts the caller's own account
    refused = cloudplane(*register_args(built, "shared"), "--yes")
    assert refused.exit_code == 2
    assert SERVER_PRINCIPAL in refused.stderr and "--add-trust" in refused.stderr
    trust_principal(aws, built.cp_role, SERVER_PRINCIPAL)
    run = cloudplane(*register_args(built, "shared"), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr + run.stdout
    cloud = run.json()["cloud"]
    assert cloud["options"]["controlplane_principal"] == SERVER_PRINCIPAL
    (statement,) = trust_of(aws, built.cp_role)["Statement"]
    assert statement["Principal"] == {"AWS": SERVER_PRINCIPAL}
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == cloud["external_id"]


def test_setup_makes_a_role_that_trusts_the_servers_principal(
    shared_server: str, aws: Callable[..., Any]
) -> None:
    run = cloudplane("cloud", "setup", "--name", "shared", "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    cloud = run.json()["cloud"]
    assert cloud["options"]["controlplane_principal"] == SERVER_PRINCIPAL
    (statement,) = trust_of(aws, cloud["resources"]["controlplane_role_arn"])["Statement"]
    assert statement["Principal"] == {"AWS": SERVER_PRINCIPAL}
    # The other commands work against the server unchanged.
    assert cloudplane("cloud", "verify", "--name", "shared").exit_code == 0
    listed = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    assert [c["id"] for c in listed] == [cloud["id"]]
    assert cloudplane("cloud", "get", "--id", cloud["id"], "--output", "json").json()["name"] == "shared"
    assert cloudplane("cloud", "set-default", "shared").exit_code == 0
    assert cloudplane("cloud", "delete", "--name", "shared", "--yes").exit_code == 0
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
