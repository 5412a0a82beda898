"""AssumeRole honours the role's trust policy as AWS does: principal, External ID, explicit Deny, accounts."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import enforce_iam
from tests.sandbox.conftest import REGION
from tests.sandbox.templates import getatt, template

Client = Callable[..., Any]
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
EXTERNAL_ID = "cld-external-id-1"
# What the sandbox reports for the "testing" key, as GetCallerIdentity does.
DEFAULT_CALLER = f"arn:aws:sts::{ACCOUNT}:user/moto"


def _statement(
    principal: Any,
    condition: dict[str, Any] | None = None,
    effect: str = "Allow",
    action: Any = "sts:AssumeRole",
) -> dict[str, Any]:
    statement = {
        "Effect": effect,
        "Principal": principal if isinstance(principal, dict) or principal == "*" else {"AWS": principal},
        "Action": action,
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _needs_id(external_id: str = EXTERNAL_ID) -> dict[str, Any]:
    return {"StringEquals": {"sts:ExternalId": external_id}}


def _role(iam: Any, *statements: dict[str, Any]) -> str:
    name = "role-" + secrets.token_hex(4)
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(*statements))["Role"]["Arn"]


def _sts(sandbox: SandboxServer, credentials: dict[str, str]) -> Any:
    return boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=sandbox.url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}),
    )


def _iam_of(sandbox: SandboxServer, account: str) -> Any:
    """An IAM client that acts in `account` (the sandbox's x-moto-account-id header)."""
    iam = boto3.client(
        "iam",
        region_name=REGION,
        endpoint_url=sandbox.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )

    def in_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    iam.meta.events.register("before-sign.iam.*", in_account)
    return iam


def _user(iam: Any) -> tuple[str, dict[str, str]]:
    """A new IAM user: its ARN and its access key."""
    name = "user-" + secrets.token_hex(4)
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    return arn, iam.create_access_key(UserName=name)["AccessKey"]


def _assume(sts: Any, role_arn: str, external_id: str | None = EXTERNAL_ID) -> dict[str, str]:
    extra = {} if external_id is None else {"ExternalId": external_id}
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="session-1", **extra)["Credentials"]


def _refused(sts: Any, role_arn: str, caller: str, external_id: str | None = EXTERNAL_ID) -> None:
    """AssumeRole is refused exactly as AWS STS refuses it."""
    with pytest.raises(ClientError) as refused:
        _assume(sts, role_arn, external_id)
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Message"] == (
        f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )


@pytest.fixture
def iam(client: Client) -> Any:
    return client("iam")


@pytest.fixture
def sts(client: Client) -> Any:
    return client("sts")


# -- allowed -------------------------------------------------------------------------------------------


def test_the_accounts_root_with_the_right_external_id(sandbox: SandboxServer, iam: Any, sts: Any) -> None:
    role = _role(iam, _statement(ROOT, _needs_id()))
    credentials = _assume(sts, role)
    identity = _sts(sandbox, credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/session-1"


def test_the_bare_account_id_is_the_account(iam: Any, sts: Any) -> None:
    role = _role(iam, _statement(ACCOUNT, _needs_id()))
    assert _assume(sts, role)["AccessKeyId"]


def test_an_exact_user_arn_lets_only_that_user_in(sandbox: SandboxServer, iam: Any) -> None:
    trusted, trusted_key = _user(iam)
    other, other_key = _user(iam)
    role = _role(iam, _statement(trusted))
    assert _assume(_sts(sandbox, trusted_key), role, None)["AccessKeyId"]
    _refused(_sts(sandbox, other_key), role, other, None)


def test_a_role_arn_lets_its_sessions_in(sandbox: SandboxServer, iam: Any, sts: Any) -> None:
    first = _role(iam, _statement(ROOT, _needs_id()))
    second = _role(iam, _statement(first))
    session = _sts(sandbox, _assume(sts, first))
    chained = _assume(session, second, None)
    assert (
        _sts(sandbox, chained).get_caller_identity()["Arn"].endswith(f"/{second.rsplit('/', 1)[1]}/session-1")
    )
    _refused(sts, second, DEFAULT_CALLER, None)  # the account's other principals are not that role


def test_another_account_that_is_trusted(sandbox: SandboxServer, iam: Any) -> None:
    foreign, key = _user(_iam_of(sandbox, OTHER_ACCOUNT))
    assert foreign.startswith(f"arn:aws:iam::{OTHER_ACCOUNT}:user/")
    role = _role(iam, _statement(f"arn:aws:iam::{OTHER_ACCOUNT}:root", _needs_id()))
    credentials = _assume(_sts(sandbox, key), role)
    assert _sts(sandbox, credentials).get_caller_identity()["Account"] == ACCOUNT
    _refused(_sts(sandbox, key), role, foreign, "wrong-external-id")


def test_a_role_made_by_a_stack_and_its_trust_updated_by_the_stack(client: Client, sts: Any) -> None:
    cfn = client("cloudformation")

    def body(external_id: str) -> str:
        trust = json.loads(_trust(_statement(ROOT, _needs_id(external_id))))
        role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}
        return template({"ControlPlaneRole": role}, {"Arn": getatt("ControlPlaneRole", "Arn")})

    cfn.create_stack(StackName="trusting", TemplateBody=body(EXTERNAL_ID), Capabilities=["CAPABILITY_IAM"])
    (output,) = cfn.describe_stacks(StackName="trusting")["Stacks"][0]["Outputs"]
    role = output["OutputValue"]
    assert _assume(sts, role)["AccessKeyId"]
    _refused(sts, role, DEFAULT_CALLER, "another-external-id")

    cfn.update_stack(
        StackName="trusting", TemplateBody=body("another-external-id"), Capabilities=["CAPABILITY_IAM"]
    )
    assert _assume(sts, role, "another-external-id")["AccessKeyId"]
    _refused(sts, role, DEFAULT_CALLER)


