"""IAM-1..11: the two roles, their trust, their permissions (wildcard- and Deny-aware) and live access."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from cloudplane.aws import policies
from cloudplane.aws.errors import error_code, error_message, is_access_denied, is_transient
from cloudplane.revocation import access_revoked, what_to_do
from cloudplane.verify.context import VerifyContext, role_name
from cloudplane.verify.iam_eval import (
    Decision,
    PolicySet,
    Statement,
    describe_condition,
    principal_matches,
    statements_of,
)
from cloudplane.verify.outcome import Outcome, fail, note, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "iam roles"
EC2_SERVICE = "ec2.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"

# CloudSpec.options key set (True) by a flow that changed the control-plane role's trust policy moments before
# verifying. AWS may refuse AssumeRole for a few seconds after such a change, so IAM-11 then retries a refusal
# for up to ASSUME_RETRY_SECONDS; otherwise a refusal is a verdict at once.
TRUST_JUST_CHANGED = "trust_policy_just_changed"
ASSUME_RETRY_SECONDS = 15.0
_ASSUME_PAUSES = (0.25, 0.5, 1.0, 2.0)


def _account_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def _roles(ctx: VerifyContext) -> list[tuple[str, str | None]]:
    return [
        ("control-plane role", ctx.res.controlplane_role_arn),
        ("instance role", ctx.res.instance_role_arn),
    ]


def _cp_arn(ctx: VerifyContext) -> str:
    arn = require(ctx.res.controlplane_role_arn)
    require(ctx.role(arn))
    return arn


def _instance_arn(ctx: VerifyContext) -> str:
    arn = require(ctx.res.instance_role_arn)
    require(ctx.role(arn))
    return arn


def _trust(ctx: VerifyContext, arn: str) -> list[Statement]:
    return statements_of(ctx.role(arn)["AssumeRolePolicyDocument"], "trust policy")  # type: ignore[index]


def principal(ctx: VerifyContext) -> str:
    """The principal the control-plane role must trust; by default the caller's own account."""
    return ctx.spec.controlplane_principal or f"arn:aws:iam::{ctx.account_id()}:root"


def _labels(statements: list[Statement]) -> str:
    return "; ".join(sorted({s.label for s in statements}))


