"""`cloud update`: bring a managed cloud's stack and cross-account role up to this cloudplane's version.

The stack is changed only through a change set that is shown and confirmed. Statements the customer added
to the role's managed inline policies are copied to `Customer_Drifts_Policy` first, so no permission they
granted is lost while the managed policies are overwritten. A failed update is rolled back by
CloudFormation; the cloud then runs as before and the command says which resource failed and why.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudplane import naming
from cloudplane.aws import policies, regions
from cloudplane.aws.errors import AwsError, Fault
from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import (
    StackState,
    StackWatcher,
    console_url,
    find_stack,
    outputs_of,
    wait_until_settled,
)
from cloudplane.aws.template import (
    ManagedCloudOptions,
    managed_cloud_template,
    memorydb_zone_names,
    stack_parameters,
)
from cloudplane.cloud import MANAGED, CloudSpec
from cloudplane.clouds import stack_repair
from cloudplane.clouds.claims import CloudClaim
from cloudplane.clouds.identity import caller_identity
from cloudplane.clouds.outputs import resources_from_outputs
from cloudplane.clouds.policy_drift import (
    CUSTOMER_DRIFTS_POLICY_NAME,
    ROLE_INLINE_POLICY_LIMIT,
    PolicyDrift,
    find_drift,
    inline_size,
    merged_customer_policy,
)
from cloudplane.console import Console
from cloudplane.errors import InputError, OperationFailed
from cloudplane.verify.iam_eval import parse_document
from cloudplane.verify.report import Report

UPDATE_TIMEOUT = 30 * 60.0
UPDATE_TIMEOUT_WITH_MEMORYDB = 60 * 60.0
CHANGE_SET_TIMEOUT = 300.0
NO_CHANGES = "didn't contain changes"
USABLE_STATES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
MANAGED_POLICY_NAMES = (
    policies.STEADY_STATE_POLICY_NAME,
    policies.SERVICE_STEADY_STATE_POLICY_NAME,
    policies.INITIAL_SETUP_POLICY_NAME,
)
CONTROLPLANE_ROLE = "ControlPlaneRole"


@dataclass(frozen=True)
class UpdateRequest:
    head_node_fault_tolerance: bool = False


@dataclass(frozen=True)
class StackChange:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str | None = None  # True, False, Conditional (Modify only)

    @property
    def verb(self) -> str:
        if self.action == "Modify" and self.replacement == "True":
            return "replace"
        if self.action == "Modify" and self.replacement == "Conditional":
            return "modify (may replace)"
        return self.action.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "replacement": self.replacement,
        }


@dataclass
class UpdateResult:
    cloud: dict[str, Any]
    status: str  # up_to_date, updated
    changes: list[StackChange] = field(default_factory=list)
    kept_statements: int = 0
    restored: list[tuple[str, str]] = field(default_factory=list)
    report: Report | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "status": self.status,
            "stack_changes": [c.to_dict() for c in self.changes],
            "statements_kept_in_customer_drifts_policy": self.kept_statements,
            "restored": [{"policy": p, "what": w} for p, w in self.restored],
            **({"verification": self.report.to_dict()} if self.report else {}),
        }


def refuse_unless_updatable(cloud: dict[str, Any]) -> None:
    """Customer-defined clouds are the customer's to change; unfinished clouds need setup first."""
    name, cloud_id = cloud["name"], cloud["id"]
    if cloud["deployment"] != MANAGED:
        role = ((cloud.get("resources") or {}).get("controlplane_role_arn") or "").rsplit("/", 1)[-1]
        raise InputError(
            f"cloud {name} is customer-defined: cloudplane does not change its resources. To bring its "
            f"cross-account role{' ' + role if role else ''} up to date, apply the policies printed by "
            f"`cloudplane cloud policy --role controlplane --cloud-id {cloud_id}` with "
            "`aws iam put-role-policy`; to use other resources, `cloudplane cloud edit`"
        )
    if cloud["state"] == "deleting":
        raise InputError(
            f"cloud {name} is being deleted: finish that with `cloudplane cloud delete --name {name} --yes`"
        )
    if cloud["state"] != "active":
        raise InputError(
            f"cloud {name} is {cloud['state']}, not active: finish its setup first (re-run `cloudplane cloud "
            f"setup --name {name} ...`) or remove it with `cloudplane cloud delete --name {name} --yes`"
        )


