"""Request faults: throttling and 5xx answers in each protocol's own shape, retried by botocore as on AWS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

# One cheap read per protocol: ec2, query (IAM, STS, CloudFormation), rest-xml (S3), rest-json (EFS),
# JSON 1.1 (MemoryDB, Service Quotas).
CALLS: dict[str, Callable[[Callable[..., Any]], Any]] = {
    "ec2": lambda aws: aws("ec2").describe_vpcs(),
    "iam": lambda aws: aws("iam").list_roles(),
    "sts": lambda aws: aws("sts").get_caller_identity(),
    "cloudformation": lambda aws: aws("cloudformation").list_stacks(),
    "s3": lambda aws: aws("s3").list_buckets(),
    "efs": lambda aws: aws("efs").describe_file_systems(),
    "memorydb": lambda aws: aws("memorydb").describe_clusters(),
    "service-quotas": lambda aws: aws("service-quotas").get_service_quota(
        ServiceCode="vpc", QuotaCode="L-F678F1CE"
    ),
}


@pytest.fixture
def once(aws_env: SandboxServer) -> Callable[..., Any]:
    """Clients that never retry (`retries={"max_attempts": 1}`, the `aws` fixture's, allows one retry)."""
    session = boto3.session.Session()
    config = Config(region_name="us-west-2", retries={"total_max_attempts": 1})
    return lambda service: session.client(service, config=config)


@pytest.fixture
def faults(aws_env: SandboxServer) -> Iterator[SandboxServer]:
    """The reset sandbox; faults are switched off again however the test ends."""
    try:
        yield aws_env
    finally:
        aws_env.clear_faults()


def _context(error: ClientError) -> standard.RetryContext:
    return standard.RetryContext(attempt_number=1, parsed_response=error.response)


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return "ok"


def _faults_route(sandbox: SandboxServer, method: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{sandbox.url}/moto-api/cloudplane/faults",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("service", sorted(CALLS))
def test_throttled_in_the_protocols_own_shape(faults: SandboxServer, once: Any, service: str) -> None:
    faults.set_faults(throttle_rate=1.0)
    with pytest.raises(ClientError) as caught:
        CALLS[service](once)
    assert standard.ThrottledRetryableChecker().is_retryable(_context(caught.value)), caught.value.response
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert faults.fault_counters() == {"requests": 1, "throttled": 1, "failed": 0}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_server_errors_are_5xx(faults: SandboxServer, once: Any, service: str) -> None:
    faults.set_faults(error_rate=1.0, seed=1)
    for _ in range(4):  # both halves of the error band: 500 and 503
        with pytest.raises(ClientError) as caught:
            CALLS[service](once)
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] in (500, 503), error
        assert error["Error"]["Code"] in (
            "InternalError",
            "InternalFailure",
            "ServiceUnavailable",
            "Unavailable",
        )
        assert not standard.ThrottledRetryableChecker().is_retryable(_context(caught.value))
    assert faults.fault_counters() == {"requests": 4, "throttled": 0, "failed": 4}


def test_head_requests_get_a_bodiless_5xx(faults: SandboxServer, aws: Any) -> None:
    aws("s3").create_bucket(
        Bucket="faults-head", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    faults.set_faults(error_rate=1.0)
    with pytest.raises(ClientError) as caught:
        aws("s3").head_bucket(Bucket="faults-head")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    faults.clear_faults()
    aws("s3").head_bucket(Bucket="faults-head")  # the connection and the server are still fine


def test_standard_retries_get_through(faults: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # No back-off sleeps: what matters here is that every call gets through, not how long it waits.
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    config = Config(region_name="us-west-2", retries={"mode": "standard", "max_attempts": 10})
    session = boto3.session.Session()
    ec2, iam, s3 = (session.client(name, config=config) for name in ("ec2", "iam", "s3"))
    faults.set_faults(throttle_rate=0.3, error_rate=0.1, seed=7)
    for index in range(50):
        (ec2.describe_vpcs, iam.list_roles, s3.list_buckets)[index % 3]()
    counters = faults.fault_counters()
    assert counters["throttled"] > 0 and counters["failed"] > 0, counters
    assert counters["requests"] == 50 + counters["throttled"] + counters["failed"]


def test_the_same_seed_gives_the_same_decisions(faults: SandboxServer, once: Any) -> None:
    ec2 = once("ec2")

    def run(seed: int) -> list[str]:
        faults.set_faults(throttle_rate=0.3, error_rate=0.2, seed=seed)
        return [_outcome(ec2.describe_vpcs) for _ in range(30)]

    first = run(7)
    assert {"ok", "RequestLimitExceeded"} <= set(first) and set(first) & {"InternalError", "Unavailable"}
    assert run(7) == first
    assert run(8) != first


def test_unsigned_and_presigned_requests_pass(faults: SandboxServer, aws: Any) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="faults-presigned", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket="faults-presigned", Key="k", Body=b"data")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "faults-presigned", "Key": "k"})
    faults.set_faults(throttle_rate=1.0)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"data"
    assert faults.fault_counters()["requests"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"throttle_rate": 1.5}, "throttle_rate must be a number from 0 to 1"),
        ({"error_rate": -0.1}, "error_rate must be a number from 0 to 1"),
        ({"throttle_rate": "0.2"}, "throttle_rate must be a number"),
        ({"throttle_rate": 0.7, "error_rate": 0.6}, "must be at most 1"),
        ({"throttle_rate": 0.1, "seed": "x"}, "seed must be an integer"),
        ({"throttle_rate": 0.1, "rate": 0.2}, "unknown settings: rate"),
        ([0.1], "expected"),
    ],
)
def test_control_route_rejects_bad_settings(faults: SandboxServer, body: Any, message: str) -> None:
    status, answer = _faults_route(faults, "POST", body)
    assert status == 400
    assert message in answer["Error"]
    assert _faults_route(faults, "GET")[1]["enabled"] is False