# -- refused -------------------------------------------------------------------------------------------


def test_a_wrong_or_missing_external_id(iam: Any, sts: Any) -> None:
    role = _role(iam, _statement(ROOT, _needs_id()))
    _refused(sts, role, DEFAULT_CALLER, "someone-elses-id")
    _refused(sts, role, DEFAULT_CALLER, None)


def test_a_principal_of_another_account(sandbox: SandboxServer, iam: Any) -> None:
    foreign, key = _user(_iam_of(sandbox, OTHER_ACCOUNT))
    role = _role(iam, _statement(ROOT, _needs_id()))
    _refused(_sts(sandbox, key), role, foreign)


def test_a_removed_statement_no_longer_lets_in(iam: Any, sts: Any) -> None:
    role = _role(iam, _statement(ROOT, _needs_id()), _statement(ROOT, _needs_id("second-id")))
    assert _assume(sts, role, "second-id")["AccessKeyId"]
    iam.update_assume_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyDocument=_trust(_statement(ROOT, _needs_id()))
    )
    _refused(sts, role, DEFAULT_CALLER, "second-id")
    assert _assume(sts, role)["AccessKeyId"]


def test_a_role_that_does_not_exist(sts: Any) -> None:
    _refused(sts, f"arn:aws:iam::{ACCOUNT}:role/no-such-role", DEFAULT_CALLER)
    _refused(sts, f"arn:aws:iam::{OTHER_ACCOUNT}:role/no-such-role", DEFAULT_CALLER)


def test_a_role_is_looked_up_in_its_own_account(sandbox: SandboxServer, iam: Any, sts: Any) -> None:
    foreign, key = _user(_iam_of(sandbox, OTHER_ACCOUNT))
    role = _role(iam, _statement("*"))
    # The same name in the caller's account is another role, which does not exist there.
    _refused(_sts(sandbox, key), role.replace(ACCOUNT, OTHER_ACCOUNT), foreign)
    assert _assume(_sts(sandbox, key), role)["AccessKeyId"]


def test_an_explicit_deny_beats_an_allow(iam: Any, sts: Any) -> None:
    role = _role(iam, _statement(ROOT, _needs_id()), _statement({"AWS": "*"}, effect="Deny", action="sts:*"))
    _refused(sts, role, DEFAULT_CALLER)


def test_a_service_trust_lets_no_user_in(iam: Any, sts: Any) -> None:
    role = _role(iam, _statement({"Service": "ec2.amazonaws.com"}))
    _refused(sts, role, DEFAULT_CALLER, None)


