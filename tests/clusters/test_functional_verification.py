"""Functional verification through both transports, on real sandbox AWS: a workspace node and a service node
launched through the cloud's role, their start-up checks run on the node, the service's certificate, load
balancer and target health; every run, passed, failed or aborted, leaves nothing behind."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.clusters.functional import DEADLINES_ENV
from cloudplane.errors import Conflict, InputError, NotFound
from cloudplane.sandbox.server import SandboxServer
from tests.controlplane.conftest import TRANSPORTS, mint_token, serve
from tests.enforcement import acting_as
from tests.verify.builders import BuiltCloud, build_cloud, record_in

Aws = Callable[..., Any]
WORKSPACE_CHECKS = [
    "instance metadata",
    "credentials from the instance profile",
    "write an object to the bucket",
    "read it back",
    "delete it",
    "EFS mount target",
]


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines for the sandbox, where every step takes a second at most."""
    monkeypatch.setenv(DEADLINES_ENV, "*=30,target-healthy=3")


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, tmp_path: Any, quick: None) -> Iterator[ControlPlaneClient]:
    database = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    if request.param == "direct":
        with ControlPlaneClient.embedded(database) as direct:
            yield direct
        return
    token = mint_token(database, name="functional")
    with serve(database) as served, ControlPlaneClient.remote(served.url, token=token) as remote:
        yield remote


@pytest.fixture
def direct(tmp_path: Any, quick: None) -> Iterator[ControlPlaneClient]:
    with ControlPlaneClient.embedded(f"sqlite:///{tmp_path / 'cloudplane.db'}") as embedded:
        yield embedded


def register(client: ControlPlaneClient, built: BuiltCloud, *, state: str = "active") -> dict[str, Any]:
    """The built cloud as `cloud register` leaves it in the control plane."""
    return record_in(client, built, state=state)


def finish(client: ControlPlaneClient, run: dict[str, Any], seconds: float = 60) -> dict[str, Any]:
    """Advance the run until it ends, as the CLI does."""
    deadline = time.monotonic() + seconds
    while run["state"] == "running":
        assert time.monotonic() < deadline, f"the run did not end: {json.dumps(run, indent=1)}"
        time.sleep(0.2)
        run = client.advance_functional_verification(run["id"])
    return run


def target(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in run["targets"] if t["name"] == name)


def steps(run: dict[str, Any], name: str) -> dict[str, str]:
    return {step["name"]: step["state"] for step in target(run, name)["steps"]}


def check(run: dict[str, Any], name: str, check_name: str) -> dict[str, Any]:
    return next(c for c in target(run, name)["checks"] if c["name"] == check_name)


