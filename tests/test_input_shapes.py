"""Shapes of user-given values: the whole value must match, in ASCII, or the command stops with exit 2
and shows the value as Python would write it (so a stray newline is visible)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cloudplane import naming
from cloudplane.aws.regions import check_region_name
from cloudplane.clouds import byo_input as shapes
from cloudplane.errors import InputError
from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

ARABIC_INDIC_ACCOUNT = "١٢٣٤٥٦٧٨٩٠١٢"  # twelve digits, in the eyes of `\d`
ROLE = "arn:aws:iam::123456789012:role/cp"


def mistakes_of(check: Callable[[shapes.Mistakes], object]) -> list[str]:
    mistakes = shapes.Mistakes()
    check(mistakes)
    return mistakes.lines


@pytest.mark.parametrize("value", ["okname\n", "okname\r", " okname", "okname ", "naïve"])
def test_cloud_names_must_match_whole(value: str) -> None:
    with pytest.raises(InputError, match="^invalid cloud name") as raised:
        naming.validate_cloud_name(value)
    assert repr(value) in str(raised.value)


def test_good_names_and_ids_still_pass() -> None:
    assert naming.validate_cloud_name("ok-name_1") == "ok-name_1"
    cloud_id = naming.new_cloud_id()
    assert naming.validate_cloud_id(cloud_id) == cloud_id
    assert check_region_name("eu-west-1") == "eu-west-1"
    assert naming.external_id_problem(naming.new_external_id(cloud_id)) is None


def test_cloud_ids_must_match_whole() -> None:
    value = naming.new_cloud_id() + "\n"
    with pytest.raises(InputError, match="^invalid cloud id") as raised:
        naming.validate_cloud_id(value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize("value", ["us-west-2\n", "us-west-٢"])
def test_regions_must_match_whole_in_ascii(value: str) -> None:
    with pytest.raises(InputError, match="^invalid region") as raised:
        check_region_name(value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("vpc", "vpc-0a1b2c3d\n"),
        ("subnet", "subnet-0a1b2c3d\n"),
        ("security group", "sg-0a1b2c3d\n"),
        ("EFS", "fs-0a1b2c3d\n"),
    ],
)
def test_resource_ids_must_match_whole(kind: str, value: str) -> None:
    assert mistakes_of(lambda m: shapes.check_id(kind, "--flag", value, m)) == [
        f"--flag: {value!r} is not a {kind} id (like {shapes.EXAMPLES[kind]})"
    ]
    assert mistakes_of(lambda m: shapes.check_id(kind, "--flag", value.strip(), m)) == []


@pytest.mark.parametrize(
    "value",
    [
        ROLE + "\n",
        f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:role/cp",
        "arn:aws:iam::123456789012:role/cpé",
    ],
)
def test_role_arns_must_match_whole_in_ascii(value: str) -> None:
    lines = mistakes_of(lambda m: shapes.check_role_arn("--role", value, m))
    assert lines == [f"--role: {value!r} is not an IAM role ARN (like arn:aws:iam::123456789012:role/name)"]


def test_a_good_role_arn_gives_its_account() -> None:
    mistakes = shapes.Mistakes()
    assert (
        shapes.check_role_arn("--role", "arn:aws:iam::123456789012:role/path/cp", mistakes) == "123456789012"
    )
    assert mistakes.lines == []


@pytest.mark.parametrize("value", ["acme-data\n", "s3://acme-data\n", "arn:aws:s3:::acme-data\n"])
def test_bucket_names_must_match_whole(value: str) -> None:
    assert mistakes_of(lambda m: shapes.normalise_bucket("--bucket", value, m)) == [
        f"--bucket: {value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')"
    ]


def test_memorydb_names_must_match_whole() -> None:
    assert mistakes_of(lambda m: shapes.check_memorydb_name("--mdb", "cluster\n", m)) == [
        "--mdb: 'cluster\\n' is not a MemoryDB cluster name (lowercase letters, digits, '-', at most 40)"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("feedc0de\n", "'\\n' is not allowed in an External ID"),
        ("feedc0dé", "'é' is not allowed in an External ID"),
        ("x", "an External ID has 2-1224 characters, got 1"),
    ],
)
def test_external_ids_must_match_whole_in_ascii(value: str, problem: str) -> None:
    (line,) = mistakes_of(lambda m: shapes.check_external_id("--external-id", value, m))
    assert line.startswith(f"--external-id: {problem}")


@pytest.mark.parametrize("value", ["10.0.0.1\n", "10.0.0.٣", "10.0.0.01", "10.0.0.256"])
def test_ipv4_addresses_must_match_whole_in_ascii(value: str) -> None:
    assert mistakes_of(lambda m: shapes.check_ipv4("--ip", value, m)) == [
        f"--ip: {value!r} is not an IPv4 address"
    ]


def test_a_good_ipv4_address_passes() -> None:
    assert mistakes_of(lambda m: shapes.check_ipv4("--ip", "10.0.250.9", m)) == []


# --- through the CLI: refused before anything is made ------------------------------------------


def test_setup_refuses_a_name_with_a_trailing_newline(aws_env: SandboxServer) -> None:
    run = cloudplane("cloud", "setup", "--name", "okname\n", "--yes")
    assert run.exit_code == 2
    assert (
        run.stderr
        == "error: invalid cloud name 'okname\\n': use 1-63 letters, digits, '-' or '_', starting with a letter or digit\n"
    )
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []


def test_setup_refuses_a_region_with_a_trailing_newline(aws_env: SandboxServer) -> None:
    run = cloudplane("cloud", "setup", "--name", "okname", "--region", "us-west-2\n", "--yes")
    assert run.exit_code == 2 and "invalid region 'us-west-2\\n'" in run.stderr
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []


def test_get_refuses_an_id_with_a_trailing_newline(aws_env: SandboxServer) -> None:
    run = cloudplane("cloud", "get", "--id", "cld_" + "a" * 20 + "\n")
    assert run.exit_code == 2 and "invalid cloud id 'cld_aaaaaaaaaaaaaaaaaaaa\\n'" in run.stderr


def test_register_refuses_ids_with_trailing_newlines(aws_env: SandboxServer) -> None:
    run = cloudplane(
        "cloud", "register", "--name", "acme", "--vpc-id", "vpc-0a1b2c3d\n",
        "--subnet-ids", "subnet-0a1b2c3d,subnet-1a1b2c3d", "--security-group-ids", "sg-0a1b2c3d",
        "--s3-bucket-id", "acme-data\n", "--efs-id", "fs-0a1b2c3d\n",
        "--controlplane-iam-role-id", ROLE + "\n",
        "--instance-iam-role-id", f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:role/nodes",
        "--external-id", "feedc0de\n", "--yes",
    )  # fmt: skip
    assert run.exit_code == 2
    for flag in [
        "--vpc-id: 'vpc-0a1b2c3d\\n'",
        "--s3-bucket-id: 'acme-data\\n'",
        "--efs-id: 'fs-0a1b2c3d\\n'",
        f"--controlplane-iam-role-id: {ROLE + chr(10)!r}",
        "--instance-iam-role-id: 'arn:aws:iam::",
        "--external-id: '\\n' is not allowed",
    ]:
        assert flag in run.stderr
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []
