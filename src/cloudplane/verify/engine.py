"""Run the applicable checks side by side, their reads started up front, and gather the findings into a report."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from cloudplane.aws.errors import AwsError, Fault, error_message
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Skip
from cloudplane.verify.progress import ProgressEvent
from cloudplane.verify.registry import SETUP, VERIFY, Check, reads_of, select
from cloudplane.verify.report import GROUPS, Finding, Report

ProgressCallback = Callable[[ProgressEvent], None]

# Threads for the reads started up front and the calls they fan out to. Past the number of checks' reads
# (about 30 for a managed cloud) more threads add nothing; fewer would queue reads behind one another.
READ_WORKERS = 48


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


def _status(findings: list[Finding], strict: bool) -> str:
    if any(f.fails(strict) for f in findings):
        return "failed"
    if any(not f.checked for f in findings):
        return "not checked"
    return "passed"


def _run_serially(
    by_group: dict[str, list[Check]], ctx: VerifyContext, strict: bool, on_progress: ProgressCallback | None
) -> list[Finding]:
    """One check after the other, every call in this thread: the reference a concurrent run must equal."""
    findings: list[Finding] = []
    for group, checks in by_group.items():
        resource_ids = group_resource_ids(ctx.spec, group)
        if on_progress:
            on_progress(ProgressEvent(group, "started", resource_ids))
        found = [f for check in checks for f in run_check(check, ctx)]
        if on_progress:
            on_progress(ProgressEvent(group, _status(found, strict), resource_ids))
        findings.extend(found)
    return findings


def _run_concurrently(
    by_group: dict[str, list[Check]], ctx: VerifyContext, strict: bool, on_progress: ProgressCallback | None
) -> list[Finding]:
    """Every check in a thread of its own; a group's progress is told (from this thread) once all of its
    checks are done, in the order groups finish."""
    checks = [c for group_checks in by_group.values() for c in group_checks]
    with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="verify-check") as pool:
        futures = {c.id: pool.submit(run_check, c, ctx) for c in checks}
        if on_progress:
            for group in by_group:
                on_progress(ProgressEvent(group, "started", group_resource_ids(ctx.spec, group)))
        open_groups = dict(by_group)
        running = set(futures.values())
        while open_groups:
            _, running = wait(running, return_when=FIRST_COMPLETED)
            for group, group_checks in list(open_groups.items()):
                if all(futures[c.id].done() for c in group_checks):
                    del open_groups[group]
                    if on_progress:
                        found = [f for c in group_checks for f in futures[c.id].result()]
                        resource_ids = group_resource_ids(ctx.spec, group)
                        on_progress(ProgressEvent(group, _status(found, strict), resource_ids))
    # Collected in GROUPS order, so the report does not depend on which thread finished first.
    return [f for c in checks for f in futures[c.id].result()]


def run(
    spec: CloudSpec,
    aws: AwsClients,
    *,
    phase: str = VERIFY,
    strict: bool = False,
    on_progress: ProgressCallback | None = None,
    serial: bool = False,
) -> Report:
    """serial: every check and call one after the other (else side by side, the reads started up front)."""
    checks = select(spec, phase)
    by_group = {g: [c for c in checks if c.group == g] for g in GROUPS}
    by_group = {g: cs for g, cs in by_group.items() if cs}
    if serial or not checks:
        findings = _run_serially(by_group, VerifyContext(spec, aws), strict, on_progress)
    else:
        with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="verify-read") as reads:
            ctx = VerifyContext(spec, aws, pool=reads)
            ctx.prefetch(reads_of(checks))
            findings = _run_concurrently(by_group, ctx, strict, on_progress)
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