# -- conditions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "external_id", "allowed"),
    [
        pytest.param({"StringLike": {"sts:ExternalId": "cld-*"}}, EXTERNAL_ID, True, id="like"),
        pytest.param({"StringLike": {"sts:ExternalId": "cld-*"}}, None, False, id="like-missing-key"),
        pytest.param(
            {"StringEquals": {"sts:ExternalId": ["other-id", EXTERNAL_ID]}},
            EXTERNAL_ID,
            True,
            id="equals-any-of",
        ),
        pytest.param(
            {"StringEqualsIgnoreCase": {"sts:externalid": EXTERNAL_ID.upper()}},
            EXTERNAL_ID,
            True,
            id="ignore-case",
        ),
        pytest.param(
            {"StringNotEquals": {"sts:ExternalId": "banned-id"}}, None, True, id="not-equals-missing-key"
        ),
        pytest.param(
            {"StringNotEquals": {"sts:ExternalId": "banned-id"}}, "banned-id", False, id="not-equals"
        ),
        pytest.param(
            {"StringNotLike": {"sts:ExternalId": ["ban*", "x*"]}}, "xylophone", False, id="not-like-any-of"
        ),
        pytest.param(
            {"StringEqualsIfExists": {"sts:ExternalId": EXTERNAL_ID}}, None, True, id="if-exists-missing-key"
        ),
        pytest.param(
            {"StringEqualsIfExists": {"sts:ExternalId": EXTERNAL_ID}}, "other-id", False, id="if-exists-wrong"
        ),
        pytest.param({"Null": {"sts:ExternalId": "false"}}, None, False, id="null-false-missing"),
        pytest.param({"Null": {"sts:ExternalId": "true"}}, None, True, id="null-true-missing"),
        pytest.param(
            {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "sts:RoleSessionName": "session-1"}},
            None,
            True,
            id="principal-account-and-session-name",
        ),
        pytest.param({"StringEquals": {"aws:PrincipalArn": DEFAULT_CALLER}}, None, True, id="principal-arn"),
        pytest.param(
            {"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}},
            None,
            False,
            id="principal-account-other",
        ),
        pytest.param(
            {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, None, False, id="unknown-operator"
        ),  # not evaluated: refused
        pytest.param(
            {"StringEquals": {"aws:SourceIp": "10.0.0.1"}}, None, False, id="unknown-key"
        ),  # not evaluated: refused
        pytest.param(
            {"ForAnyValue:StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            EXTERNAL_ID,
            False,
            id="set-operator",
        ),
    ],
)
def test_conditions(
    iam: Any, sts: Any, condition: dict[str, Any], external_id: str | None, allowed: bool
) -> None:
    role = _role(iam, _statement(ROOT, condition))
    if allowed:
        assert _assume(sts, role, external_id)["AccessKeyId"]
    else:
        _refused(sts, role, DEFAULT_CALLER, external_id)


def test_a_deny_with_a_condition_it_cannot_evaluate_refuses(iam: Any, sts: Any) -> None:
    deny = _statement("*", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny")
    role = _role(iam, _statement(ROOT, _needs_id()), deny)
    _refused(sts, role, DEFAULT_CALLER)


def test_a_deny_whose_condition_does_not_hold_does_not_refuse(iam: Any, sts: Any) -> None:
    deny = _statement("*", {"StringNotEquals": {"sts:ExternalId": EXTERNAL_ID}}, effect="Deny")
    role = _role(iam, _statement(ROOT), deny)
    assert _assume(sts, role)["AccessKeyId"]
    _refused(sts, role, DEFAULT_CALLER, "other-id")


# -- IAM's delay and IAM enforcement -------------------------------------------------------------------


def test_a_trust_change_is_honoured_only_once_iam_shows_it(
    sandbox: SandboxServer, iam: Any, sts: Any
) -> None:
    role = _role(iam, _statement(ROOT, _needs_id("old-id")))
    sandbox.set_iam_delay(800)
    iam.update_assume_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyDocument=_trust(_statement(ROOT, _needs_id("new-id")))
    )
    changed = time.monotonic()
    assert _assume(sts, role, "old-id")["AccessKeyId"]
    _refused(sts, role, DEFAULT_CALLER, "new-id")
    assert time.monotonic() - changed < 0.8, "the sandbox was too slow to see the delay"

    time.sleep(max(0.0, changed + 0.9 - time.monotonic()))
    assert _assume(sts, role, "new-id")["AccessKeyId"]
    _refused(sts, role, DEFAULT_CALLER, "old-id")


def test_with_iam_enforced_the_trust_and_the_roles_policies_both_count(
    sandbox: SandboxServer, iam: Any
) -> None:
    caller, key = _user(iam)
    allow_assume = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    iam.put_user_policy(
        UserName=caller.rsplit("/", 1)[1],
        PolicyName="assume",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_assume]}),
    )
    role = _role(iam, _statement(ROOT, _needs_id()))
    iam.put_role_policy(
        RoleName=role.rsplit("/", 1)[1],
        PolicyName="read-iam",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
            }
        ),
    )
    enforce_iam(sandbox, True)
    try:
        user_sts = _sts(sandbox, key)
        _refused(user_sts, role, caller, "wrong-id")
        credentials = _assume(user_sts, role)
        session = boto3.client(
            "iam",
            region_name=REGION,
            endpoint_url=sandbox.url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(retries={"max_attempts": 1}),
        )
        assert session.list_roles()["Roles"]
        with pytest.raises(ClientError) as denied:
            session.list_users()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        enforce_iam(sandbox, False)