# --- reading what is deployed --------------------------------------------------------------------------


def _template_body(cfn: Any, stack_id: str) -> dict[str, Any]:
    body = cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"]
    if isinstance(body, dict):
        return json.loads(json.dumps(body))
    try:
        return json.loads(body)
    except ValueError:
        raise OperationFailed(
            f"stack {stack_id}'s template is not the JSON cloudplane writes: the stack was changed outside "
            "cloudplane; `cloudplane cloud verify` shows the cloud's state"
        ) from None


def _deployed_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    role = (template.get("Resources") or {}).get(CONTROLPLANE_ROLE) or {}
    found = {}
    for entry in (role.get("Properties") or {}).get("Policies") or []:
        if entry.get("PolicyName") in MANAGED_POLICY_NAMES:
            found[entry["PolicyName"]] = entry.get("PolicyDocument") or {}
    return found


def _live_policies(iam: Any, role: str) -> dict[str, dict[str, Any] | None]:
    names = {
        n
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role)
        for n in page["PolicyNames"]
    }
    found: dict[str, dict[str, Any] | None] = {}
    for name in (*MANAGED_POLICY_NAMES, CUSTOMER_DRIFTS_POLICY_NAME):
        found[name] = (
            parse_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
            if name in names
            else None
        )
    for other in names - set(found):
        found[other] = parse_document(iam.get_role_policy(RoleName=role, PolicyName=other)["PolicyDocument"])
    return found


def _new_template(
    aws: AwsClients, cloud: dict[str, Any], memorydb: bool, console: Console
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    options = cloud.get("options") or {}
    zones = tuple(options.get("availability_zones") or ())
    if not zones:
        raise OperationFailed(
            f"cloud {cloud['name']} has no availability zones on record; it was set up by a cloudplane too old "
            "to update: set up a new cloud"
        )
    memorydb_zones = None
    if memorydb:
        known = [z for z in regions.availability_zones(aws.client("ec2")) if z["name"] in zones]
        memorydb_zones = memorydb_zone_names(cloud["region"], known, console.warn)
    template_options = ManagedCloudOptions(
        cloud_id=cloud["id"],
        external_id=cloud["external_id"],
        controlplane_principal=options["controlplane_principal"],
        availability_zones=zones,
        shared_storage=options.get("shared_storage", "nfs"),
        head_node_fault_tolerance=memorydb,
        memorydb_zones=memorydb_zones,
    )
    # As it comes back from GetTemplate: plain JSON values, so that equal templates compare equal.
    template = json.loads(json.dumps(managed_cloud_template(template_options)))
    return template, stack_parameters(template_options)


def _same_parameters(stack: dict[str, Any], params: list[dict[str, str]]) -> bool:
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    return current == {p["ParameterKey"]: p["ParameterValue"] for p in params}


# --- the change set ------------------------------------------------------------------------------------


def _changes(description: dict[str, Any]) -> list[StackChange]:
    found = []
    for change in description.get("Changes") or []:
        detail = change.get("ResourceChange") or {}
        found.append(
            StackChange(
                detail.get("Action", "?"),
                detail.get("LogicalResourceId", "?"),
                detail.get("ResourceType", "?"),
                detail.get("Replacement"),
            )
        )
    return found


def _create_change_set(
    cfn: Any,
    stack_id: str,
    stack_name: str,
    template: dict[str, Any],
    params: list[dict[str, str]],
    console: Console,
) -> tuple[str | None, list[StackChange]]:
    """The change set's id and changes; (None, []) when CloudFormation finds nothing to change."""
    name = f"cloudplane-update-{secrets.token_hex(4)}"
    created = cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template),
        Parameters=params,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Description="cloudplane cloud update",
    )
    change_set_id = created["Id"]
    try:
        return _wait_for_change_set(cfn, change_set_id, stack_id, name, console)
    except BaseException:
        _discard(cfn, change_set_id, stack_id)
        raise


