"""`cloud template` warns, before anything is applied, when the region has no room for what it makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

PRIVATE = ("cloud", "template", "--customer-defined", "--region", "us-west-2", "--private-network")


def test_a_nat_gateway_per_zone_beyond_the_elastic_ip_quota_is_warned_about(aws_env: SandboxServer) -> None:
    six_zones = [arg if arg != "us-west-2" else "us-east-1" for arg in PRIVATE]
    run = cloudplane(*six_zones, "--zone-count", "6", "--nat-gateways", "per-az")
    assert run.exit_code == 0, run.stderr
    assert "Elastic IP" in run.stderr and "L-0263D0A3" in run.stderr
    assert run.stdout.startswith("{")  # the template is printed all the same


def test_addresses_already_held_count(aws_env: SandboxServer, aws: Callable[..., Any]) -> None:
    for _ in range(3):
        aws("ec2").allocate_address(Domain="vpc")
    crowded = cloudplane(*PRIVATE, "--zone-count", "3")
    assert "Elastic IP" in crowded.stderr
    roomy = cloudplane(*PRIVATE, "--zone-count", "3", "--nat-gateways", "single")
    assert roomy.exit_code == 0 and "Elastic IP" not in roomy.stderr
