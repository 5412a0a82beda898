"""Moving a functional-verification target through its steps, with clients acting as the cloud's role.

Nothing here waits. `Advancer.tick(target)` asks AWS where the current step stands, moves on as far as it
can right now and returns, so that any caller (a CLI in-process, any replica of a server) can move a run on
by calling again. Every step has a deadline, after which it fails with what was seen last. A failed step
skips the rest of its target, but the clean-up steps always run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudplane.aws import policies
from cloudplane.aws.errors import AwsError, Fault
from cloudplane.aws.session import AwsClients
from cloudplane.clusters import load_balancers, node_check
from cloudplane.clusters.functional import (
    DEFAULT_DEADLINES,
    FINAL_STEP_STATES,
    NODE_INSTANCE_TYPE,
    RUN_TAG_KEY,
    STEPS,
    current_step,
    failed_step,
    iso,
    parse_iso,
)
from cloudplane.controlplane.cloud_access import CloudActionFailed
from cloudplane.errors import NotFound


@dataclass(frozen=True)
class Outcome:
    state: str  # "passed", "running" (not yet), "failed" or "skipped"
    detail: str


def done(detail: str) -> Outcome:
    return Outcome("passed", detail)


def waiting(detail: str) -> Outcome:
    return Outcome("running", detail)


def failed(detail: str) -> Outcome:
    return Outcome("failed", detail)


def skipped(detail: str) -> Outcome:
    return Outcome("skipped", detail)


class Advancer:
    """Moves the targets of one run on, with clients acting as the cloud's cross-account role.

    `terminate(cluster_name)` terminates a node's cluster through the control plane (so that its record
    follows); `clients()` gives the role's clients, raising CloudActionFailed when the role cannot be used.
    """

    def __init__(
        self,
        *,
        run_id: str,
        cloud: Mapping[str, Any],
        clients: Callable[[], AwsClients],
        terminate: Callable[[str], None],
        deadlines: Mapping[str, float],
        subnet_zones: Callable[[], Mapping[str, str]],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.run_id = run_id
        self.cloud = cloud
        self._clients = clients
        self._terminate_cluster = terminate
        self.deadlines = deadlines
        self._subnet_zones = subnet_zones
        self._now = now

    @property
    def resources(self) -> Mapping[str, Any]:
        return self.cloud.get("resources") or {}

    # --- moving on ------------------------------------------------------------------------------

    def tick(self, target: dict[str, Any]) -> bool:
        """One look at the target's current step; True when a step ended (another tick may go further)."""
        step = current_step(target)
        if step is None:
            return False
        spec = STEPS[step["name"]]
        if spec.cleanup and not target["cleanup_started"]:
            self.start_cleanup(target)
        now = self._now()
        if step["state"] == "pending":
            step["state"], step["started_at"] = "running", iso(now)
        try:
            outcome = getattr(self, "_step_" + spec.name.replace("-", "_"))(target)
        except (CloudActionFailed, AwsError) as exc:
            outcome = self._trouble(exc)
        if outcome.state == "running":
            waited = (now - parse_iso(step["started_at"])).total_seconds()
            limit = float(self.deadlines.get(spec.name, DEFAULT_DEADLINES[spec.name]))
            if waited <= limit:
                step["detail"] = outcome.detail
                return False
            outcome = failed(f"not done within {limit:.0f} s; last seen: {outcome.detail}")
        self._finish(target, step, outcome)
        return True

    def abort(self, target: dict[str, Any]) -> None:
        """Skip every step that is not clean-up and start cleaning up at once."""
        if target["aborted"] or current_step(target) is None:
            return
        target["aborted"] = True
        for step in target["steps"]:
            if not STEPS[step["name"]].cleanup and step["state"] not in FINAL_STEP_STATES:
                was_running = step["state"] == "running"
                step["state"] = "skipped"
                step["finished_at"] = iso(self._now())
                step["detail"] = "aborted while it ran" if was_running else "aborted"
        self.start_cleanup(target)

    def start_cleanup(self, target: dict[str, Any]) -> None:
        """Start terminating the node and deleting the stack right away; the clean-up steps follow them."""
        target["cleanup_started"] = True
        resources = target["resources"]
        try:
            if resources.get("instance_id"):
                self._terminate_cluster(target["cluster"])
                resources["terminate_requested"] = True
            if resources.get("stack_id"):
                self._clients().client("cloudformation").delete_stack(StackName=resources["stack_id"])
                resources["stack_delete_requested"] = True
        except (CloudActionFailed, AwsError):
            pass  # the clean-up steps try again and say what stands in the way

    def _finish(self, target: dict[str, Any], step: dict[str, Any], outcome: Outcome) -> None:
        step["state"], step["detail"] = outcome.state, outcome.detail
        step["finished_at"] = iso(self._now())
        if outcome.state == "failed" and not STEPS[step["name"]].cleanup:
            for later in target["steps"]:
                if not STEPS[later["name"]].cleanup and later["state"] == "pending":
                    later["state"] = "skipped"
                    later["detail"] = f"skipped: {step['title'].lower()} failed"
        if current_step(target) is None:
            if failed_step(target):
                target["state"] = "failed"
            else:
                target["state"] = "aborted" if target["aborted"] else "passed"

    def _trouble(self, exc: CloudActionFailed | AwsError) -> Outcome:
        """An AWS error outside what a step expects: worth waiting out when AWS may answer next time."""
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, AwsError) and not exc.transient:
            return failed(line)
        return waiting(line)

    # --- the steps ------------------------------------------------------------------------------

    def _step_launch(self, target: dict[str, Any]) -> Outcome:
        # Launching happens when the run starts; a launch step still open means that start never finished.
        return failed("the node was never launched: the control plane stopped while launching it")

    def _instance(self, target: Mapping[str, Any]) -> dict[str, Any] | None:
        instance_id = target["resources"]["instance_id"]
        try:
            answer = self._clients().client("ec2").describe_instances(InstanceIds=[instance_id])
        except AwsError as exc:
            if "NotFound" in exc.code:  # EC2 is eventually consistent right after a launch
                return None
            raise
        found = [i for r in answer.get("Reservations", []) for i in r.get("Instances", [])]
        return found[0] if found else None

    def _step_running(self, target: dict[str, Any]) -> Outcome:
        instance_id = target["resources"]["instance_id"]
        instance = self._instance(target)
        if instance is None:
            return waiting(f"EC2 does not list {instance_id} yet")
        state = instance["State"]["Name"]
        if state == "running":
            zone = instance.get("Placement", {}).get("AvailabilityZone")
            target["resources"]["zone"] = zone
            return done(f"{instance_id} ({NODE_INSTANCE_TYPE}) running in {zone}")
        if state == "pending":
            return waiting(f"{instance_id} is pending")
        reason = (instance.get("StateReason") or {}).get("Message") or "no reason given"
        return failed(f"{instance_id} is {state} before it ran its checks: {reason}")

    def _step_checks(self, target: dict[str, Any]) -> Outcome:
        instance_id = target["resources"]["instance_id"]
        key = node_check.result_key(self.run_id, target["name"])
        bucket = self.resources.get("s3_bucket_id")
        result, bucket_note = self._bucket_result(bucket, key)
        console = ""
        if result is None:
            console = self._console(instance_id)
            result = node_check.from_console(console)
        if result is not None and result.get("run_id") == self.run_id:
            target["checks"] = list(result.get("steps", []))
            failure = node_check.first_failure(result)
            if failure is None and result.get("passed"):
                names = [s["name"] for s in target["checks"] if s.get("state") == "passed"]
                return done(f"{len(names)} checks passed: {', '.join(names)}")
            if failure is None:
                return failed("the node reported a failure without naming it")
            return failed(f"{failure['name']}: {failure['detail']}")
        instance = self._instance(target)
        state = instance["State"]["Name"] if instance else "unknown"
        if state not in ("pending", "running"):
            return failed(f"{instance_id} is {state} and never reported its checks")
        said = node_check.console_tail(console)
        return waiting(
            f"waiting for the node's result in s3://{bucket}/{key} or on its console"
            + (f" ({bucket_note})" if bucket_note else "")
            + (f"; its console says: {said}" if said else "")
        )

    def _bucket_result(self, bucket: str | None, key: str) -> tuple[dict[str, Any] | None, str | None]:
        if not bucket:
            return None, "the cloud has no bucket recorded"
        try:
            answer = self._clients().client("s3").get_object(Bucket=bucket, Key=key)
        except AwsError as exc:
            if exc.code in ("NoSuchKey", "404") or exc.fault is Fault.NOT_FOUND:
                return None, None
            if exc.fault is Fault.DENIED:
                return None, "the cross-account role may not read it; reading the console instead"
            raise
        return node_check.parse_result(answer["Body"].read()), None

    def _console(self, instance_id: str) -> str:
        # Latest: what the node printed by now, not a snapshot taken minutes ago (Nitro instances, as m5 is).
        answer = self._clients().client("ec2").get_console_output(InstanceId=instance_id, Latest=True)
        return str(answer.get("Output") or "")

    def _step_certificate(self, target: dict[str, Any]) -> Outcome:
        from cloudplane.clusters.certificates import self_signed

        resources = target["resources"]
        if resources.get("certificate_arn"):
            return done(f"imported {resources['certificate_arn']}")
        made = self_signed(f"{target['cluster']}.verify.cloudplane.internal")
        try:
            answer = (
                self._clients()
                .client("acm")
                .import_certificate(
                    Certificate=made.certificate_pem,
                    PrivateKey=made.private_key_pem,
                    Tags=self._tags(),
                )
            )
        except AwsError as exc:
            if exc.transient:
                raise
            return failed(f"ACM refused to import the load balancer's certificate: {self._refusal(exc)}")
        resources["certificate_arn"] = answer["CertificateArn"]
        return done(f"imported {answer['CertificateArn']}")

    def _step_load_balancer(self, target: dict[str, Any]) -> Outcome:
        resources = target["resources"]
        cfn = self._clients().client("cloudformation")
        if not resources.get("stack_id"):
            return self._create_stack(target, cfn)
        stack = self._stack(cfn, resources["stack_id"])
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if status == "CREATE_COMPLETE":
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}  # type: ignore[union-attr]
            resources["target_group_arn"] = outputs.get("TargetGroupArn")
            resources["load_balancer_arn"] = outputs.get("LoadBalancerArn")
            resources["load_balancer_dns"] = outputs.get("LoadBalancerDNSName")
            scheme = "internal" if self._internal else "internet-facing"
            return done(
                f"{scheme} load balancer {resources['load_balancer_dns']} (stack {resources['stack_name']}) "
                f"forwards HTTPS to tcp/{node_check.SERVICE_PORT} of {resources['instance_id']}"
            )
        if status == "CREATE_IN_PROGRESS":
            return waiting(f"stack {resources['stack_name']} is {status}")
        return failed(
            f"CloudFormation could not create stack {resources['stack_name']} ({status}): "
            + self._stack_failure(cfn, resources["stack_id"])
        )

    def _create_stack(self, target: dict[str, Any], cfn: Any) -> Outcome:
        from cloudplane.clusters import load_balancer_template as lb

        resources = target["resources"]
        name = load_balancers.stack_name(self.cloud["id"], target["cluster"])
        resources["stack_name"] = name
        subnets = lb.one_subnet_per_zone(self.resources.get("subnet_ids") or [], self._subnet_zones())
        document = lb.template(
            description=f"cloudplane functional verification {self.run_id} of cloud {self.cloud['name']}",
            internal=self._internal,
            subnet_ids=subnets,
            security_group_ids=self.resources.get("security_group_ids") or [],
            vpc_id=self.resources.get("vpc_id") or "",
            instance_id=resources["instance_id"],
            port=node_check.SERVICE_PORT,
            certificate_arn=resources["certificate_arn"],
        )
        try:
            answer = cfn.create_stack(StackName=name, TemplateBody=lb.body(document), Tags=self._tags())
        except AwsError as exc:
            if exc.code == "AlreadyExistsException":  # made by a call whose answer was lost
                stack = self._stack(cfn, name)
                if stack is not None:
                    resources["stack_id"] = stack["StackId"]
                    return waiting(f"stack {name} is {stack['StackStatus']}")
            if exc.transient:
                raise
            return failed(f"CloudFormation refused to create stack {name}: {self._refusal(exc)}")
        resources["stack_id"] = answer["StackId"]
        return waiting(f"creating stack {name}")

    @property
    def _internal(self) -> bool:
        return self.cloud.get("networking") == "private"

    def _step_target_healthy(self, target: dict[str, Any]) -> Outcome:
        resources = target["resources"]
        instance_id, port = resources["instance_id"], node_check.SERVICE_PORT
        answer = (
            self._clients()
            .client("elbv2")
            .describe_target_health(
                TargetGroupArn=resources["target_group_arn"], Targets=[{"Id": instance_id, "Port": port}]
            )
        )
        health = next(
            (
                d["TargetHealth"]
                for d in answer.get("TargetHealthDescriptions", [])
                if d["Target"]["Id"] == instance_id
            ),
            None,
        )
        if health is None:
            return waiting(f"{instance_id} is not listed in target group {resources['target_group_arn']}")
        if health.get("State") == "healthy":
            return done(f"{instance_id} answers the load balancer's health check on tcp/{port}")
        return waiting(self._unhealthy(health, resources))

    def _unhealthy(self, health: Mapping[str, Any], resources: Mapping[str, Any]) -> str:
        instance_id, port = resources["instance_id"], node_check.SERVICE_PORT
        groups = ", ".join(self.resources.get("security_group_ids") or [])
        reason = health.get("Reason", "")
        said = f"{health.get('State')}, {reason}: {health.get('Description', '')}".strip(": ")
        advice = {
            "Target.Timeout": f"the load balancer's health checks to tcp/{port} of {instance_id} time out: "
            f"the node's security groups ({groups}) must allow tcp/{port} in from the load balancer's "
            f"({groups}), and the load balancer's must allow it out",
            "Target.FailedHealthChecks": f"nothing answered the health check on tcp/{port} of {instance_id}",
            "Target.ResponseCodeMismatch": f"the health check of tcp/{port} got a code other than 200",
            "Target.NotRegistered": f"{instance_id} is not registered in target group "
            f"{resources['target_group_arn']}",
            "Target.NotInUse": "the target group is not used by the load balancer yet",
            "Elb.InitialHealthChecking": "the load balancer is running its first health checks",
            "Elb.RegistrationInProgress": f"{instance_id} is being registered",
        }.get(reason)
        return f"{advice} ({said})" if advice else said

    def _step_delete_load_balancer(self, target: dict[str, Any]) -> Outcome:
        resources = target["resources"]
        if not resources.get("stack_name"):
            return skipped("no load balancer was created")
        cfn = self._clients().client("cloudformation")
        stack = self._stack(cfn, resources.get("stack_id") or resources["stack_name"])
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            if not resources.get("stack_id") and stack is None:
                return skipped("no load balancer was created")
            return done(f"stack {resources['stack_name']} deleted")
        resources["stack_id"] = stack["StackId"]
        status = stack["StackStatus"]
        if status == "DELETE_IN_PROGRESS":
            return waiting(f"stack {resources['stack_name']} is {status}")
        cfn.delete_stack(StackName=stack["StackId"])  # first time, or again after DELETE_FAILED
        resources["stack_delete_requested"] = True
        if status == "DELETE_FAILED":
            reason = stack.get("StackStatusReason") or "no reason given"
            return waiting(
                f"stack {resources['stack_name']} could not be deleted ({reason}); trying again. If it "
                f"stays, delete it in the CloudFormation console"
            )
        return waiting(f"deleting stack {resources['stack_name']}")

    def _step_delete_certificate(self, target: dict[str, Any]) -> Outcome:
        resources = target["resources"]
        arns = set(self._tagged_certificates())
        if resources.get("certificate_arn"):
            arns.add(resources["certificate_arn"])
        if not arns:
            return skipped("no certificate was imported")
        acm = self._clients().client("acm")
        busy = []
        for arn in sorted(arns):
            try:
                acm.delete_certificate(CertificateArn=arn)
            except AwsError as exc:
                if exc.fault is Fault.NOT_FOUND or exc.code == "ResourceNotFoundException":
                    continue
                if exc.code == "ResourceInUseException":
                    busy.append(arn)
                    continue
                if exc.transient:
                    raise
                return failed(f"ACM refused to delete certificate {arn}: {self._refusal(exc)}")
        if busy:
            return waiting(f"certificate {', '.join(busy)} is still in use by a load balancer")
        return done(f"certificate {', '.join(sorted(arns))} deleted")

    def _tagged_certificates(self) -> list[str]:
        """Certificates this run imported, found by its tag: also one whose import answer was lost. A role
        that may not search tags (tag:GetResources) still deletes the one it knows."""
        api = self._clients().client("resourcegroupstaggingapi")
        try:
            found = api.get_resources(
                TagFilters=[
                    {"Key": load_balancers.PURPOSE_TAG_KEY, "Values": [load_balancers.LOAD_BALANCER_PURPOSE]},
                    {"Key": RUN_TAG_KEY, "Values": [self.run_id]},
                ],
                ResourceTypeFilters=["acm:certificate"],
            )
        except AwsError as exc:
            if exc.fault is Fault.DENIED:
                return []
            raise
        return [item["ResourceARN"] for item in found.get("ResourceTagMappingList", [])]

    def _step_terminate(self, target: dict[str, Any]) -> Outcome:
        resources = target["resources"]
        instance_id = resources.get("instance_id")
        if not instance_id:
            # A launch whose answer was never recorded may still have left a node in the cluster.
            try:
                self._terminate_cluster(target["cluster"])
            except NotFound:
                return skipped("no node was launched")
            return done(f"no node left in cluster {target['cluster']}")
        instance = self._instance(target)
        state = instance["State"]["Name"] if instance else "terminated"
        if state == "terminated":
            return done(f"{instance_id} terminated")
        if state != "shutting-down":
            self._terminate_cluster(target["cluster"])
            resources["terminate_requested"] = True
        return waiting(f"{instance_id} is {state}")

    # --- helpers --------------------------------------------------------------------------------

    def _tags(self) -> list[dict[str, str]]:
        return [*load_balancers.tags(self.cloud["id"]), {"Key": RUN_TAG_KEY, "Value": self.run_id}]

    def _stack(self, cfn: Any, name_or_id: str) -> dict[str, Any] | None:
        try:
            stacks = cfn.describe_stacks(StackName=name_or_id).get("Stacks", [])
        except AwsError as exc:
            if exc.fault is Fault.NOT_FOUND or "does not exist" in exc.detail:
                return None
            raise
        return stacks[0] if stacks else None

    def _stack_failure(self, cfn: Any, stack_id: str) -> str:
        """The reason of the first resource that failed, as CloudFormation's events give it."""
        events = cfn.describe_stack_events(StackName=stack_id).get("StackEvents", [])
        for event in reversed(events):  # newest first from AWS
            if event.get("ResourceStatus") == "CREATE_FAILED" and event.get("LogicalResourceId") != (
                event.get("StackName")
            ):
                reason = event.get("ResourceStatusReason") or "no reason given"
                if "cancelled" in reason.lower():
                    continue
                return f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}) failed: {reason}"
        return "no resource says why (see the stack's events in the CloudFormation console)"

    def _refusal(self, exc: AwsError) -> str:
        said = (
            f"{exc.code} ({exc.detail})" if exc.code and exc.detail else (exc.code or exc.detail or exc.fault)
        )
        if exc.fault is Fault.DENIED:
            name = self.cloud["name"]
            return (
                f"access denied ({said}); the cloud's cross-account role needs {exc.action} (policy "
                f"{policies.SERVICE_STEADY_STATE_POLICY_NAME}): run `cloudplane cloud verify --name {name}`"
            )
        return said


def advance(advancer: Advancer, targets: list[dict[str, Any]], *, budget_seconds: float = 4.0) -> None:
    """Move every target on, round by round, until none can go further now or the time is spent."""
    started = time.monotonic()
    moved = True
    while moved and time.monotonic() - started < budget_seconds:
        moved = False
        for target in targets:
            moved = advancer.tick(target) or moved