def _wait_for_change_set(
    cfn: Any, change_set_id: str, stack_id: str, name: str, console: Console
) -> tuple[str | None, list[StackChange]]:
    deadline, delay = time.monotonic() + CHANGE_SET_TIMEOUT, 0.5
    with console.status("Working out the changes to the stack ..."):
        while True:
            described = cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_id)
            status = described.get("Status", "")
            if status == "CREATE_COMPLETE":
                changes = _changes(described)
                for page in _more_pages(cfn, change_set_id, stack_id, described):
                    changes += _changes(page)
                return change_set_id, changes
            if status == "FAILED":
                cfn.delete_change_set(ChangeSetName=change_set_id, StackName=stack_id)
                reason = described.get("StatusReason") or "no reason given"
                if NO_CHANGES in reason:
                    return None, []
                raise OperationFailed(f"CloudFormation refused the update of stack {stack_id}: {reason}")
            if time.monotonic() + delay > deadline:
                raise OperationFailed(
                    f"change set {name} of stack {stack_id} is still {status} after {int(CHANGE_SET_TIMEOUT)} s; "
                    "re-run the command later"
                )
            time.sleep(delay)
            delay = min(2.0, delay * 1.5)


def _more_pages(cfn: Any, change_set_id: str, stack_id: str, first: dict[str, Any]) -> list[dict[str, Any]]:
    pages, token = [], first.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_id, NextToken=token)
        pages.append(page)
        token = page.get("NextToken")
    return pages


# --- the flow ------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    stack: dict[str, Any]
    role: str
    live: dict[str, dict[str, Any] | None]
    drift: PolicyDrift
    drifts_policy: dict[str, Any] | None  # Customer_Drifts_Policy to put, None: unchanged
    reput: list[str]  # managed policies that differ from this version's
    template: dict[str, Any]
    params: list[dict[str, str]]
    template_changed: bool
    add_memorydb: bool
    missing: list[str] = field(default_factory=list)  # logical ids deleted outside CloudFormation
    repair_template: dict[str, Any] | None = None  # the stack without them and what refers to them

    def templates(self) -> list[dict[str, Any]]:
        """The templates to apply, in order."""
        if self.repair_template is not None:
            return [self.repair_template, self.template]
        return [self.template] if self.template_changed else []


def _settle_running_update(aws: AwsClients, console: Console, stack: dict[str, Any]) -> dict[str, Any]:
    """A stack update already under way (an earlier run that was interrupted) is followed to its end."""
    status = stack["StackStatus"]
    if status.startswith("UPDATE") and status.endswith("_IN_PROGRESS"):
        console.info(f"An update of stack {stack['StackName']} is under way ({status}); following it ...")
        watcher = StackWatcher(aws.client("cloudformation"), stack["StackId"], 0, ("UPDATE_COMPLETE",))
        with console.status(f"Stack {stack['StackName']}: {status}") as line:
            wait_until_settled(
                watcher,
                on_progress=lambda s: line.update(f"Stack {stack['StackName']}: {s.status}"),
                timeout=UPDATE_TIMEOUT,
            )
        stack = find_stack(aws.client("cloudformation"), stack["StackId"]) or stack
    status = stack["StackStatus"]
    if status not in USABLE_STATES:
        raise OperationFailed(
            f"stack {stack['StackName']} is {status}, which cloudplane cannot update: settle it in the CloudFormation "
            f"console first ({console_url(aws.region, stack['StackId'])}), then re-run `cloudplane cloud update`"
        )
    return stack


