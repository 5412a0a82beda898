"""IAM-11 really assumes the control-plane role: it passes only while the role's trust policy lets the caller
in with the cloud's External ID, as the sandbox (like AWS) decides."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from cloudplane.aws import policies
from cloudplane.verify.checks import iam as iam_checks
from cloudplane.verify.context import role_name
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes
from tests.verify.builders import PRINCIPAL, BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def _trust(iam: Any, role_arn: str, principal: str, external_id: str) -> None:
    document = policies.controlplane_trust_policy(principal, external_id)
    iam.update_assume_role_policy(RoleName=role_name(role_arn), PolicyDocument=json.dumps(document))


def _refused(report: Report, built: BuiltCloud) -> None:
    (finding,) = assert_fails(report, "IAM-11", Severity.ERROR, built.cp_role, "AccessDenied")
    assert finding.resource_id == built.cp_role
    assert f"not authorized to perform: sts:AssumeRole on resource: {built.cp_role}" in finding.message


def test_iam11_fails_once_the_trust_wants_another_external_id(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    assert_passes(verify(built.spec), "IAM-11")
    _trust(shared_aws("iam"), built.cp_role, PRINCIPAL, "cld_someone-elses-id")
    _refused(verify(built.spec), built)


def test_iam11_fails_once_the_trust_names_another_account(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    assert_passes(verify(built.spec), "IAM-11")
    _trust(shared_aws("iam"), built.cp_role, "arn:aws:iam::999999999999:root", str(built.spec.external_id))
    report = verify(built.spec)
    _refused(report, built)
    assert not report.passed


def test_iam11_after_a_fix_waits_for_iam_to_show_it(
    make_cloud: Make, verify: Verify, shared_aws: Any, sandbox: Any
) -> None:
    built = make_cloud(efs=False)
    iam = shared_aws("iam")
    _trust(iam, built.cp_role, PRINCIPAL, "cld_someone-elses-id")
    sandbox.set_iam_delay(4000)
    try:
        _trust(iam, built.cp_role, PRINCIPAL, str(built.spec.external_id))  # the fix, not yet visible
        fixed = time.monotonic()
        _refused(verify(built.spec), built)  # a normal verification takes the first answer
        assert time.monotonic() - fixed < 4.0, "the verification outlasted the delay it was meant to meet"
        patient = built.with_spec(options={**built.spec.options, iam_checks.TRUST_JUST_CHANGED: True})
        assert_passes(verify(patient), "IAM-11")
        assert time.monotonic() - fixed >= 4.0
    finally:
        sandbox.set_iam_delay(0)


def test_iam11_retry_after_a_trust_change_is_bounded(
    make_cloud: Make, verify: Verify, shared_aws: Any, monkeypatch: Any
) -> None:
    """A trust that never lets the caller in is reported after a short, bounded wait, not retried forever."""
    built = make_cloud(efs=False)
    _trust(shared_aws("iam"), built.cp_role, PRINCIPAL, "cld_someone-elses-id")
    monkeypatch.setattr(iam_checks, "ASSUME_RETRY_SECONDS", 0.6)
    patient = built.with_spec(options={**built.spec.options, iam_checks.TRUST_JUST_CHANGED: True})

    started = time.monotonic()
    report = verify(patient)

    assert time.monotonic() - started < 10
    (finding,) = assert_fails(report, "IAM-11", Severity.ERROR, built.cp_role, "AccessDenied")
    assert "after the trust policy was changed" in finding.message
