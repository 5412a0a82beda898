"""Running the static verification of a stored cloud and printing it as it goes."""

from __future__ import annotations

from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.console import Console
from cloudplane.verify.report import Report

GROUP_TITLES = {
    "vpc": "VPC",
    "subnets": "Subnets",
    "security groups": "Security groups",
    "iam roles": "IAM roles",
    "s3": "S3 bucket",
    "efs": "EFS",
    "memorydb": "MemoryDB cluster",
    "cloudformation stack": "CloudFormation stack",
    "quotas": "Service quotas",
}


def _show_progress(console: Console, event: Any) -> None:
    title = GROUP_TITLES.get(event.group, event.group)
    ids = ", ".join(event.resource_ids)
    subject = f"{title} {ids}".strip()
    if event.status == "started":
        console.info(f"Verifying {title} ...")
    elif event.status == "passed":
        console.info(f"{subject} verification succeeded.")
    elif event.status == "not checked":
        console.warn(f"{subject} could not be fully checked (see below).")
    else:
        console.warn(f"{subject} verification failed.")


def run_verification(
    cloud: dict[str, Any], *, console: Console, strict: bool = False, aws: AwsClients | None = None
) -> Report:
    spec = CloudSpec.from_record(cloud)
    aws = aws or AwsClients(cloud["region"])
    aws.caller_identity(meanwhile=services_read(spec))
    from cloudplane.verify import verify_cloud

    return verify_cloud(spec, aws, strict=strict, on_progress=lambda event: _show_progress(console, event))


def services_read(spec: CloudSpec) -> list[str]:
    """The services a verification of `spec` reads, the most used first (their clients are built while the
    first call travels)."""
    res = spec.resources
    wanted = {
        "ec2": True,
        "iam": True,
        "efs": bool(res.efs_id),
        "s3": True,
        "service-quotas": True,
        "cloudformation": bool(res.cloudformation_stack_id),
        "memorydb": bool(res.memorydb_cluster_id),
    }
    return [service for service, needed in wanted.items() if needed]


def why_not_passed(report: Report, failing: str) -> str:
    """Why a flow that needs a passing verification stops: failed rules, or checks that could not run."""
    if any(f.fails(report.strict) for f in report.findings):
        return failing
    from cloudplane.verify.engine import denied_permission

    unchecked = report.not_checked()
    rules = ", ".join(sorted({f.check for f in unchecked}))
    denied = sorted({p for p in map(denied_permission, unchecked) if p})
    if denied:
        return (
            f"the verification could not finish: your AWS identity lacks the permission {', '.join(denied)} "
            f"({rules} could not run; `cloudplane cloud policy --for COMMAND` prints all that a command needs)"
        )
    return (
        f"the verification could not finish: {_plural(len(unchecked), 'check')} could not run ({rules}; see "
        "above), so the resources are neither known good nor bad; run the same command again"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _open_notes(report: Report, group: str) -> str:
    """' (1 warning, 2 notes)' for the findings of a group that did not pass but do not fail it."""
    open_ = [
        f
        for f in report.findings
        if f.resource == group and f.checked and not f.passed and not f.fails(report.strict)
    ]
    warnings = sum(1 for f in open_ if f.severity == "warning")
    notes = len(open_) - warnings
    parts = [_plural(n, word) for n, word in ((warnings, "warning"), (notes, "note")) if n]
    return f" ({', '.join(parts)})" if parts else ""


def render_report(report: Report, console: Console) -> None:
    """The per-resource summary, then every finding that did not pass, with how to fix it."""
    name = report.cloud.get("name", "")
    lines = [f"Verification result for cloud {name} ({report.cloud.get('id', '')}):"]
    for group, status in report.group_statuses().items():
        lines.append(f"  {group}: {status}{_open_notes(report, group)}")
    open_findings = [f for f in report.findings if not f.passed and f.checked]
    not_checked = report.not_checked()
    if open_findings:
        lines.append("Findings:")
        for finding in open_findings:
            where = f" {finding.resource_id}" if finding.resource_id else ""
            lines.append(f"  [{finding.severity}] {finding.check}{where}: {finding.message}")
            if finding.remediation:
                lines.append(f"      fix: {finding.remediation}")
    if not_checked:
        lines.append("Not checked:")
        for finding in not_checked:
            lines.append(f"  {finding.check}: {finding.message}")
            if finding.remediation:
                lines.append(f"      {finding.remediation}")
    counts = {s: sum(1 for f in open_findings if f.severity == s) for s in ("error", "warning", "info")}
    failed = any(f.fails(report.strict) for f in report.findings)
    verdict = "FAILED" if failed else ("INCOMPLETE" if not_checked else "PASSED")
    mode = " (strict)" if report.strict else ""
    unchecked = f", {len(not_checked)} not checked (run it again)" if not_checked else ""
    lines.append(
        f"Verdict: {verdict}{mode} - {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} note(s), {sum(1 for f in report.findings if f.passed)} check(s) passed{unchecked}"
    )
    console.result("\n".join(lines))
