"""Run the applicable checks, one thread per resource group, and gather their findings into a report."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cloudplane.aws.errors import AwsError, Fault, error_message
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Skip
from cloudplane.verify.progress import ProgressEvent
from cloudplane.verify.registry import SETUP, VERIFY, Check, select
from cloudplane.verify.report import GROUPS, Finding, Report

ProgressCallback = Callable[[ProgressEvent], None]


# How a check refused for a missing permission says what to allow (and how `denied_permission` reads it back).
DENIED_PREFIX = "Allow "
DENIED_SUFFIX = " to the identity running the verification, then run it again."


def denied_permission(finding: Finding) -> str | None:
    """The permission whose refusal left `finding` not checked, if that is why."""
    remediation = finding.remediation or ""
    if finding.checked or not (remediation.startswith(DENIED_PREFIX) and remediation.endswith(DENIED_SUFFIX)):
        return None
    return remediation[len(DENIED_PREFIX) : -len(DENIED_SUFFIX)]


def _not_checked(check: Check, exc: Exception) -> Finding:
    """A check that could not run: neither passed nor failed, and the report says it is incomplete."""
    if isinstance(exc, AwsError):
        what = f"the AWS call {exc.action} failed ({error_message(exc)})"
        if exc.fault is Fault.DENIED:
            remediation = f"{DENIED_PREFIX}{exc.action}{DENIED_SUFFIX}"
        elif exc.transient:
            why = {
                Fault.THROTTLED: "AWS throttled the request through every retry",
                Fault.SERVER: "AWS answered with a server error through every retry",
            }.get(exc.fault, "AWS could not be reached in time")
            remediation = f"{why}; this says nothing about the rule: run the verification again."
        else:
            remediation = "Run the verification again; if it keeps failing, check what AWS said."
    else:
        what = f"an unexpected error occurred ({error_message(exc)})"
        remediation = "Run the verification again; if it keeps failing, report the error."
    return Finding(
        check=check.id,
        resource=check.group,
        resource_id=exc.resource if isinstance(exc, AwsError) else None,
        severity=check.severity,
        passed=False,
        message=f"Not checked: {what}.",
        remediation=remediation,
        checked=False,
    )


def run_check(check: Check, ctx: VerifyContext) -> list[Finding]:
    try:
        return [
            Finding(
                check=check.id,
                resource=check.group,
                resource_id=o.resource_id,
                severity=o.severity or check.severity,
                passed=o.passed,
                message=o.message,
                remediation=o.remediation,
            )
            for o in check.func(ctx)
        ]
    except Skip:
        return []
    except Exception as exc:  # one broken check must not take the run down
        return [_not_checked(check, exc)]


def group_resource_ids(spec: CloudSpec, group: str) -> list[str]:
    res = spec.resources
    ids: dict[str, list[str | None]] = {
        "vpc": [res.vpc_id],
        "subnets": list(res.subnet_ids),
        "security groups": list(res.security_group_ids),
        "iam roles": [res.controlplane_role_arn, res.instance_role_arn],
        "s3": [res.s3_bucket_id],
        "efs": [res.efs_id],
        "memorydb": [res.memorydb_cluster_id],
        "cloudformation stack": [res.cloudformation_stack_id],
    }
    return [i for i in ids.get(group, []) if i]


def _run_group(
    group: str,
    checks: list[Check],
    ctx: VerifyContext,
    strict: bool,
    on_progress: ProgressCallback | None,
) -> list[Finding]:
    resource_ids = group_resource_ids(ctx.spec, group)
    if on_progress:
        on_progress(ProgressEvent(group, "started", resource_ids))
    findings = [f for check in checks for f in run_check(check, ctx)]
    if on_progress:
        if any(f.fails(strict) for f in findings):
            status = "failed"
        elif any(not f.checked for f in findings):
            status = "not checked"
        else:
            status = "passed"
        on_progress(ProgressEvent(group, status, resource_ids))
    return findings


def run(
    spec: CloudSpec,
    aws: AwsClients,
    *,
    phase: str = VERIFY,
    strict: bool = False,
    on_progress: ProgressCallback | None = None,
    max_workers: int | None = None,
) -> Report:
    checks = select(spec, phase)
    by_group = {g: [c for c in checks if c.group == g] for g in GROUPS}
    by_group = {g: cs for g, cs in by_group.items() if cs}
    ctx = VerifyContext(spec, aws)
    findings: list[Finding] = []
    if by_group:
        workers = max_workers or len(by_group)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
            futures = [
                pool.submit(_run_group, group, group_checks, ctx, strict, on_progress)
                for group, group_checks in by_group.items()
            ]
            # Collected in GROUPS order, so the report does not depend on which thread finished first.
            for future in futures:
                findings.extend(future.result())
    return Report(cloud=spec.summary(), findings=findings, strict=strict)


def verify_cloud(
    spec: CloudSpec,
    aws: AwsClients,
    *,
    strict: bool = False,
    on_progress: ProgressCallback | None = None,
) -> Report:
    """Every check that applies to the cloud, grouped by resource; the report holds passed ones too."""
    return run(spec, aws, strict=strict, on_progress=on_progress)


def quota_precheck(aws: AwsClients) -> list[Finding]:
    """Room for one more VPC and internet gateway in the region, checked before setup creates anything."""
    spec = CloudSpec(id="", name="", region=aws.region)
    return run(spec, aws, phase=SETUP).findings