def _plan(aws: AwsClients, cloud: dict[str, Any], request: UpdateRequest, console: Console) -> _Plan:
    cfn, iam = aws.client("cloudformation"), aws.client("iam")
    stack_id = (cloud.get("resources") or {}).get("cloudformation_stack_id") or naming.stack_name(cloud["id"])
    stack = find_stack(cfn, stack_id)
    if stack is None:
        raise OperationFailed(
            f"cloud {cloud['name']}'s stack {stack_id} no longer exists in {aws.region}: `cloudplane cloud verify "
            f"--name {cloud['name']}` shows what is left, `cloudplane cloud delete --name {cloud['name']}` forgets it"
        )
    stack = _settle_running_update(aws, console, stack)
    deployed = _template_body(cfn, stack["StackId"])
    has_memorydb = any(
        r.get("Type") == "AWS::MemoryDB::Cluster" for r in (deployed.get("Resources") or {}).values()
    )
    add_memorydb = request.head_node_fault_tolerance and not has_memorydb
    if request.head_node_fault_tolerance and has_memorydb:
        console.info(f"Cloud {cloud['name']} already has a MemoryDB cluster for head-node fault tolerance.")
    template, params = _new_template(aws, cloud, has_memorydb or add_memorydb, console)

    arn = (cloud.get("resources") or {}).get("controlplane_role_arn")
    role = arn.rsplit("/", 1)[-1] if arn else f"cloudplane-{cloud['id']}-controlplane"
    live = _live_policies(iam, role)
    drift = find_drift(live, _deployed_policies(deployed))
    drifts_policy = merged_customer_policy(live.get(CUSTOMER_DRIFTS_POLICY_NAME), drift)
    expected = policies.controlplane_inline_policies()
    reput = [name for name in MANAGED_POLICY_NAMES if live.get(name) != expected[name]]
    after = {**{k: v for k, v in live.items() if v is not None}, **expected}
    if drifts_policy is not None:
        after[CUSTOMER_DRIFTS_POLICY_NAME] = drifts_policy
    if inline_size(list(after.values())) > ROLE_INLINE_POLICY_LIMIT:
        raise OperationFailed(
            f"role {role}'s inline policies would exceed IAM's {ROLE_INLINE_POLICY_LIMIT}-character limit once "
            f"your statements are kept in {CUSTOMER_DRIFTS_POLICY_NAME}: move your own statements to a managed "
            "policy attached to the role, then re-run the command; nothing was changed"
        )
    missing = _missing_resources(aws, cloud, template)
    repair_template = None
    if missing:
        repair_template = stack_repair.template_without(
            deployed, stack_repair.with_dependents(deployed, set(missing))
        )
    return _Plan(
        missing=missing,
        repair_template=repair_template,
        stack=stack,
        role=role,
        live=live,
        drift=drift,
        drifts_policy=drifts_policy,
        reput=reput,
        template=template,
        params=params,
        template_changed=template != deployed or not _same_parameters(stack, params),
        add_memorydb=add_memorydb,
    )


def _show_changes(plan: _Plan, changes: list[StackChange], console: Console) -> None:
    if not changes:
        return
    console.info(f"Changes to stack {plan.stack['StackName']}:")
    width = max(len(c.logical_id) for c in changes)
    for change in changes:
        console.info(f"  {change.verb:<8} {change.logical_id:<{width}}  {change.resource_type}")


def _missing_resources(aws: AwsClients, cloud: dict[str, Any], template: dict[str, Any]) -> list[str]:
    """Logical ids of the stack's resources that were deleted outside CloudFormation (and are still wanted)."""
    from cloudplane.verify.checks.stack import missing_resources
    from cloudplane.verify.context import VerifyContext

    missing, _ = missing_resources(VerifyContext(CloudSpec.from_record(cloud), aws))
    wanted = template.get("Resources") or {}
    return sorted(r["LogicalResourceId"] for r in missing if r.get("LogicalResourceId") in wanted)


