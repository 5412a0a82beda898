"""IAM-1..11: one scenario per rule, plus wildcard-, Deny- and condition-aware evaluation on real roles."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.verify.context import role_name
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks, failures
from tests.verify.builders import ACCOUNT, BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def _put(iam: Any, role_arn: str, name: str, statements: list[dict[str, Any]]) -> None:
    iam.put_role_policy(
        RoleName=role_name(role_arn),
        PolicyName=name,
        PolicyDocument=json.dumps(policies.document(statements)),
    )


def _trust(iam: Any, role_arn: str, statements: list[dict[str, Any]]) -> None:
    iam.update_assume_role_policy(
        RoleName=role_name(role_arn), PolicyDocument=json.dumps(policies.document(statements))
    )


def _assume(principal: str, condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    statement = {"Effect": effect, "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def test_iam1_missing_role_and_role_in_another_account(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    ghost = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    foreign = built.instance_role.replace(ACCOUNT, "999999999999")
    report = verify(built.with_resources(controlplane_role_arn=ghost, instance_role_arn=foreign))
    found = assert_fails(report, "IAM-1", Severity.ERROR, ghost, foreign)
    assert {f.resource_id for f in found} == {ghost, foreign}
    # The control-plane role's own checks skip quietly instead of failing again.
    assert not any(f.check in {"IAM-2", "IAM-3", "IAM-4"} for f in report.findings)


@pytest.mark.parametrize("breakage", ["other-account", "deny"])
def test_iam2_trust_does_not_let_the_principal_in(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False)
    condition = {"StringEquals": {"sts:ExternalId": built.spec.external_id}}
    if breakage == "other-account":
        statements = [_assume("arn:aws:iam::999999999999:root", condition)]
    else:
        statements = [_assume(built.spec.controlplane_principal, condition), _assume("*", effect="Deny")]
    _trust(shared_aws("iam"), built.cp_role, statements)
    report = verify(built.spec)
    (finding,) = assert_fails(report, "IAM-2", Severity.ERROR, built.cp_role)
    assert str(built.spec.external_id) in str(finding.remediation)


def test_iam2_accepts_the_bare_account_id(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    condition = {"StringEquals": {"sts:ExternalId": built.spec.external_id}}
    _trust(shared_aws("iam"), built.cp_role, [_assume(ACCOUNT, condition)])
    report = verify(built.spec)
    assert_passes(report, "IAM-2")
    assert_passes(report, "IAM-3")


@pytest.mark.parametrize(
    "condition",
    [
        None,
        {"StringEquals": {"sts:ExternalId": "someone-elses-id"}},
        {"StringLike": {"sts:ExternalId": "*"}},
        {"StringEqualsIfExists": {"sts:ExternalId": "EXPECTED"}},
        {"StringEquals": {"sts:ExternalId": ["EXPECTED", "another"]}},
    ],
    ids=["no-condition", "wrong-id", "string-like", "if-exists", "extra-id"],
)
def test_iam3_external_id_not_required(
    make_cloud: Make, verify: Verify, shared_aws: Any, condition: dict[str, Any] | None
) -> None:
    built = make_cloud(efs=False)
    text = json.dumps(condition).replace("EXPECTED", str(built.spec.external_id)) if condition else "null"
    _trust(
        shared_aws("iam"), built.cp_role, [_assume(str(built.spec.controlplane_principal), json.loads(text))]
    )
    report = verify(built.spec)
    (finding,) = assert_fails(report, "IAM-3", Severity.ERROR, built.cp_role)
    assert str(built.spec.external_id) in str(finding.remediation)
    assert_passes(report, "IAM-2")


def test_iam3_every_trusting_statement_must_require_it(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    principal = str(built.spec.controlplane_principal)
    good = _assume(principal, {"StringEquals": {"sts:ExternalId": built.spec.external_id}})
    _trust(shared_aws("iam"), built.cp_role, [good, {**_assume(principal), "Sid": "Loophole"}])
    (finding,) = assert_fails(verify(built.spec), "IAM-3", Severity.ERROR, "Loophole")


def test_iam4_missing_policy_names_the_actions(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("iam").delete_role_policy(
        RoleName=role_name(built.cp_role), PolicyName=policies.STEADY_STATE_POLICY_NAME
    )
    report = verify(built.spec)
    (finding,) = assert_fails(
        report, "IAM-4", Severity.ERROR, built.cp_role, "ec2:RunInstances", "iam:PassRole"
    )
    assert policies.STEADY_STATE_POLICY_NAME in str(finding.remediation)
    assert_fails(report, "IAM-6", Severity.ERROR)


def test_iam4_explicit_deny_names_the_action(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    deny = {"Sid": "NoLaunch", "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}
    _put(shared_aws("iam"), built.cp_role, "Guardrail", [deny])
    report = verify(built.spec)
    (finding,) = assert_fails(report, "IAM-4", Severity.ERROR, "ec2:RunInstances", "Guardrail")
    assert "ec2:StartInstances" not in finding.message
    assert failed_checks(report) == {"IAM-4"}


def test_wildcard_role_passes_steady_state_and_pass_role(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    iam = shared_aws("iam")
    for name in policies.controlplane_inline_policies():
        iam.delete_role_policy(RoleName=role_name(built.cp_role), PolicyName=name)
    wide = [
        {
            "Effect": "Allow",
            "Action": ["ec2:*", "elasticfilesystem:Describe*", "memorydb:Describe*"],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": ["iam:PassRole", "iam:GetInstanceProfile"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:PutRolePolicy"], "Resource": "*"},
    ]
    _put(iam, built.cp_role, "Wide", wide)
    report = verify(built.spec)
    for check in ("IAM-4", "IAM-6"):
        assert_passes(report, check)
    assert_fails(report, "IAM-5", Severity.WARNING, "elasticloadbalancing:CreateLoadBalancer")


def test_attached_managed_policy_counts(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    iam = shared_aws("iam")
    iam.delete_role_policy(RoleName=role_name(built.cp_role), PolicyName=policies.STEADY_STATE_POLICY_NAME)
    arn = iam.create_policy(
        PolicyName=f"{built.cloud_id}-steady",
        PolicyDocument=json.dumps(policies.document(policies.steady_state_statements())),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role_name(built.cp_role), PolicyArn=arn)
    assert_passes(verify(built.spec), "IAM-4")


def test_unevaluated_condition_is_reported_as_info(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    statements = policies.steady_state_statements()
    for statement in statements:
        statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    _put(shared_aws("iam"), built.cp_role, policies.STEADY_STATE_POLICY_NAME, statements)
    report = verify(built.spec)
    notes = [f for f in failures(report, "IAM-4") if f.severity is Severity.INFO]
    assert notes and "aws:RequestedRegion" in notes[0].message
    assert report.passed and not [f for f in failures(report, "IAM-4") if f.severity is Severity.ERROR]


def test_iam5_services_policy_missing(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("iam").delete_role_policy(
        RoleName=role_name(built.cp_role), PolicyName=policies.SERVICE_STEADY_STATE_POLICY_NAME
    )
    report = verify(built.spec)
    assert_fails(report, "IAM-5", Severity.WARNING, built.cp_role, "acm:RequestCertificate")
    assert report.passed and failed_checks(report) == {"IAM-5"}


@pytest.mark.parametrize("breakage", ["scoped-to-another-role", "denied"])
def test_iam6_cannot_pass_the_instance_role(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False)
    statements = policies.steady_state_statements()
    if breakage == "scoped-to-another-role":
        statements[0]["Resource"] = f"arn:aws:iam::{ACCOUNT}:role/some-other-role"
    else:
        statements.append({"Effect": "Deny", "Action": "iam:PassRole", "Resource": built.instance_role})
    _put(shared_aws("iam"), built.cp_role, policies.STEADY_STATE_POLICY_NAME, statements)
    report = verify(built.spec)
    assert_fails(report, "IAM-6", Severity.ERROR, built.cp_role, built.instance_role)
    assert_passes(report, "IAM-4")


def test_iam7_instance_role_trusts_another_service(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    lambda_trust = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    _trust(shared_aws("iam"), built.instance_role, [lambda_trust])
    (finding,) = assert_fails(verify(built.spec), "IAM-7", Severity.ERROR, built.instance_role)
    assert "ec2.amazonaws.com" in str(finding.remediation)


@pytest.mark.parametrize("breakage", ["role-removed", "profile-deleted"])
def test_iam8_instance_profile(make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str) -> None:
    built = make_cloud(efs=False)
    iam = shared_aws("iam")
    name = role_name(built.instance_role)
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
    if breakage == "profile-deleted":
        iam.delete_instance_profile(InstanceProfileName=name)
    (finding,) = assert_fails(verify(built.spec), "IAM-8", Severity.ERROR, built.instance_role)
    assert "add-role-to-instance-profile" in str(finding.remediation)


def test_iam9_bucket_policy_alone_is_enough(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("iam").delete_role_policy(RoleName=role_name(built.instance_role), PolicyName="CloudBucket")
    assert_passes(verify(built.spec), "IAM-9")


@pytest.mark.parametrize("breakage", ["no-grant", "narrow-grant", "bucket-deny"])
def test_iam9_instance_role_cannot_use_the_bucket(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False)
    iam, s3 = shared_aws("iam"), shared_aws("s3")
    bucket_arn = f"arn:aws:s3:::{built.bucket}"
    if breakage == "bucket-deny":
        deny = {
            "Effect": "Deny",
            "Principal": {"AWS": built.instance_role},
            "Action": "s3:DeleteObject",
            "Resource": f"{bucket_arn}/*",
        }
        s3.put_bucket_policy(Bucket=built.bucket, Policy=json.dumps(policies.document([deny])))
        missing = "s3:DeleteObject"
    else:
        s3.delete_bucket_policy(Bucket=built.bucket)
        iam.delete_role_policy(RoleName=role_name(built.instance_role), PolicyName="CloudBucket")
        missing = "s3:ListBucket"
        if breakage == "narrow-grant":
            grant = {"Effect": "Allow", "Action": "s3:*", "Resource": f"{bucket_arn}/logs/*"}
            _put(iam, built.instance_role, "Narrow", [grant])
            missing = "s3:GetObject"
    found = assert_fails(verify(built.spec), "IAM-9", Severity.ERROR, built.instance_role, missing)
    assert all(built.bucket in f.message for f in found)


def test_iam10_kms_bucket_needs_key_permissions(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    key_arn = shared_aws("kms").create_key()["KeyMetadata"]["Arn"]
    shared_aws("s3").put_bucket_encryption(
        Bucket=built.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}
            ]
        },
    )
    report = verify(built.spec)
    found = assert_fails(report, "IAM-10", Severity.WARNING, built.cp_role, built.instance_role, key_arn)
    assert len(found) == 2
    grant = {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": key_arn}
    for role in (built.cp_role, built.instance_role):
        _put(shared_aws("iam"), role, "UseBucketKey", [grant])
    assert_passes(verify(built.spec), "IAM-10")


def test_iam11_assume_role_refused(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    # The principal and the External ID are right (IAM-2, IAM-3), but a further condition lets in only the
    # account's deployer roles: AWS refuses the caller, which only trying AssumeRole shows.
    condition = {
        "StringEquals": {"sts:ExternalId": built.spec.external_id},
        "StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deployer-*"},
    }
    _trust(shared_aws("iam"), built.cp_role, [_assume(str(built.spec.controlplane_principal), condition)])
    report = verify(built.spec)
    assert_fails(report, "IAM-11", Severity.ERROR, built.cp_role, "AccessDenied")
    assert_passes(report, "IAM-2")
    assert_passes(report, "IAM-3")
    assert not report.passed


def test_iam11_principal_of_another_account_is_not_tried(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    server = "arn:aws:iam::999999999999:root"
    condition = {"StringEquals": {"sts:ExternalId": built.spec.external_id}}
    _trust(shared_aws("iam"), built.cp_role, [_assume(server, condition)])
    report = verify(built.with_spec(controlplane_principal=server))
    (finding,) = failures(report, "IAM-11")
    assert finding.severity is Severity.INFO and server in finding.message
    assert report.passed