def assert_nothing_left(aws: Aws, cloud_id: str) -> None:
    """No instance, load balancer, load-balancer stack or certificate of the run is left in the account."""
    reservations = aws("ec2").describe_instances(
        Filters=[{"Name": "tag:cloudplane-cloud-id", "Values": [cloud_id]}]
    )["Reservations"]
    states = {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}
    assert states and set(states.values()) == {"terminated"}, states
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    stacks = aws("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == []
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []


@pytest.fixture
def built(aws: Aws) -> BuiltCloud:
    return build_cloud(aws, deployment=CUSTOMER_DEFINED, azs=2)


# --- passing ------------------------------------------------------------------------------------


def test_a_workspace_node_passes_its_checks_and_is_terminated(
    client: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(client, built)

    started = client.start_functional_verification(cloud["id"], ["workspace"])

    assert started["id"].startswith("fvr_") and started["state"] == "running"
    node = target(started, "workspace")["resources"]["instance_id"]
    [instance] = aws("ec2").describe_instances(InstanceIds=[node])["Reservations"][0]["Instances"]
    assert instance["InstanceType"] == "m5.xlarge"
    assert instance["IamInstanceProfile"]["Arn"].endswith(built.instance_role.split("/")[-1])
    run = finish(client, started)

    assert run["state"] == "passed" and run["passed"] is True, run
    assert steps(run, "workspace") == dict.fromkeys(["launch", "running", "checks", "terminate"], "passed")
    assert [c["name"] for c in target(run, "workspace")["checks"]] == WORKSPACE_CHECKS
    mount = check(run, "workspace", "EFS mount target")["detail"]
    assert "tcp/2049" in mount and built.fs_id in mount
    assert run["left_behind"] == []
    assert_nothing_left(aws, cloud["id"])
    [cluster] = client.list_clusters(include_terminated=True)
    assert cluster["kind"] == "workspace" and cluster["name"].startswith("verify-workspace-")
    assert cluster["state"] == "terminated"
    stored = client.get_cloud(cloud["id"])
    assert stored["last_functional_verification"]["id"] == run["id"]
    assert stored["last_functional_verification"]["state"] == "passed"
    assert stored["last_functional_verified_at"]
    assert client.get_functional_verification(run["id"])["state"] == "passed"


def test_a_service_gets_a_load_balancer_that_finds_its_node_healthy(
    client: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(client, built)

    run = finish(client, client.start_functional_verification(cloud["id"], ["service"]))

    assert_nothing_left(aws, cloud["id"])
    service = target(run, "service")
    assert check(run, "service", "serve the health check")["state"] == "passed"
    assert steps(run, "service")["certificate"] == "passed"
    assert steps(run, "service")["load-balancer"] == "passed"
    assert service["resources"]["stack_name"].startswith(f"cloudplane-lb-{cloud['id'].replace('_', '-')}-")
    assert steps(run, "service")["delete-load-balancer"] == "passed"
    assert steps(run, "service")["delete-certificate"] == "passed"
    assert run["state"] == "passed", service["failure"]
    assert set(steps(run, "service").values()) == {"passed"}


def test_both_targets_move_on_together_and_the_memorydb_endpoint_is_checked(
    direct: ControlPlaneClient, aws: Aws
) -> None:
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, azs=2, memorydb=True)
    cloud = register(direct, built)

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace", "service"]))

    assert [t["name"] for t in run["targets"]] == ["workspace", "service"]
    assert target(run, "workspace")["state"] == "passed"
    memorydb = check(run, "workspace", "MemoryDB endpoint")
    assert memorydb["state"] == "passed" and built.cluster in memorydb["detail"]
    assert_nothing_left(aws, cloud["id"])


# --- failing, with the step named ---------------------------------------------------------------


def test_a_bucket_policy_denying_the_instance_role_fails_the_write_and_names_the_bucket(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(direct, built)
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=built.bucket)["Policy"])
    policy["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": built.instance_role},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{built.bucket}/*",
        }
    )
    aws("s3").put_bucket_policy(Bucket=built.bucket, Policy=json.dumps(policy))

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace"]))

    assert run["state"] == "failed" and run["passed"] is False
    failure = target(run, "workspace")["failure"]
    assert failure["step"] == "checks"
    assert failure["detail"].startswith("write an object to the bucket: PUT s3://" + built.bucket)
    assert "AccessDenied" in failure["detail"] and "s3:PutObject" in failure["detail"]
    # The node could not write its result either: the control plane read it from the console.
    assert check(run, "workspace", "read it back")["state"] == "skipped"
    assert steps(run, "workspace")["terminate"] == "passed"
    assert_nothing_left(aws, cloud["id"])


def test_an_instance_profile_without_its_role_gives_the_node_no_credentials(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(direct, built)
    role = built.instance_role.split("/")[-1]
    aws("iam").remove_role_from_instance_profile(InstanceProfileName=role, RoleName=role)

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace"]))

    failure = target(run, "workspace")["failure"]
    assert failure["step"] == "checks"
    assert failure["detail"].startswith("credentials from the instance profile: the instance profile ")
    assert "holds no role" in failure["detail"] and "add-role-to-instance-profile" in failure["detail"]
    assert check(run, "workspace", "write an object to the bucket")["state"] == "skipped"
    assert_nothing_left(aws, cloud["id"])


def test_an_instance_role_ec2_may_not_assume_is_named_with_its_trust(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(direct, built)
    role = built.instance_role.split("/")[-1]
    trust = policies.document(
        [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    )
    aws("iam").update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace"]))

    detail = target(run, "workspace")["failure"]["detail"]
    assert f"EC2 could not get credentials for role {role}" in detail
    assert "AssumeRoleUnauthorizedAccess" in detail and "ec2.amazonaws.com" in detail
    assert_nothing_left(aws, cloud["id"])


def test_a_mount_target_group_without_nfs_from_the_cloud_group_times_out(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(direct, built)
    closed = aws("ec2").create_security_group(
        GroupName="efs-closed", Description="no nfs", VpcId=built.vpc_id
    )
    for mount_target in built.mount_target_ids:
        aws("efs").modify_mount_target_security_groups(
            MountTargetId=mount_target, SecurityGroups=[closed["GroupId"]]
        )

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace"]))

    failure = target(run, "workspace")["failure"]
    assert failure["step"] == "checks"
    assert failure["detail"].startswith("EFS mount target: tcp/2049 to ")
    assert "timed out" in failure["detail"] and built.sg_id in failure["detail"]
    # The other checks still ran: one broken thing does not hide another.
    assert check(run, "workspace", "write an object to the bucket")["state"] == "passed"
    assert_nothing_left(aws, cloud["id"])


def test_a_role_without_acm_import_fails_the_certificate_and_cleans_up(
    direct: ControlPlaneClient, aws: Aws, sandbox: SandboxServer
) -> None:
    """With IAM enforced, the cloud's role decides: without acm:ImportCertificate the service stops there.
    (A cloud without EFS: the sandbox refuses every EFS call while it enforces IAM.)"""
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, azs=2, efs=False)
    cloud = register(direct, built)
    role = built.cp_role.split("/")[-1]
    name = policies.SERVICE_STEADY_STATE_POLICY_NAME
    document = aws("iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "acm:ImportCertificate"]
    aws("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))

    with acting_as(sandbox, aws, allow=["sts:AssumeRole"]):
        run = finish(direct, direct.start_functional_verification(cloud["id"], ["service"]))

    service = target(run, "service")
    assert service["failure"]["step"] == "certificate"
    detail = service["failure"]["detail"]
    assert detail.startswith("ACM refused to import the load balancer's certificate: access denied")
    assert f"the cloud's cross-account role needs acm:ImportCertificate (policy {name})" in detail
    # The role may not read the bucket: the result came from the node's console. The node's own SigV4
    # signatures held where the sandbox checks them, under enforcement.
    assert steps(run, "service")["checks"] == "passed"
    assert check(run, "service", "read it back")["state"] == "passed"
    assert steps(run, "service")["load-balancer"] == "skipped"
    assert steps(run, "service")["delete-certificate"] == "skipped"
    assert steps(run, "service")["terminate"] == "passed"
    assert_nothing_left(aws, cloud["id"])


def test_a_listener_refusing_the_certificate_fails_the_stack_with_its_reason(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws, sandbox: SandboxServer
) -> None:
    cloud = register(direct, built)
    reason = "UnsupportedCertificate: The certificate must have a supported key size and signature"
    sandbox.fail_next("AWS::ElasticLoadBalancingV2::Listener", reason)

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["service"]))

    failure = target(run, "service")["failure"]
    assert failure["step"] == "load-balancer"
    assert "Listener (AWS::ElasticLoadBalancingV2::Listener) failed: " + reason in failure["detail"]
    assert steps(run, "service")["target-healthy"] == "skipped"
    assert steps(run, "service")["delete-load-balancer"] == "passed"
    assert steps(run, "service")["delete-certificate"] == "passed"
    assert_nothing_left(aws, cloud["id"])


def test_a_step_past_its_deadline_fails_with_what_was_seen_last(direct: ControlPlaneClient, aws: Aws) -> None:
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, azs=2, efs=False)
    # The load balancer shares the nodes' group; without its rule for itself, health checks get nowhere.
    aws("ec2").revoke_security_group_ingress(
        GroupId=built.sg_id,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": built.sg_id}]}],
    )
    cloud = register(direct, built)

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["service"]))

    failure = target(run, "service")["failure"]
    assert failure["step"] == "target-healthy"
    assert failure["detail"].startswith("not done within 3 s; last seen: ")
    assert run["targets"][0]["resources"]["instance_id"] in failure["detail"]
    assert_nothing_left(aws, cloud["id"])


def test_a_launch_ec2_refuses_fails_the_first_step_with_ec2s_reason(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(direct, built)
    direct.update_cloud(cloud["id"], resources={"security_group_ids": ["sg-0123456789abcdef0"]})

    run = finish(direct, direct.start_functional_verification(cloud["id"], ["workspace"]))

    failure = target(run, "workspace")["failure"]
    assert failure["step"] == "launch"
    assert "ec2:RunInstances" in failure["detail"] and "sg-0123456789abcdef0" in failure["detail"]
    assert steps(run, "workspace") == {
        "launch": "failed",
        "running": "skipped",
        "checks": "skipped",
        "terminate": "passed",
    }
    assert aws("ec2").describe_instances()["Reservations"] == []


# --- aborting -----------------------------------------------------------------------------------


def test_abort_terminates_the_nodes_and_the_run_ends_aborted(
    client: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(client, built)
    started = client.start_functional_verification(cloud["id"], ["workspace", "service"])

    aborted = client.abort_functional_verification(started["id"])
    run = finish(client, aborted)

    assert run["state"] == "aborted" and run["passed"] is False and run["aborted_at"]
    for name in ("workspace", "service"):
        assert steps(run, name)["launch"] == "passed"
        assert steps(run, name)["checks"] == "skipped"
        assert steps(run, name)["terminate"] == "passed"
    assert steps(run, "service")["delete-certificate"] == "skipped"
    assert_nothing_left(aws, cloud["id"])
    # Aborting an ended run changes nothing.
    assert client.abort_functional_verification(run["id"])["state"] == "aborted"


def test_abort_after_the_load_balancer_exists_deletes_stack_and_certificate(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEADLINES_ENV, "*=30")
    cloud = register(direct, built)
    run = direct.start_functional_verification(cloud["id"], ["service"])
    deadline = time.monotonic() + 30
    # Stop right after the stack was requested: the sandbox builds it at once, and a healthy node would let
    # the same advance run on through the clean-up before an abort could come.
    while not target(run, "service")["resources"].get("stack_id"):
        assert run["state"] == "running" and time.monotonic() < deadline, run
        run = direct.advance_functional_verification(run["id"])
    assert len(aws("elbv2").describe_load_balancers()["LoadBalancers"]) == 1

    run = finish(direct, direct.abort_functional_verification(run["id"]))

    assert run["state"] == "aborted"
    assert steps(run, "service")["delete-load-balancer"] == "passed"
    assert steps(run, "service")["delete-certificate"] == "passed"
    assert_nothing_left(aws, cloud["id"])


# --- refused before anything is launched -------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([], "no functional verification target"),
        (["gpu"], "unknown functional verification target 'gpu'"),
        (["workspace", "workspace"], "'workspace' given twice"),
        ([""], "no functional verification target"),
    ],
)
def test_bad_targets_are_refused(
    client: ControlPlaneClient, built: BuiltCloud, aws: Aws, targets: Any, message: str
) -> None:
    cloud = register(client, built)

    with pytest.raises(InputError, match=message):
        client.start_functional_verification(cloud["id"], targets)

    assert aws("ec2").describe_instances()["Reservations"] == []


def test_targets_must_be_a_list(direct: ControlPlaneClient, built: BuiltCloud) -> None:
    cloud = register(direct, built)
    with pytest.raises(InputError, match="targets must be a list"):
        direct.start_functional_verification(cloud["id"], "workspace")  # type: ignore[arg-type]


def test_a_cloud_that_is_not_active_is_refused(
    client: ControlPlaneClient, built: BuiltCloud, aws: Aws
) -> None:
    cloud = register(client, built, state="failed")

    with pytest.raises(Conflict, match="needs an active cloud"):
        client.start_functional_verification(cloud["id"], ["workspace"])

    assert aws("ec2").describe_instances()["Reservations"] == []


def test_an_unknown_run_is_not_found(client: ControlPlaneClient) -> None:
    with pytest.raises(NotFound, match="fvr_nope"):
        client.get_functional_verification("fvr_nope")
    with pytest.raises(NotFound):
        client.advance_functional_verification("fvr_nope")


def test_a_run_another_caller_is_advancing_is_only_read(
    direct: ControlPlaneClient, built: BuiltCloud, aws: Aws, tmp_path: Any
) -> None:
    from cloudplane.controlplane.db import make_engine
    from cloudplane.controlplane.functional_store import FunctionalVerificationStore

    cloud = register(direct, built)
    run = direct.start_functional_verification(cloud["id"], ["workspace"])
    engine = make_engine(f"sqlite:///{tmp_path / 'cloudplane.db'}")
    store = FunctionalVerificationStore(engine)
    assert store.take_lease("local", run["id"], "another-caller", 60)

    for _ in range(5):
        seen = direct.advance_functional_verification(run["id"])
        time.sleep(0.2)

    assert steps(seen, "workspace") == steps(run, "workspace")
    assert not store.take_lease("local", run["id"], "a-third-caller", 60)
    stored = store.get("local", run["id"]).targets
    store.save("local", run["id"], "another-caller", state="running", targets=stored)
    engine.dispose()
    assert finish(direct, seen)["state"] == "passed"
    assert_nothing_left(aws, cloud["id"])