def _describe_plan(plan: _Plan, changes: list[StackChange], console: Console) -> str:
    """Print what the update will do; return the confirmation question."""
    stack_name = plan.stack["StackName"]
    if plan.missing:
        console.warn(
            f"Deleted outside CloudFormation: {', '.join(plan.missing)}. To bring them back the stack is "
            "updated twice: first without them and what refers to them (below), then whole again."
        )
    _show_changes(plan, changes, console)
    if plan.drift.kept:
        console.warn(
            f"{len(plan.drift.kept)} statement(s) you added to the managed policies of role {plan.role} will be "
            f"kept in its inline policy {CUSTOMER_DRIFTS_POLICY_NAME}, which cloudplane never overwrites."
        )
    for policy, what in plan.drift.restored:
        console.warn(
            f"{policy}: {what} differs from what cloudplane wrote (narrowed or removed); the update puts it back. "
            "Re-apply a restriction afterwards as a Deny statement in a policy of your own."
        )
    rewrites = [n for n in plan.reput if n not in plan.drift.kept]
    if rewrites and not changes:
        console.info(f"Inline policies of role {plan.role} to rewrite: {', '.join(plan.reput)}.")
    return f"Apply these changes to cloud {stack_name.removeprefix('cloudplane-')}?"


def update_managed_cloud(
    cloud: dict[str, Any],
    request: UpdateRequest,
    *,
    client: Any,
    console: Console,
    confirm: Callable[[str], None],
    verify: Callable[[dict[str, Any], AwsClients], Report],
) -> UpdateResult:
    refuse_unless_updatable(cloud)
    aws = AwsClients(cloud["region"])
    identity = caller_identity(aws)
    account = (cloud.get("options") or {}).get("account_id")
    if account and identity["Account"] != account:
        raise InputError(
            f"cloud {cloud['name']} lives in AWS account {account}, but your credentials are for account "
            f"{identity['Account']} ({identity['Arn']}): use credentials of account {account}"
        )
    with CloudClaim(client, "update") as claim:
        cloud = claim.take(cloud["id"])
        plan = _plan(aws, cloud, request, console)
        templates = plan.templates()
        if not templates and not plan.reput and plan.drifts_policy is None:
            console.success(
                f"Cloud {cloud['name']} is up to date: its stack and its role's policies are those of this "
                "cloudplane version. Nothing was changed."
            )
            return UpdateResult(cloud, "up_to_date")
        cfn = aws.client("cloudformation")

        def change_set(template: dict[str, Any]) -> tuple[str | None, list[StackChange]]:
            return _create_change_set(
                cfn, plan.stack["StackId"], plan.stack["StackName"], template, plan.params, console
            )

        change_set_id, changes = change_set(templates[0]) if templates else (None, [])
        question = _describe_plan(plan, changes, console)
        try:
            confirm(question)
            kept = _keep_customer_statements(aws, plan, console)
        except BaseException:
            _discard(cfn, change_set_id, plan.stack["StackId"])
            raise
        applied = list(changes)
        if change_set_id:
            _execute(aws, console, cloud, plan, change_set_id, len(changes), kept)
        for later in templates[1:]:
            change_set_id, changes = change_set(later)
            _show_changes(plan, changes, console)
            if change_set_id:
                _execute(aws, console, cloud, plan, change_set_id, len(changes), kept)
            applied += changes
        _rewrite_managed_policies(aws, plan, console)
        cloud = _record(aws, client, cloud, plan)
        console.info("Verifying the updated cloud ...")
        report = verify(cloud, aws)  # the clients and caller identity this run already has
        client.store_verification(cloud["id"], report.to_dict())
    return UpdateResult(client.get_cloud(cloud["id"]), "updated", changes, kept, plan.drift.restored, report)


def _discard(cfn: Any, change_set_id: str | None, stack_id: str) -> None:
    """Remove a change set that will not be applied; its own failure must not hide why it is not applied."""
    if not change_set_id:
        return
    # If even that fails, it stays among the stack's change sets, where it changes nothing.
    with contextlib.suppress(AwsError):
        cfn.delete_change_set(ChangeSetName=change_set_id, StackName=stack_id)


def _keep_customer_statements(aws: AwsClients, plan: _Plan, console: Console) -> int:
    if plan.drifts_policy is None:
        return 0
    aws.client("iam").put_role_policy(
        RoleName=plan.role,
        PolicyName=CUSTOMER_DRIFTS_POLICY_NAME,
        PolicyDocument=json.dumps(plan.drifts_policy),
    )
    console.info(f"Kept your statements in {CUSTOMER_DRIFTS_POLICY_NAME} of role {plan.role}.")
    return len(plan.drift.kept)


