"""A role another tool built, trusting that tool's account with its own External ID: `cloud register` says
so, `--add-trust` adds cloudplane's own statement beside it (put back when registering fails), and `cloud
delete` removes exactly that statement, or keeps it, or leaves it alone once it was edited.

One sandbox state for the module: a customer's resources whose role trusts the other tool only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.clouds.added_trust import our_statement, statement_sid
from cloudplane.clouds.trust import ADDED_TRUST_OPTION, ORIGINAL_TRUST_OPTION
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import clouds, customer_cloud, get, register, trust_of
from tests.helpers import cloudplane
from tests.iam.conftest import aws  # noqa: F401  (one sandbox state for the module)
from tests.verify.builders import ACCOUNT, BuiltCloud, record_in

Factory = Callable[..., Any]

OTHER_TOOLS_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::525325868955:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "cld_x7g2kq9p4mzt81wb3hn5yv6c"}},
}
OTHER_TOOLS_TRUST = {"Version": "2012-10-17", "Statement": [OTHER_TOOLS_STATEMENT]}
OUR_PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:root"


def set_trust(clients: Factory, role_arn: str, document: dict[str, Any]) -> None:
    clients("iam").update_assume_role_policy(
        RoleName=role_arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(document)
    )


@pytest.fixture(scope="module")
def built(aws: Factory) -> BuiltCloud:  # noqa: F811
    resources = customer_cloud(aws)
    set_trust(aws, resources.cp_role, OTHER_TOOLS_TRUST)
    return resources


@dataclass(frozen=True)
class Role:
    aws: Factory
    built: BuiltCloud
    other_tools_trust: dict[str, Any]  # the trust policy as IAM shows it, before the test

    def trust(self) -> dict[str, Any]:
        return trust_of(self.aws, self.built.cp_role)

    def set_trust(self, document: dict[str, Any]) -> None:
        set_trust(self.aws, self.built.cp_role, document)


@pytest.fixture
def role(aws: Factory, built: BuiltCloud) -> Role:  # noqa: F811
    """Each test starts from the role as the other tool left it."""
    set_trust(aws, built.cp_role, OTHER_TOOLS_TRUST)
    return Role(aws, built, trust_of(aws, built.cp_role))


@pytest.fixture
def slow_iam(sandbox: SandboxServer) -> Iterator[None]:
    sandbox.set_iam_delay(1500)
    yield
    sandbox.set_iam_delay(0)


def register_adding_trust(built: BuiltCloud, name: str, *extra: str) -> dict[str, Any]:
    run = register(built, "--add-trust", "--yes", *extra, name=name)
    assert run.exit_code == 0, run.stderr + run.stdout
    return get(name)


def test_without_add_trust_register_says_whom_the_role_trusts_and_creates_nothing(role: Role) -> None:
    built = role.built
    run = register(built, "--yes")
    assert run.exit_code == 2
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert "arn:aws:iam::525325868955:root" in line and OUR_PRINCIPAL in line and "--add-trust" in line
    assert clouds() == []
    assert role.trust() == role.other_tools_trust


def test_a_failed_registration_puts_the_trust_back_exactly(role: Role, slow_iam: None) -> None:
    """IAM slow to show changes: register waits for its statement before verifying, and for the policy
    put back before it ends."""
    built = role.built
    run = register(built, "--add-trust", "--yes", **{"--s3-bucket-id": "no-such-bucket-of-acme"})
    assert run.exit_code == 1
    assert "Added the statement CloudplaneAssume" in run.stderr
    assert f"Waiting for IAM to show the new trust policy of {built.cp_role}" in run.stderr
    assert "IAM-3" not in run.stdout and "S3-1" in run.stdout
    assert "Waiting for IAM to show the restored trust policy" in run.stderr
    assert "nothing was registered and the trust policy was put back as it was" in run.stderr
    assert clouds() == []
    assert role.trust() == role.other_tools_trust  # read at once: IAM already shows it


def test_add_trust_adds_one_statement_beside_the_other_tools_and_delete_removes_exactly_it(
    role: Role, sandbox: SandboxServer
) -> None:
    built = role.built
    cloud = register_adding_trust(built, "acme")
    ours = {
        "Sid": "CloudplaneAssume" + cloud["id"].removeprefix("cld_"),
        "Effect": "Allow",
        "Principal": {"AWS": OUR_PRINCIPAL},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": cloud["external_id"]}},
    }
    assert role.trust()["Statement"] == [OTHER_TOOLS_STATEMENT, ours]
    assert cloud["options"][ADDED_TRUST_OPTION] == ours["Sid"]
    assert ORIGINAL_TRUST_OPTION not in cloud["options"]
    passed = {f["check"] for f in cloud["last_verification"]["findings"] if f["passed"]}
    assert {"IAM-2", "IAM-3", "IAM-11"} <= passed
    sts = role.aws("sts")
    session = dict(RoleArn=built.cp_role, RoleSessionName="proof")
    assert sts.assume_role(**session, ExternalId=cloud["external_id"])["Credentials"]
    with pytest.raises(Exception, match="AccessDenied"):  # the other tool's ID does not let us in
        sts.assume_role(
            **session, ExternalId=OTHER_TOOLS_STATEMENT["Condition"]["StringEquals"]["sts:ExternalId"]
        )

    # A second cloud on the same role: trusted already, so nothing to add; the role is acme's.
    again = register(built, "--add-trust", "--yes", name="again")
    assert "no statement is needed" in again.stderr
    assert again.exit_code == 2 and "acme" in again.stderr
    assert role.trust()["Statement"] == [OTHER_TOOLS_STATEMENT, ours]

    sandbox.set_iam_delay(1500)  # the delete waits until IAM shows the statement gone
    try:
        run = cloudplane("cloud", "delete", "--name", "acme", "--yes")
    finally:
        sandbox.set_iam_delay(0)
    assert run.exit_code == 0, run.stderr
    assert "Waiting for IAM to show the trust policy without the statement" in run.stderr
    assert f"Removed the statement {ours['Sid']}" in run.stderr
    assert "can still assume" not in run.stderr
    assert role.trust() == role.other_tools_trust
    assert clouds() == []


def test_add_trust_with_a_given_external_id_and_delete_keeping_the_statement(role: Role) -> None:
    """--external-id with --add-trust: the added statement requires the given ID."""
    built = role.built
    cloud = register_adding_trust(built, "kept", "--external-id", "acme-migration-0001")
    assert cloud["external_id"] == "acme-migration-0001"
    with_ours = role.trust()
    (ours,) = [s for s in with_ours["Statement"] if s.get("Sid") == statement_sid(cloud["id"])]
    assert ours["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-migration-0001"}}
    run = cloudplane("cloud", "delete", "--name", "kept", "--yes", "--keep-trust")
    assert run.exit_code == 0, run.stderr
    assert role.trust() == with_ours
    assert f"The control plane can still assume {built.cp_role}" in run.stderr
    assert f"remove the statement {statement_sid(cloud['id'])} trusting" in run.stderr


def test_delete_leaves_an_edited_statement_alone_and_says_so(role: Role) -> None:
    built = role.built
    cloud = register_adding_trust(built, "edited")
    edited = role.trust()
    edited["Statement"][1]["Condition"]["StringEquals"]["aws:PrincipalAccount"] = ACCOUNT
    role.set_trust(edited)
    run = cloudplane("cloud", "delete", "--name", "edited", "--remove-trust", "--yes")
    assert run.exit_code == 0, run.stderr
    assert f"{statement_sid(cloud['id'])} in the trust policy of {built.cp_role} was changed" in run.stderr
    assert role.trust() == edited
    assert clouds() == []


def test_delete_of_a_killed_add_trust_registration_puts_the_trust_back(role: Role) -> None:
    built = role.built
    """What a registration killed after adding its statement leaves: the record `creating`, with the
    policy as it was and the statement's Sid."""
    ours = our_statement(built.cloud_id, OUR_PRINCIPAL, built.spec.external_id)
    options = {ORIGINAL_TRUST_OPTION: json.dumps(role.other_tools_trust), ADDED_TRUST_OPTION: ours["Sid"]}
    role.set_trust({**role.other_tools_trust, "Statement": [OTHER_TOOLS_STATEMENT, ours]})
    with ControlPlaneClient.from_env(announce=False) as client:
        record_in(client, built, "killed", state="creating", options=options)
    run = cloudplane("cloud", "delete", "--name", "killed", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "was interrupted: put the trust policy" in run.stderr
    assert role.trust() == role.other_tools_trust