@check(
    "IAM-1",
    GROUP,
    Severity.ERROR,
    reads=(
        VerifyContext.vpc,
        VerifyContext.account_id,
        VerifyContext.controlplane_role,
        VerifyContext.instance_role,
    ),
)
def roles_exist(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc = ctx.vpc() if ctx.res.vpc_id else None
    account = (vpc or {}).get("OwnerId") or ctx.account_id()
    bad = False
    for label, arn in _roles(ctx):
        if not arn:
            bad = True
            yield fail(
                f"The cloud has no {label} recorded.",
                remediation=f"Add the {label} ARN to the cloud's resources.",
            )
        elif ctx.role(arn) is None:
            bad = True
            yield fail(f"The {label} {arn} does not exist.", arn, _recreate_role(ctx, arn))
        elif _account_of_arn(arn) != account:
            bad = True
            yield fail(
                f"The {label} {arn} is in account {_account_of_arn(arn)}, but the VPC is in account {account}.",
                arn,
                f"Use a role of account {account}.",
            )
    if not bad:
        yield ok(f"Both roles exist in account {account}.", ctx.res.controlplane_role_arn)


def _recreate_role(ctx: VerifyContext, arn: str) -> str:
    if ctx.spec.is_managed:
        return (
            f"Create role {role_name(arn)} again (re-running `cloudplane cloud setup` or the stack update "
            "restores it), or point the cloud at an existing role."
        )
    return (
        f"Create role {role_name(arn)} again in account {_account_of_arn(arn)} with the trust and "
        "permissions the other IAM checks list, or register the cloud again with an existing role."
    )


def _allowing_for_principal(statements: list[Statement], who: str) -> tuple[list[Statement], list[Statement]]:
    named = [s for s in statements if s.names_principal(who) and s.matches_action(ASSUME_ROLE)]
    return [s for s in named if s.effect == "Allow"], [s for s in named if s.effect == "Deny"]


def _trust_statement_json(who: str, external_id: str | None) -> str:
    doc = policies.controlplane_trust_policy(who, external_id or "<external-id>")
    return json.dumps(doc["Statement"][0])


@check("IAM-2", GROUP, Severity.ERROR, reads=(VerifyContext.controlplane_role, VerifyContext.account_id))
def controlplane_trust(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _cp_arn(ctx)
    who = principal(ctx)
    allows, denies = _allowing_for_principal(_trust(ctx, arn), who)
    fix = (
        f"Edit the trust relationship of role {role_name(arn)} (IAM console > Roles > Trust relationships) "
        f"to contain: {_trust_statement_json(who, ctx.spec.external_id)}"
    )
    if denies:
        yield fail(
            f"The trust policy of {arn} denies {ASSUME_ROLE} to {who} ({_labels(denies)}).",
            arn,
            "Remove the Deny statement. " + fix,
        )
    elif not allows:
        yield fail(f"The trust policy of {arn} does not let {who} call {ASSUME_ROLE}.", arn, fix)
    else:
        yield ok(f"Role {arn} trusts {who} for {ASSUME_ROLE}.", arn)


def _external_ids(condition: dict[str, Any]) -> list[str] | None:
    keys = condition.get("StringEquals") or {}
    for key, value in keys.items():
        if key.lower() == "sts:externalid":
            return [str(v) for v in (value if isinstance(value, list) else [value])]
    return None


@check("IAM-3", GROUP, Severity.ERROR, reads=(VerifyContext.controlplane_role, VerifyContext.account_id))
def controlplane_external_id(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _cp_arn(ctx)
    who = principal(ctx)
    expected = ctx.spec.external_id
    allows, _ = _allowing_for_principal(_trust(ctx, arn), who)
    if not allows:
        return  # IAM-2 says the principal is not trusted at all
    if not expected:
        yield fail(
            f"The cloud has no External ID recorded, so the trust of {arn} cannot be tied to it.",
            arn,
            "Register the cloud again so that it gets an External ID, and put it in the trust policy.",
        )
        return
    bad = False
    for statement in allows:
        values = _external_ids(statement.condition)
        if values is None:
            problem = "does not require sts:ExternalId (StringEquals)"
        elif set(values) != {expected}:
            problem = f"requires sts:ExternalId to be one of {values}, not only this cloud's"
        else:
            continue
        bad = True
        yield fail(
            f"The trust policy of {arn} ({statement.label}) {problem}; any party who knows the role ARN "
            "could use the control plane to act in this account (confused deputy).",
            arn,
            f'Add the condition {{"StringEquals": {{"sts:ExternalId": "{expected}"}}}} to that '
            "statement of the role's trust relationship.",
        )
    if not bad:
        yield ok(f"Every statement trusting {who} on {arn} requires this cloud's External ID.", arn)


def _requirements(statements: list[dict[str, Any]]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """(action, resource or None for any, the condition the requirement itself carries)."""
    for statement in statements:
        actions = statement["Action"]
        resources = statement.get("Resource", "*")
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                yield action, None if resource == "*" else resource, statement.get("Condition") or {}


def _listing(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _scoped_elsewhere(policy: PolicySet, decisions: list[Decision]) -> str:
    """For requirements on one resource: where the role's Allow statements grant the action instead."""
    notes = []
    for decision in decisions:
        if decision.resource is None:
            continue
        others = policy.allowed_resources(decision.action)
        if others:
            notes.append(f"{decision.action} is allowed only on {', '.join(others)}")
    return f" ({'; '.join(notes)})" if notes else ""


def _judge(
    policy: PolicySet,
    arn: str,
    requirements: list[tuple[str, str | None, dict[str, Any]]],
    what: str,
    hint: str = "",
) -> Iterator[Outcome]:
    """hint: where the documented grant comes from, appended to the remediation of missing actions."""
    decisions = [policy.decide(a, r, c) for a, r, c in requirements]
    missing = [d for d in decisions if not d.granted_by]
    denied = [d for d in decisions if d.granted_by and d.denied_by]
    if missing:
        subjects = [_subject(d) for d in missing]
        yield fail(
            f"Role {arn} is not allowed {what}: {', '.join(subjects)}{_scoped_elsewhere(policy, missing)}.",
            arn,
            f"Allow {_listing(subjects)} in a policy of role {role_name(arn)}."
            + (f" {hint}" if hint else ""),
        )
    if denied:
        listed = ", ".join(f"{_subject(d)} (denied by {_labels(d.denied_by)})" for d in denied)
        blockers = _labels([s for d in denied for s in d.denied_by])
        yield fail(
            f"Role {arn} has an explicit Deny on actions it needs {what}: {listed}.",
            arn,
            f"Remove or narrow the Deny of {_listing([_subject(d) for d in denied])} in {blockers}; an "
            "explicit Deny wins over any Allow.",
        )
    yield from _notes(arn, decisions)
    if not missing and not denied:
        yield ok(f"Role {arn} allows all {len(decisions)} actions {what}.", arn)


def _subject(decision: Decision) -> str:
    return decision.action if decision.resource is None else f"{decision.action} on {decision.resource}"


def _notes(arn: str, decisions: list[Decision]) -> Iterator[Outcome]:
    conditional = {
        (s.label, describe_condition(s.condition)): s for d in decisions if d.allowed for s in d.conditional
    }
    if conditional:
        listed = "; ".join(f"{label}: {cond}" for label, cond in sorted(conditional))
        yield note(
            f"Role {arn}: these conditions could not be evaluated and were assumed to hold: {listed}.",
            arn,
            "Check that the conditions hold for the control plane's requests.",
        )
    partial = {s.label for d in decisions if d.allowed for s in d.partially_denied_by}
    if partial:
        yield note(
            f"Role {arn}: some resources are excluded by Deny statements ({'; '.join(sorted(partial))}).",
            arn,
        )


def _policy_hint(arn: str, policy_name: str) -> str:
    return (
        f"The documented policy {policy_name} grants them all: aws iam put-role-policy --role-name "
        f"{role_name(arn)} --policy-name {policy_name} --policy-document file://policy.json"
    )


@check(
    "IAM-4",
    GROUP,
    Severity.ERROR,
    reads=(VerifyContext.controlplane_role, VerifyContext.controlplane_policies),
)
def controlplane_steady_state(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _cp_arn(ctx)
    yield from _judge(
        ctx.role_policies(arn),
        arn,
        list(_requirements(policies.steady_state_statements())),
        "to run clusters",
        _policy_hint(arn, policies.STEADY_STATE_POLICY_NAME),
    )


@check(
    "IAM-5",
    GROUP,
    Severity.WARNING,
    reads=(VerifyContext.controlplane_role, VerifyContext.controlplane_policies),
)
def controlplane_services(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _cp_arn(ctx)
    yield from _judge(
        ctx.role_policies(arn),
        arn,
        list(_requirements(policies.service_steady_state_statements())),
        "for services (load balancers, certificates, stacks)",
        _policy_hint(arn, policies.SERVICE_STEADY_STATE_POLICY_NAME),
    )


@check(
    "IAM-6",
    GROUP,
    Severity.ERROR,
    reads=(VerifyContext.controlplane_role, VerifyContext.controlplane_policies),
)
def controlplane_pass_role(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _cp_arn(ctx)
    instance_arn = require(ctx.res.instance_role_arn)
    yield from _judge(
        ctx.role_policies(arn),
        arn,
        [("iam:PassRole", instance_arn, {})],
        "to hand the instance role to instances",
    )


@check("IAM-7", GROUP, Severity.ERROR, reads=(VerifyContext.instance_role,))
def instance_trust(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _instance_arn(ctx)
    relevant = [s for s in _trust(ctx, arn) if s.names_service(EC2_SERVICE)]
    decision = PolicySet(relevant).decide(ASSUME_ROLE)
    if decision.allowed:
        yield ok(f"Role {arn} trusts {EC2_SERVICE}.", arn)
    else:
        yield fail(
            f"The trust policy of {arn} does not let {EC2_SERVICE} assume it"
            + (f" (denied by {_labels(decision.denied_by)})" if decision.denied_by else "")
            + "; instances cannot use the role.",
            arn,
            f"Edit the trust relationship of role {role_name(arn)} to contain: "
            f"{json.dumps(policies.instance_trust_policy()['Statement'][0])}",
        )


@check(
    "IAM-8", GROUP, Severity.ERROR, reads=(VerifyContext.instance_role, VerifyContext.instance_role_profile)
)
def instance_profile(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _instance_arn(ctx)
    name = role_name(arn)
    profile = ctx.instance_profile(name)
    if profile is None:
        yield fail(
            f"There is no instance profile named {name} for role {arn}.",
            arn,
            f"aws iam create-instance-profile --instance-profile-name {name} && aws iam "
            f"add-role-to-instance-profile --instance-profile-name {name} --role-name {name}",
        )
    elif not any(r.get("Arn") == arn or r.get("RoleName") == name for r in profile.get("Roles", [])):
        yield fail(
            f"Instance profile {profile.get('Arn', name)} does not hold role {arn}.",
            arn,
            f"aws iam add-role-to-instance-profile --instance-profile-name {name} --role-name {name}",
        )
    else:
        yield ok(f"Instance profile {profile.get('Arn', name)} holds role {arn}.", arn)


def _with_resource_policy(ctx: VerifyContext, arn: str, statements: list[Statement]) -> PolicySet:
    """The role's own policies plus the resource-policy statements that name the role."""
    combined = PolicySet(ctx.role_policies(arn).statements)
    combined.extend(s for s in statements if s.names_principal(arn))
    return combined


@check(
    "IAM-9",
    GROUP,
    Severity.ERROR,
    reads=(
        VerifyContext.instance_role,
        VerifyContext.instance_policies,
        VerifyContext.bucket_region,
        VerifyContext.bucket_policy_statements,
    ),
)
def instance_bucket_access(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = _instance_arn(ctx)
    bucket = require(ctx.res.s3_bucket_id)
    require(ctx.bucket_region())
    bucket_arn = f"arn:{_partition(arn)}:s3:::{bucket}"
    requirements = [("s3:ListBucket", bucket_arn, {})] + [
        (action, f"{bucket_arn}/*", {}) for action in policies.BUCKET_OBJECT_ACTIONS
    ]
    yield from _judge(
        _with_resource_policy(ctx, arn, ctx.bucket_policy_statements()),
        arn,
        requirements,
        f"on bucket {bucket}",
        f"(A statement of the bucket policy of {bucket} naming {arn} as principal works as well.)",
    )


def _kms_key_arn(ctx: VerifyContext, key: str, partition: str) -> str:
    if key.startswith("arn:"):
        return key
    kind = "" if key.startswith("alias/") else "key/"
    return f"arn:{partition}:kms:{ctx.aws.region}:{ctx.account_id()}:{kind}{key}"


@check(
    "IAM-10",
    GROUP,
    Severity.WARNING,
    reads=(
        VerifyContext.bucket_region,
        VerifyContext.bucket_encryption_rules,
        VerifyContext.controlplane_role,
        VerifyContext.instance_role,
    ),
)
def bucket_kms_access(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = require(ctx.res.s3_bucket_id)
    require(ctx.bucket_region())
    defaults = [r.get("ApplyServerSideEncryptionByDefault", {}) for r in ctx.bucket_encryption_rules()]
    kms = next((d for d in defaults if str(d.get("SSEAlgorithm", "")).startswith("aws:kms")), None)
    if kms is None:
        yield ok(f"Bucket {bucket} does not use SSE-KMS; no key permissions are needed.", bucket)
        return
    key = kms.get("KMSMasterKeyID")
    if not key:
        yield ok(f"Bucket {bucket} uses the AWS managed key aws/s3, usable by the account's roles.", bucket)
        return
    roles = [(label, arn) for label, arn in _roles(ctx) if arn and ctx.role(arn) is not None]
    key_arn = _kms_key_arn(ctx, key, _partition(roles[0][1]) if roles else "aws")
    key_policy = [] if "alias/" in key_arn else ctx.kms_key_policy(key_arn)
    bad = False
    for label, arn in roles:
        decisions = [
            _with_resource_policy(ctx, arn, key_policy).decide(action, key_arn)
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ]
        refused = [d.action for d in decisions if not d.allowed]
        if refused:
            bad = True
            yield fail(
                f"The {label} {arn} may not {', '.join(refused)} on key {key_arn} of bucket {bucket}.",
                arn,
                f"Allow kms:GenerateDataKey and kms:Decrypt on {key_arn} in a policy of role "
                f"{role_name(arn)} (or in the key policy).",
            )
    if not bad:
        yield ok(f"Both roles may use key {key_arn} of bucket {bucket}.", bucket)


def _assume(ctx: VerifyContext, arn: str, external_id: str, patient: bool) -> dict[str, Any]:
    """AssumeRole's answer. `patient`: retry AccessDenied for a short while (a fresh trust change)."""
    sts = ctx.aws.client("sts")
    deadline = time.monotonic() + (ASSUME_RETRY_SECONDS if patient else 0.0)
    attempt = 0
    while True:
        try:
            return dict(
                sts.assume_role(
                    RoleArn=arn,
                    RoleSessionName="cloudplane-verify",
                    ExternalId=external_id,
                    DurationSeconds=900,
                )
            )
        except Exception as exc:
            remaining = deadline - time.monotonic()
            if not is_access_denied(exc) or remaining <= 0:
                raise
        time.sleep(min(_ASSUME_PAUSES[min(attempt, len(_ASSUME_PAUSES) - 1)], remaining))
        attempt += 1


def _trusts_caller(ctx: VerifyContext) -> bool:
    """Whether the role trusts the caller's own account, so that assuming it can be tried from here."""
    return principal_matches(principal(ctx), f"arn:aws:iam::{ctx.account_id()}:root")


def assumed_role(ctx: VerifyContext) -> dict[str, Any] | None:
    """The answer of assuming the control-plane role with the cloud's External ID, asked once per run; None
    when IAM-11 does not try it (no role or External ID recorded, no such role, a principal not the caller's).
    A read the engine starts up front: it waits for the role and the account id only."""
    arn, external_id = ctx.res.controlplane_role_arn, ctx.spec.external_id
    if not arn or not external_id or ctx.role(arn) is None or not _trusts_caller(ctx):
        return None
    patient = bool(ctx.spec.options.get(TRUST_JUST_CHANGED))
    return ctx.memo(("assume-role", arn), lambda: _assume(ctx, arn, external_id, patient))


@check(
    "IAM-11",
    GROUP,
    Severity.ERROR,
    reads=(VerifyContext.controlplane_role, VerifyContext.account_id, assumed_role),
)
def controlplane_assume(ctx: VerifyContext) -> Iterator[Outcome]:
    arn = require(ctx.res.controlplane_role_arn)
    require(ctx.spec.external_id)
    if ctx.role(arn) is None:
        # A deleted role is the plainest way to take cloudplane's access away: say it as such.
        yield fail(
            access_revoked(ctx.spec.name, arn, "the role does not exist") + ".",
            arn,
            what_to_do(ctx.spec.name),
        )
        return
    who = principal(ctx)
    caller = ctx.account_id()
    if not _trusts_caller(ctx):
        yield note(
            f"Role {arn} trusts {who}, not your account {caller}, so assuming it cannot be tried from here; "
            "the control plane tries it when it next acts on the cloud.",
            arn,
        )
        return
    patient = bool(ctx.spec.options.get(TRUST_JUST_CHANGED))
    try:
        answer = assumed_role(ctx)
    except Exception as exc:
        if is_transient(exc):
            raise  # AWS did not answer: not a verdict on the trust policy
        waited = (
            f" (still refused {ASSUME_RETRY_SECONDS:.0f} s after the trust policy was changed)"
            if patient and is_access_denied(exc)
            else ""
        )
        if is_access_denied(exc) or error_code(exc) == "NoSuchEntity":
            yield fail(
                access_revoked(ctx.spec.name, arn, error_message(exc) + waited) + ".",
                arn,
                what_to_do(ctx.spec.name)
                + " An SCP or a permission boundary that blocks sts:AssumeRole has the same effect.",
            )
            return
        yield fail(
            f"Role {arn} could not be assumed with this cloud's External ID: {error_message(exc)}{waited}.",
            arn,
            f"Check the trust relationship of {role_name(arn)} (IAM-2, IAM-3) and any SCP or permission "
            "boundary that blocks sts:AssumeRole.",
        )
        return
    session = require(answer).get("AssumedRoleUser", {}).get("Arn", "a session of the role")
    yield ok(f"Role {arn} was assumed with the External ID, as {session}.", arn)