def _execute(
    aws: AwsClients,
    console: Console,
    cloud: dict[str, Any],
    plan: _Plan,
    change_set_id: str,
    total: int,
    kept: int,
) -> None:
    cfn = aws.client("cloudformation")
    stack_id = plan.stack["StackId"]
    watcher = StackWatcher(cfn, stack_id, total, ("UPDATE_COMPLETE", "CREATE_COMPLETE"))
    try:
        watcher.ignore_earlier_events()
        cfn.execute_change_set(ChangeSetName=change_set_id, StackName=stack_id)
    except BaseException:
        _discard(cfn, change_set_id, stack_id)
        raise
    console.info(f"Track the stack in the AWS console: {console_url(aws.region, stack_id)}")
    timeout = UPDATE_TIMEOUT_WITH_MEMORYDB if plan.add_memorydb else UPDATE_TIMEOUT
    try:
        with console.status(f"Updating cloud resources: 0/{total} done") as line:

            def show(state: StackState) -> None:
                line.update(f"Updating cloud resources: {state.done}/{state.total} done ({state.status})")

            state = wait_until_settled(watcher, on_progress=show, timeout=timeout)
    except KeyboardInterrupt:
        console.error(
            f"Interrupted. The stack update keeps going in AWS; re-run `cloudplane cloud update --name "
            f"{cloud['name']}` to follow it to the end."
        )
        raise
    if state.status in ("UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
        console.success(f"Stack {plan.stack['StackName']} updated.")
        return
    failures = watcher.failures()
    why = "; ".join(f"{f.logical_id} ({f.resource_type}): {f.reason}" for f in failures) or (
        state.reason or "no reason given"
    )
    still = (
        f" Your statements stay in {CUSTOMER_DRIFTS_POLICY_NAME}; they repeat what the role already allowed."
        if kept
        else ""
    )
    if state.status == "UPDATE_ROLLBACK_COMPLETE":
        raise OperationFailed(
            f"the update of cloud {cloud['name']} failed at {why}. CloudFormation rolled the stack back, so the "
            f"cloud runs as before.{still} Fix the cause and re-run `cloudplane cloud update`."
        )
    raise OperationFailed(
        f"the update of cloud {cloud['name']} failed at {why}, and the stack is {state.status}: settle it in "
        f"the CloudFormation console ({console_url(aws.region, stack_id)}), then re-run `cloudplane cloud update`."
    )


def _rewrite_managed_policies(aws: AwsClients, plan: _Plan, console: Console) -> None:
    """After the stack update, any managed policy still unlike this version's (CloudFormation writes a policy
    only when the template changes it) is written directly, with the very document the template holds."""
    if not plan.reput:
        return
    iam = aws.client("iam")
    expected = policies.controlplane_inline_policies()
    for name in plan.reput:
        try:
            live = parse_document(iam.get_role_policy(RoleName=plan.role, PolicyName=name)["PolicyDocument"])
        except AwsError as exc:
            if exc.fault is not Fault.NOT_FOUND:
                raise
            live = None
        if live != expected[name]:
            iam.put_role_policy(
                RoleName=plan.role, PolicyName=name, PolicyDocument=json.dumps(expected[name])
            )
    console.success(f"The inline policies of role {plan.role} are those of this cloudplane version.")


def _record(aws: AwsClients, client: Any, cloud: dict[str, Any], plan: _Plan) -> dict[str, Any]:
    stack = aws.client("cloudformation").describe_stacks(StackName=plan.stack["StackId"])["Stacks"][0]
    resources = resources_from_outputs(outputs_of(stack), stack["StackId"])
    options = {"head_node_fault_tolerance": True} if plan.add_memorydb else None
    return client.update_cloud(cloud["id"], resources=resources, **({"options": options} if options else {}))