def test_set_faults_raises_value_error(faults: SandboxServer) -> None:
    with pytest.raises(ValueError, match="throttle_rate must be a number from 0 to 1"):
        faults.set_faults(throttle_rate=2.0)


def test_control_route_delete_and_reset_turn_faults_off(faults: SandboxServer, once: Any) -> None:
    status, answer = _faults_route(faults, "POST", {"throttle_rate": 1.0, "seed": 3})
    assert status == 200
    assert answer == {
        "enabled": True,
        "throttle_rate": 1.0,
        "error_rate": 0.0,
        "seed": 3,
        "counters": {"requests": 0, "throttled": 0, "failed": 0},
    }
    assert _outcome(once("iam").list_roles) == "Throttling"

    status, answer = _faults_route(faults, "DELETE")
    assert (status, answer["enabled"], answer["counters"]["throttled"]) == (200, False, 1)
    assert _outcome(once("iam").list_roles) == "ok"

    faults.set_faults(throttle_rate=1.0)
    assert _outcome(once("ec2").describe_vpcs) == "RequestLimitExceeded"
    faults.reset()
    assert _faults_route(faults, "GET")[1] == {
        "enabled": False,
        "throttle_rate": 0.0,
        "error_rate": 0.0,
        "seed": None,
        "counters": {"requests": 0, "throttled": 0, "failed": 0},
    }
    assert _outcome(once("ec2").describe_vpcs) == "ok"


@pytest.mark.parametrize(
    "args",
    [
        ("--throttle-rate", "2"),
        ("--error-rate", "-0.5"),
        ("--throttle-rate", "0.6", "--error-rate", "0.6"),
        ("--throttle-rate", "0.1", "--seed", "abc"),
    ],
)
def test_cli_rejects_bad_fault_flags(args: tuple[str, ...]) -> None:
    result = cloudplane("sandbox", "start", *args)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and args[-2] in errors[0], result.stderr
    assert "Sandbox AWS on" not in result.stderr


def test_cli_applies_faults_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(
        "cloudplane.sandbox.server.serve_forever", lambda host, port, **faults: started.update(faults)
    )
    result = cloudplane("sandbox", "start", "--throttle-rate", "0.2", "--error-rate", "0.05", "--seed", "7")
    assert result.exit_code == 0
    assert "Request faults on: 20% throttled, 5% HTTP 5xx, seed 7" in result.stderr
    assert started == {"throttle_rate": 0.2, "error_rate": 0.05, "seed": 7, "latency_ms": 0.0}
