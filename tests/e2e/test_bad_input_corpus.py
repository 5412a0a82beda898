"""A corpus of bad input to every command: each is refused with one clear line and the right exit code,
and neither the account nor the control plane changes.

Exit 2 means the input was refused as bad usage or input, before anything was created. Exit 1 means the
input was well-formed but verification found the resources wrong (missing, in another VPC or region);
the findings on stdout name the resource.

The resources every case points at are built once for the module: a registered customer-defined cloud
(`acme`), a second set of correct customer-defined resources nobody registered (`spare`, in another VPC),
a managed cloud made by `cloud setup` (`demo`) and a VPC in another region. No case resets the sandbox;
each one compares the account and the control plane before and after it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer
from tests.helpers import Run, cloudplane
from tests.verify.builders import BuiltCloud, build_cloud

REGION = "us-west-2"
OTHER_REGION = "us-east-1"
ACCOUNT = "123456789012"
LONG = "x" * 10_000
# Longest error line a case may print: a 10k value must be cut short, not echoed whole.
MAX_LINE = 600
ARABIC_INDIC_ACCOUNT = "١٢٣٤٥٦٧٨٩٠١٢"  # twelve digits to a Unicode-aware `\d`
MISSING_VPC = "vpc-0123456789abcdef0"
MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_SG = "sg-0123456789abcdef0"
MISSING_FS = "fs-0123456789abcdef0"
MISSING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
MISSING_CLOUD_ID = "cld_aaaaaaaaaaaaaaaaaaaa"

Factory = Callable[..., Any]


@dataclass(frozen=True)
class Ref:
    """A value of the module's resources, `str.format` style: Ref("{spare_vpc}")."""

    template: str

    def resolve(self, values: dict[str, str]) -> str:
        return self.template.format_map(values)


Value = str | Ref


@dataclass(frozen=True)
class Case:
    args: tuple[Value, ...]
    code: int  # 2: refused as bad input; 1: well-formed, but verification finds the resources wrong
    shows: tuple[Value, ...]  # what names the bad value: its repr, its flag, or the resource id
    lines: int = 1  # error lines: one per mistake


def case(
    case_id: str,
    *args: Value,
    shows: Value | tuple[Value, ...],
    code: int = 2,
    lines: int = 1,
    xfail: str | None = None,
) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    shown = shows if isinstance(shows, tuple) else (shows,)
    return pytest.param(Case(args, code, shown, lines), id=case_id, marks=marks)


# --- the commands, with the module's resources filled in ----------------------------------------------

SETUP = ("cloud", "setup", "--yes")

# A correct registration of the spare resources; each register case changes one or a few flags.
_REGISTER = {
    "--name": "fresh",
    "--region": REGION,
    "--vpc-id": Ref("{spare_vpc}"),
    "--subnet-ids": Ref("{spare_subnets}"),
    "--security-group-ids": Ref("{spare_sg}"),
    "--s3-bucket-id": Ref("{spare_bucket}"),
    "--efs-id": Ref("{spare_fs}"),
    "--controlplane-iam-role-id": Ref("{spare_cp_role}"),
    "--instance-iam-role-id": Ref("{spare_instance_role}"),
}


def register(overrides: dict[str, Value | None], *extra: Value) -> tuple[Value, ...]:
    """`cloud register` of the spare resources with some flags replaced (None leaves a flag out)."""
    args: list[Value] = ["cloud", "register", "--yes"]
    for flag, value in {**_REGISTER, **overrides}.items():
        if value is not None:
            args += [flag, value]
    return (*args, *extra)


def reg(
    case_id: str,
    overrides: dict[str, Value | None],
    *extra: Value,
    shows: Value | tuple[Value, ...],
    code: int = 2,
    lines: int = 1,
    xfail: str | None = None,
) -> Any:
    return case(
        f"register-{case_id}", *register(overrides, *extra), shows=shows, code=code, lines=lines, xfail=xfail
    )


def edit(*args: Value) -> tuple[Value, ...]:
    return ("cloud", "edit", *args, "--yes")


TEMPLATE = ("cloud", "template", "--customer-defined")

CASES = [
    # cloud setup: names
    case("setup-name-empty", *SETUP, "--name", "", shows="''"),
    case("setup-name-64-chars", *SETUP, "--name", "x" * 64, shows=repr("x" * 64)),
    case("setup-name-space", *SETUP, "--name", "my cloud", shows="'my cloud'"),
    case("setup-name-trailing-newline", *SETUP, "--name", "demo2\n", shows=r"'demo2\n'"),
    case("setup-name-leading-dash", *SETUP, "--name", "-demo", shows="'-demo'"),
    case("setup-name-unicode-letters", *SETUP, "--name", "clöud", shows="'clöud'"),
    case("setup-name-emoji", *SETUP, "--name", "cloud🚀", shows="'cloud🚀'"),
    case("setup-name-control-char", *SETUP, "--name", "clo\x1bud", shows=r"'clo\x1bud'"),
    case("setup-name-10k", *SETUP, "--name", LONG, shows=("'xxxxxxxx", "(10000 characters)")),
    case("setup-name-taken-by-customer-defined", *SETUP, "--name", "acme", shows="'acme'"),
    case("setup-name-taken-by-managed", *SETUP, "--name", "demo", "--region", "eu-west-1", shows="'demo'"),
    # cloud setup: regions and choices
    case("setup-region-china", *SETUP, "--name", "ok", "--region", "cn-north-1", shows="cn-north-1"),
    case("setup-region-govcloud", *SETUP, "--name", "ok", "--region", "us-gov-west-1", shows="us-gov-west-1"),
    case("setup-region-unknown", *SETUP, "--name", "ok", "--region", "xx-north-1", shows="'xx-north-1'"),
    case(
        "setup-region-typo",
        *SETUP,
        "--name",
        "ok",
        "--region",
        "us-wset-2",
        shows=("'us-wset-2'", "did you mean us-west-2"),
    ),
    case("setup-region-uppercase", *SETUP, "--name", "ok", "--region", "US-WEST-2", shows="'US-WEST-2'"),
    case("setup-region-empty", *SETUP, "--name", "ok", "--region", "", shows="''"),
    case(
        "setup-region-trailing-newline",
        *SETUP,
        "--name",
        "ok",
        "--region",
        "us-west-2\n",
        shows=r"'us-west-2\n'",
    ),
    case("setup-region-spaces", *SETUP, "--name", "ok", "--region", "us west 2", shows="'us west 2'"),
    case(
        "setup-region-10k",
        *SETUP,
        "--name",
        "ok",
        "--region",
        "a" * 10_000,
        shows=("'aaaaaaaa", "10000 characters"),
    ),
    case("setup-shared-storage-unknown", *SETUP, "--name", "ok", "--shared-storage", "disk", shows="'disk'"),
    case("setup-provider-unknown", *SETUP, "--name", "ok", "--provider", "gcp", shows="'gcp'"),
    # cloud register: names and regions
    reg("name-empty", {"--name": ""}, shows="''"),
    reg("name-unicode-letters", {"--name": "acmé"}, shows="'acmé'"),
    reg("name-emoji", {"--name": "☁cloud"}, shows="'☁cloud'"),
    reg("name-taken", {"--name": "acme"}, shows="'acme'"),
    reg("region-china", {"--region": "cn-north-1"}, shows="cn-north-1"),
    reg("region-govcloud", {"--region": "us-gov-west-1"}, shows="us-gov-west-1"),
    reg("region-trailing-newline", {"--region": "us-west-2\n"}, shows=r"'us-west-2\n'"),
    reg("region-empty", {"--region": ""}, shows="''"),
    # cloud register: ids of the wrong shape or kind
    reg(
        "vpc-is-a-subnet-id",
        {"--vpc-id": Ref("{spare_subnet0}")},
        shows=("--vpc-id", Ref("'{spare_subnet0}'")),
    ),
    reg("vpc-uppercase-hex", {"--vpc-id": "vpc-0A1B2C3D"}, shows="'vpc-0A1B2C3D'"),
    reg("vpc-empty", {"--vpc-id": ""}, shows="--vpc-id: ''"),
    reg("vpc-10k", {"--vpc-id": LONG}, shows=("--vpc-id", "10000 characters")),
    reg("subnets-empty", {"--subnet-ids": ""}, shows="--subnet-ids"),
    reg("subnets-only-commas", {"--subnet-ids": ",,"}, shows="--subnet-ids"),
    reg("subnets-one", {"--subnet-ids": Ref("{spare_subnet0}")}, shows="--subnet-ids: give at least 2"),
    reg(
        "subnets-duplicate",
        {"--subnet-ids": Ref("{spare_subnet0},{spare_subnet1},{spare_subnet0}")},
        shows=Ref("{spare_subnet0} given more than once"),
    ),
    reg(
        "subnets-duplicate-only",
        {"--subnet-ids": Ref("{spare_subnet0},{spare_subnet0}")},
        shows=(Ref("{spare_subnet0} given more than once"), "give at least 2"),
        lines=2,
    ),
    reg(
        "subnets-contain-a-security-group",
        {"--subnet-ids": Ref("{spare_sg},{spare_subnet1}")},
        shows=Ref("'{spare_sg}' is not a subnet id"),
    ),
    reg("security-groups-empty", {"--security-group-ids": ""}, shows="--security-group-ids"),
    reg(
        "security-group-is-a-subnet",
        {"--security-group-ids": Ref("{spare_subnet0}")},
        shows=Ref("'{spare_subnet0}' is not a security group id"),
    ),
    reg(
        "security-groups-duplicate",
        {"--security-group-ids": Ref("{spare_sg},{spare_sg}")},
        shows=Ref("{spare_sg} given more than once"),
    ),
    reg("efs-is-a-security-group", {"--efs-id": Ref("{spare_sg}")}, shows=Ref("--efs-id: '{spare_sg}'")),
    reg("bucket-uppercase", {"--s3-bucket-id": "Acme-Data"}, shows="'Acme-Data'"),
    reg("bucket-underscore", {"--s3-bucket-id": "acme_data"}, shows="'acme_data'"),
    reg("bucket-double-dot", {"--s3-bucket-id": "acme..data"}, shows="'acme..data'"),
    reg("bucket-10k", {"--s3-bucket-id": LONG}, shows=("--s3-bucket-id", "10000 characters")),
    reg("bucket-ip-shaped", {"--s3-bucket-id": "192.168.5.4"}, shows="'192.168.5.4'"),
    reg("bucket-reserved-prefix", {"--s3-bucket-id": "xn--acme-data"}, shows="'xn--acme-data'"),
    reg("bucket-url-uppercase", {"--s3-bucket-id": "s3://Acme-Data"}, shows="'s3://Acme-Data'"),
    reg("efs-empty", {"--efs-id": ""}, shows="--efs-id: ''"),
    reg("memorydb-empty", {"--memorydb-cluster-id": ""}, shows="--memorydb-cluster-id: ''"),
    reg("memorydb-uppercase", {"--memorydb-cluster-id": "Cluster_1"}, shows="'Cluster_1'"),
    reg("memorydb-41-chars", {"--memorydb-cluster-id": "c" * 41}, shows=repr("c" * 41)),
    # cloud register: ARNs
    reg(
        "controlplane-role-is-a-user",
        {"--controlplane-iam-role-id": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        shows=f"'arn:aws:iam::{ACCOUNT}:user/alice'",
    ),
    reg(
        "controlplane-role-is-a-policy",
        {"--controlplane-iam-role-id": f"arn:aws:iam::{ACCOUNT}:policy/cloudplane"},
        shows=f"'arn:aws:iam::{ACCOUNT}:policy/cloudplane'",
    ),
    reg(
        "controlplane-role-is-an-assumed-role",
        {"--controlplane-iam-role-id": f"arn:aws:sts::{ACCOUNT}:assumed-role/cp/session"},
        shows="--controlplane-iam-role-id",
    ),
    reg(
        "instance-role-is-an-instance-profile",
        {"--instance-iam-role-id": f"arn:aws:iam::{ACCOUNT}:instance-profile/nodes"},
        shows=f"'arn:aws:iam::{ACCOUNT}:instance-profile/nodes'",
    ),
    reg("controlplane-role-is-a-bare-name", {"--controlplane-iam-role-id": "my-role"}, shows="'my-role'"),
    reg(
        "controlplane-role-in-china-partition",
        {"--controlplane-iam-role-id": f"arn:aws-cn:iam::{ACCOUNT}:role/cp"},
        shows=f"'arn:aws-cn:iam::{ACCOUNT}:role/cp'",
    ),
    reg(
        "controlplane-role-non-ascii-account",
        {"--controlplane-iam-role-id": f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:role/cp"},
        shows="--controlplane-iam-role-id",
    ),
    reg(
        "roles-in-two-accounts",
        {"--instance-iam-role-id": "arn:aws:iam::210987654321:role/nodes"},
        shows=("different accounts", "210987654321"),
    ),
    reg(
        "roles-in-another-account-than-the-credentials",
        {
            "--controlplane-iam-role-id": "arn:aws:iam::210987654321:role/cp",
            "--instance-iam-role-id": "arn:aws:iam::210987654321:role/nodes",
        },
        shows="210987654321",
    ),
    reg(
        "controlplane-role-of-another-cloud",
        {"--controlplane-iam-role-id": Ref("{acme_cp_role}")},
        shows=Ref("{acme_cp_role}"),
    ),
    reg(
        "both-role-flags-disagree",
        {},
        "--anyscale-iam-role-id",
        Ref("{acme_cp_role}"),
        shows="--anyscale-iam-role-id",
    ),
    reg(
        "controlplane-role-missing", {"--controlplane-iam-role-id": None}, shows="--controlplane-iam-role-id"
    ),
    # cloud register: External IDs
    reg("external-id-space", {}, "--external-id", "ext id", shows=("--external-id", "' '")),
    reg("external-id-accent", {}, "--external-id", "exté", shows=("--external-id", "'é'")),
    reg("external-id-semicolon", {}, "--external-id", "ext;drop", shows=("--external-id", "';'")),
    reg("external-id-one-char", {}, "--external-id", "e", shows=("--external-id", "got 1")),
    reg("external-id-empty", {}, "--external-id", "", shows=("--external-id", "got 0")),
    reg("external-id-10k", {}, "--external-id", LONG, shows=("--external-id", "got 10000")),
    # cloud register: several mistakes, one line each
    reg(
        "three-mistakes",
        {
            "--vpc-id": Ref("{spare_sg}"),
            "--s3-bucket-id": "Bad_Bucket",
            "--instance-iam-role-id": f"arn:aws:iam::{ACCOUNT}:user/bob",
        },
        shows=("--vpc-id", "--s3-bucket-id", "--instance-iam-role-id"),
        lines=3,
    ),
    reg(
        "name-and-vpc",
        {"--name": "my cloud", "--vpc-id": Ref("{spare_sg}")},
        shows=("'my cloud'", "--vpc-id"),
        lines=2,
    ),
    # cloud register: well-formed, but verification finds the resources wrong
    reg("vpc-missing", {"--vpc-id": MISSING_VPC}, code=1, shows=MISSING_VPC),
    reg(
        "subnet-missing",
        {"--subnet-ids": Ref(MISSING_SUBNET + ",{spare_subnet1},{spare_subnet2}")},
        code=1,
        shows=MISSING_SUBNET,
    ),
    reg("security-group-missing", {"--security-group-ids": MISSING_SG}, code=1, shows=MISSING_SG),
    reg(
        "bucket-missing",
        {"--s3-bucket-id": "no-such-bucket-anywhere"},
        code=1,
        shows="no-such-bucket-anywhere",
    ),
    reg("efs-missing", {"--efs-id": MISSING_FS}, code=1, shows=MISSING_FS),
    reg("memorydb-missing", {"--memorydb-cluster-id": "no-such-cluster"}, code=1, shows="no-such-cluster"),
    reg("instance-role-missing", {"--instance-iam-role-id": MISSING_ROLE}, code=1, shows=MISSING_ROLE),
    # Refused before verification: register must edit this role's trust policy, and there is no role.
    reg("controlplane-role-missing-in-iam", {"--controlplane-iam-role-id": MISSING_ROLE}, shows=MISSING_ROLE),
    reg(
        "controlplane-role-is-the-instance-role",
        {"--controlplane-iam-role-id": Ref("{spare_instance_role}")},
        code=1,
        shows=Ref("{spare_instance_role}"),
    ),
    reg(
        "subnets-of-another-vpc", {"--subnet-ids": Ref("{acme_subnets}")}, code=1, shows=Ref("{acme_subnet0}")
    ),
    reg(
        "security-group-of-another-vpc",
        {"--security-group-ids": Ref("{acme_sg}")},
        code=1,
        shows=Ref("{acme_sg}"),
    ),
    reg("efs-of-another-vpc", {"--efs-id": Ref("{acme_fs}")}, code=1, shows=Ref("{acme_fs}")),
    reg(
        "subnet-in-another-region",
        {"--subnet-ids": Ref("{east_subnet},{spare_subnet1}")},
        code=1,
        shows=Ref("{east_subnet}"),
    ),
    reg("vpc-in-another-region", {"--vpc-id": Ref("{east_vpc}")}, code=1, shows=Ref("{east_vpc}")),
    reg("resources-in-another-region", {"--region": OTHER_REGION}, code=1, shows=Ref("{spare_vpc}")),
    # cloud edit: refused from the flags, or (mount targets) once the file system is looked up
    case("edit-nothing-to-edit", *edit("acme"), shows="--aws-s3-id"),
    case("edit-bucket-uppercase", *edit("acme", "--aws-s3-id", "Acme-Data"), shows="'Acme-Data'"),
    case("edit-bucket-underscore", *edit("acme", "--aws-s3-id", "acme_data"), shows="'acme_data'"),
    case("edit-bucket-10k", *edit("acme", "--aws-s3-id", LONG), shows=("--aws-s3-id", "10000 characters")),
    case("edit-bucket-empty", *edit("acme", "--aws-s3-id", ""), shows="--aws-s3-id: ''"),
    case("edit-bucket-ip-shaped", *edit("acme", "--aws-s3-id", "10.0.0.1"), shows="'10.0.0.1'"),
    case(
        "edit-bucket-unchanged", *edit("acme", "--aws-s3-id", Ref("{acme_bucket}")), shows="nothing changes"
    ),
    case(
        "edit-efs-is-a-subnet",
        *edit("acme", "--aws-efs-id", Ref("{acme_subnet0}")),
        shows=Ref("'{acme_subnet0}'"),
    ),
    case(
        "edit-efs-empty-with-mount-target",
        *edit("acme", "--aws-efs-id", "", "--aws-efs-mount-target-ip", Ref("{acme_ip}")),
        shows="--aws-efs-id: ''",
    ),
    case(
        "edit-mount-target-empty",
        *edit("acme", "--aws-efs-mount-target-ip", ""),
        shows="--aws-efs-mount-target-ip: ''",
    ),
    case(
        "edit-memorydb-empty", *edit("acme", "--memorydb-cluster-id", ""), shows="--memorydb-cluster-id: ''"
    ),
    case(
        "edit-mount-target-not-an-ip",
        *edit("acme", "--aws-efs-mount-target-ip", "10.0.0.300"),
        shows="'10.0.0.300'",
    ),
    case(
        "edit-mount-target-leading-zero",
        *edit("acme", "--aws-efs-mount-target-ip", "10.0.0.04"),
        shows="'10.0.0.04'",
    ),
    case("edit-mount-target-ipv6", *edit("acme", "--aws-efs-mount-target-ip", "fe80::1"), shows="'fe80::1'"),
    case(
        "edit-mount-target-of-another-file-system",
        *edit("acme", "--aws-efs-mount-target-ip", Ref("{spare_ip}")),
        shows=(Ref("{spare_ip}"), Ref("{acme_fs}")),
    ),
    case(
        "edit-mount-target-not-of-the-new-file-system",
        *edit("acme", "--aws-efs-id", Ref("{spare_fs}"), "--aws-efs-mount-target-ip", Ref("{acme_ip}")),
        shows=(Ref("{acme_ip}"), Ref("{spare_fs}")),
    ),
    case(
        "edit-mount-target-without-efs",
        *edit("acme", "--aws-efs-id", "none", "--aws-efs-mount-target-ip", Ref("{acme_ip}")),
        shows="--aws-efs-mount-target-ip",
    ),
    case("edit-memorydb-bad-name", *edit("acme", "--memorydb-cluster-id", "Cluster_1"), shows="'Cluster_1'"),
    case("edit-managed-cloud", *edit("demo", "--aws-s3-id", "other-bucket"), shows="demo"),
    case("edit-unknown-cloud", *edit("ghost", "--aws-s3-id", "other-bucket"), shows="'ghost'"),
    case("edit-name-empty", *edit("", "--aws-s3-id", "other-bucket"), shows="''"),
    case("edit-name-with-space", *edit("my cloud", "--aws-s3-id", "other-bucket"), shows="'my cloud'"),
    case(
        "edit-two-names",
        *edit("acme", "--name", "demo", "--aws-s3-id", "other-bucket"),
        shows=("'acme'", "'demo'"),
    ),
    case(
        "edit-cloud-id-bad-shape",
        *edit("--cloud-id", "cld_123", "--aws-s3-id", "other-bucket"),
        shows="'cld_123'",
    ),
    # cloud edit: well-formed, but the cloud would fail verification after the edit
    case(
        "edit-bucket-missing",
        *edit("acme", "--aws-s3-id", "no-such-bucket-anywhere"),
        code=1,
        shows="no-such-bucket-anywhere",
    ),
    case("edit-efs-missing", *edit("acme", "--aws-efs-id", MISSING_FS), code=1, shows=MISSING_FS),
    case(
        "edit-efs-of-another-vpc",
        *edit("acme", "--aws-efs-id", Ref("{spare_fs}")),
        code=1,
        shows=Ref("{spare_fs}"),
    ),
    case(
        "edit-memorydb-missing",
        *edit("acme", "--memorydb-cluster-id", "no-such-cluster"),
        code=1,
        shows="no-such-cluster",
    ),
    # cloud verify
    case("verify-no-cloud", "cloud", "verify", shows="--name"),
    case("verify-name-empty", "cloud", "verify", "--name", "", shows="--name"),
    case("verify-name-trailing-newline", "cloud", "verify", "--name", "acme\n", shows=r"'acme\n'"),
    case("verify-name-unknown", "cloud", "verify", "--name", "ghost", shows="'ghost'"),
    case("verify-id-short", "cloud", "verify", "--id", "cld_123", shows="'cld_123'"),
    case("verify-id-uppercase", "cloud", "verify", "--id", "cld_" + "A" * 20, shows=repr("cld_" + "A" * 20)),
    case("verify-id-is-a-vpc-id", "cloud", "verify", "--id", Ref("{acme_vpc}"), shows=Ref("'{acme_vpc}'")),
    case("verify-id-unknown", "cloud", "verify", "--id", MISSING_CLOUD_ID, shows=MISSING_CLOUD_ID),
    case("verify-name-and-id", "cloud", "verify", "--name", "acme", "--id", Ref("{acme_id}"), shows="--id"),
    case("verify-output-unknown", "cloud", "verify", "--name", "acme", "--output", "yaml", shows="'yaml'"),
    # cloud get
    case("get-no-cloud", "cloud", "get", shows="--name"),
    case("get-name-emoji", "cloud", "get", "--name", "🚀", shows="'🚀'"),
    case("get-name-trailing-space", "cloud", "get", "--name", "acme ", shows="'acme '"),
    case("get-id-10k", "cloud", "get", "--id", LONG, shows=("invalid cloud id", "10000 characters")),
    case("get-id-with-newline", "cloud", "get", "--id", Ref("{acme_id}\n"), shows=Ref("'{acme_id}\\n'")),
    case("get-id-unknown", "cloud", "get", "--id", MISSING_CLOUD_ID, shows=MISSING_CLOUD_ID),
    # cloud set-default
    case(
        "set-default-empty",
        "cloud",
        "set-default",
        "",
        shows="''",
    ),
    case("set-default-name-with-space", "cloud", "set-default", "my cloud", shows="'my cloud'"),
    case("set-default-unknown", "cloud", "set-default", "ghost", shows="'ghost'"),
    case("set-default-id-bad-shape", "cloud", "set-default", "cld_XYZ", shows="'cld_XYZ'"),
    case("set-default-id-unknown", "cloud", "set-default", MISSING_CLOUD_ID, shows=MISSING_CLOUD_ID),
    case("set-default-10k", "cloud", "set-default", LONG, shows=("invalid cloud name", "(10000 characters)")),
    case("set-default-control-char", "cloud", "set-default", "acme\x00", shows=r"'acme\x00'"),
    # cloud delete
    case("delete-no-cloud", "cloud", "delete", "--yes", shows="--name"),
    case("delete-unknown", "cloud", "delete", "--name", "ghost", "--yes", shows="'ghost'"),
    case("delete-name-leading-dash", "cloud", "delete", "--name", "-acme", "--yes", shows="'-acme'"),
    case("delete-id-bad-shape", "cloud", "delete", "--id", "cloud-1", "--yes", shows="'cloud-1'"),
    case("delete-id-unknown", "cloud", "delete", "--id", MISSING_CLOUD_ID, "--yes", shows=MISSING_CLOUD_ID),
    case(
        "delete-customer-defined-with-bucket",
        "cloud",
        "delete",
        "--name",
        "acme",
        "--delete-bucket",
        "--yes",
        shows="acme",
    ),
    # cloud delete-bucket
    case("delete-bucket-uppercase", "cloud", "delete-bucket", "Acme-Data", "--yes", shows="'Acme-Data'"),
    case("delete-bucket-underscore", "cloud", "delete-bucket", "acme_data", "--yes", shows="'acme_data'"),
    case("delete-bucket-two-chars", "cloud", "delete-bucket", "ab", "--yes", shows="'ab'"),
    case(
        "delete-bucket-trailing-newline",
        "cloud",
        "delete-bucket",
        Ref("{spare_bucket}\n"),
        "--yes",
        shows=Ref("'{spare_bucket}\\n'"),
    ),
    case(
        "delete-bucket-10k",
        "cloud",
        "delete-bucket",
        LONG,
        "--yes",
        shows=("'xxxxxxxx", "10000 characters"),
    ),
    case(
        "delete-bucket-region-china",
        "cloud",
        "delete-bucket",
        Ref("{demo_bucket}"),
        "--region",
        "cn-north-1",
        "--yes",
        shows="cn-north-1",
    ),
    case(
        "delete-bucket-region-empty",
        "cloud",
        "delete-bucket",
        Ref("{demo_bucket}"),
        "--region",
        "",
        "--yes",
        shows="''",
    ),
    case(
        "delete-bucket-missing",
        "cloud",
        "delete-bucket",
        "cloudplane-data-nope",
        "--yes",
        shows="'cloudplane-data-nope'",
    ),
    case(
        "delete-bucket-untagged",
        "cloud",
        "delete-bucket",
        Ref("{spare_bucket}"),
        "--yes",
        shows=Ref("{spare_bucket}"),
    ),
    case(
        "delete-bucket-of-customer-defined-cloud",
        "cloud",
        "delete-bucket",
        Ref("{acme_bucket}"),
        "--yes",
        shows=Ref("{acme_bucket}"),
    ),
    case(
        "delete-bucket-of-managed-cloud",
        "cloud",
        "delete-bucket",
        Ref("{demo_bucket}"),
        "--yes",
        shows=Ref("{demo_bucket}"),
    ),
    # cloud template
    case("template-without-customer-defined", "cloud", "template", shows="--customer-defined"),
    case("template-zone-count-0", *TEMPLATE, "--zone-count", "0", shows=("--zone-count", "0")),
    case("template-zone-count-1", *TEMPLATE, "--zone-count", "1", shows=("--zone-count", "1")),
    case("template-zone-count-7", *TEMPLATE, "--zone-count", "7", shows=("--zone-count", "7")),
    case("template-zone-count-negative", *TEMPLATE, "--zone-count", "-1", shows=("--zone-count", "-1")),
    case("template-zone-count-not-a-number", *TEMPLATE, "--zone-count", "three", shows="'three'"),
    case(
        "template-zone-count-above-the-region",
        *TEMPLATE,
        "--enable-head-node-fault-tolerance",
        "--region",
        REGION,
        "--zone-count",
        "6",
        shows=("6 zones", REGION),
    ),
    case("template-region-china", *TEMPLATE, "--region", "cn-north-1", shows="cn-north-1"),
    case("template-region-uppercase", *TEMPLATE, "--region", "US-WEST-2", shows="'US-WEST-2'"),
    case("template-region-empty", *TEMPLATE, "--region", "", shows="''"),
    case("template-name-space", *TEMPLATE, "--name", "my cloud", shows="'my cloud'"),
    case("template-name-10k", *TEMPLATE, "--name", LONG, shows=("invalid cloud name", "(10000 characters)")),
    case("template-cloud-id-bad-shape", *TEMPLATE, "--cloud-id", "cld-abc", shows="'cld-abc'"),
    case("template-cloud-id-unknown", *TEMPLATE, "--cloud-id", MISSING_CLOUD_ID, shows=MISSING_CLOUD_ID),
    case(
        "template-cloud-id-of-managed-cloud",
        *TEMPLATE,
        "--cloud-id",
        Ref("{demo_id}"),
        shows=Ref("{demo_id}"),
    ),
    case(
        "template-cloud-id-other-region",
        *TEMPLATE,
        "--cloud-id",
        Ref("{acme_id}"),
        "--region",
        "eu-west-1",
        shows="--region",
    ),
    case(
        "template-cloud-id-other-zone-count",
        *TEMPLATE,
        "--cloud-id",
        Ref("{acme_id}"),
        "--zone-count",
        "2",
        shows="--zone-count",
    ),
    case(
        "template-nat-gateways-without-private", *TEMPLATE, "--nat-gateways", "single", shows="--nat-gateways"
    ),
    case(
        "template-nat-gateways-unknown",
        *TEMPLATE,
        "--private-network",
        "--nat-gateways",
        "many",
        shows="'many'",
    ),
    case(
        "template-zone-count-above-a-two-zone-region",
        *TEMPLATE,
        "--region",
        "us-west-1",
        "--zone-count",
        "3",
        shows=("3 zones", "us-west-1", "usw1-az1, usw1-az3"),
    ),
    case(
        "template-principal-short-account",
        *TEMPLATE,
        "--controlplane-principal",
        "arn:aws:iam::123:root",
        shows="'arn:aws:iam::123:root'",
    ),
    case(
        "template-principal-is-a-policy",
        *TEMPLATE,
        "--controlplane-principal",
        f"arn:aws:iam::{ACCOUNT}:policy/cp",
        shows=f"'arn:aws:iam::{ACCOUNT}:policy/cp'",
    ),
    case(
        "template-principal-trailing-newline",
        *TEMPLATE,
        "--controlplane-principal",
        f"arn:aws:iam::{ACCOUNT}:root\n",
        shows=rf"'arn:aws:iam::{ACCOUNT}:root\n'",
    ),
    case(
        "template-principal-non-ascii-account",
        *TEMPLATE,
        "--controlplane-principal",
        f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:root",
        shows="--controlplane-principal",
    ),
    # cloud list
    case("list-output-unknown", "cloud", "list", "--output", "yaml", shows="'yaml'"),
    case("list-extra-argument", "cloud", "list", "acme", shows="(acme)"),
    case("list-unknown-option", "cloud", "list", "--all", shows="--all"),
    # sandbox start: refused by its flag checks, before a server starts
    case("sandbox-port-0", "sandbox", "start", "--port", "0", shows=("--port", "0")),
    case("sandbox-port-65536", "sandbox", "start", "--port", "65536", shows=("--port", "65536")),
    case("sandbox-port-not-a-number", "sandbox", "start", "--port", "http", shows="'http'"),
    case(
        "sandbox-throttle-rate-above-1",
        "sandbox",
        "start",
        "--throttle-rate",
        "1.5",
        shows=("--throttle-rate", "1.5"),
    ),
    case(
        "sandbox-error-rate-negative",
        "sandbox",
        "start",
        "--error-rate",
        "-0.1",
        shows=("--error-rate", "-0.1"),
    ),
    case(
        "sandbox-rates-above-1-together",
        "sandbox",
        "start",
        "--throttle-rate",
        "0.7",
        "--error-rate",
        "0.6",
        shows=("--throttle-rate", "--error-rate", "1.3"),
    ),
    case("sandbox-seed-not-a-number", "sandbox", "start", "--seed", "seven", shows="'seven'"),
]


# --- the module's resources -----------------------------------------------------------------------------


@dataclass
class World:
    aws: Factory
    values: dict[str, str] = field(default_factory=dict)
    # The state after the last case, which is the state before the next one: one snapshot per case.
    last: dict[str, Any] | None = None

    def resolve(self, value: Value) -> str:
        return value.resolve(self.values) if isinstance(value, Ref) else value

    def before(self, regions: tuple[str, ...]) -> dict[str, Any]:
        state, self.last = self.last, None  # taken again if this case stops half-way
        if state is None or state["regions"] != regions:
            state = snapshot(self.aws, regions)
        return state

    def after(self, regions: tuple[str, ...]) -> dict[str, Any]:
        self.last = snapshot(self.aws, regions)
        return self.last


def _module_aws() -> Factory:
    session = boto3.session.Session()
    made: dict[tuple[str, str], Any] = {}

    def make(service: str, region_name: str = REGION) -> Any:
        if (service, region_name) not in made:
            config = Config(retries={"max_attempts": 1})
            made[service, region_name] = session.client(service, region_name=region_name, config=config)
        return made[service, region_name]

    return make


def _customer_resources(aws: Factory, vpc_cidr: str) -> BuiltCloud:
    """Correct resources as a customer makes them: the role's trust requires no External ID yet."""
    built = build_cloud(aws, stack=False, vpc_cidr=vpc_cidr)
    iam = aws("iam")
    role = built.cp_role.rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    for statement in trust["Statement"]:
        statement.pop("Condition", None)
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    return built


def _ok(run: Run) -> Run:
    assert run.exit_code == 0, run.stderr + run.stdout
    return run


def _values(prefix: str, built: BuiltCloud, aws: Factory) -> dict[str, str]:
    targets = aws("efs").describe_mount_targets(FileSystemId=built.fs_id)["MountTargets"]
    return {
        f"{prefix}_vpc": built.vpc_id,
        f"{prefix}_subnets": ",".join(built.subnet_ids),
        **{f"{prefix}_subnet{i}": subnet for i, subnet in enumerate(built.subnet_ids)},
        f"{prefix}_sg": built.sg_id,
        f"{prefix}_bucket": built.bucket,
        f"{prefix}_fs": built.fs_id or "",
        f"{prefix}_ip": targets[0]["IpAddress"],
        f"{prefix}_cp_role": built.cp_role,
        f"{prefix}_instance_role": built.instance_role,
    }


@pytest.fixture(scope="module")
def world(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    patch = pytest.MonkeyPatch()
    sandbox.reset()
    patch.setenv("CLOUDPLANE_HOME", str(tmp_path_factory.mktemp("corpus") / "cloudplane-home"))
    patch.delenv("CLOUDPLANE_URL", raising=False)
    patch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)

    def refuse_to_serve(*_: Any, **__: Any) -> None:
        raise RuntimeError("the sandbox would have started: its flags were accepted")

    patch.setattr("cloudplane.sandbox.server.serve_forever", refuse_to_serve)
    # Two customer-defined VPCs and a managed one, besides the default VPC.
    sandbox.set_quota("vpc", "L-F678F1CE", 100)
    sandbox.set_quota("vpc", "L-A4707A72", 100)
    aws = _module_aws()
    world = World(aws)

    acme = _customer_resources(aws, "10.0.0.0/16")
    spare = _customer_resources(aws, "10.1.0.0/16")  # other addresses: its mount targets are not acme's
    world.values.update(_values("acme", acme, aws))
    world.values.update(_values("spare", spare, aws))
    _ok(
        cloudplane(
            "cloud", "register", "--name", "acme", "--region", REGION, "--yes",
            "--vpc-id", acme.vpc_id, "--subnet-ids", ",".join(acme.subnet_ids),
            "--security-group-ids", acme.sg_id, "--s3-bucket-id", acme.bucket, "--efs-id", acme.fs_id or "",
            "--controlplane-iam-role-id", acme.cp_role, "--instance-iam-role-id", acme.instance_role,
        )
    )  # fmt: skip
    _ok(cloudplane(*SETUP, "--name", "demo", "--shared-storage", "object-storage"))
    for name in ("acme", "demo"):
        record = _ok(cloudplane("cloud", "get", "--name", name, "--output", "json")).json()
        world.values[f"{name}_id"] = record["id"]
    world.values["demo_bucket"] = f"cloudplane-data-{world.values['demo_id'].replace('_', '-')}"

    east = aws("ec2", OTHER_REGION)
    east_vpc = east.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    zone = east.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    world.values["east_vpc"] = east_vpc
    world.values["east_subnet"] = east.create_subnet(
        VpcId=east_vpc, CidrBlock="10.2.0.0/24", AvailabilityZone=zone
    )["Subnet"]["SubnetId"]
    yield world
    patch.undo()
    sandbox.reset()


# --- what must not change -------------------------------------------------------------------------------


def regions_of(args: list[str]) -> tuple[str, ...]:
    """The regions a case could change: the module's two and any other commercial region it names."""
    named = [a for a in args if a not in (REGION, OTHER_REGION) and a in _commercial_regions()]
    return (REGION, OTHER_REGION, *dict.fromkeys(named))


@functools.cache
def _commercial_regions() -> frozenset[str]:
    return frozenset(boto3.session.Session().get_available_regions("ec2"))


def snapshot(aws: Factory, regions: tuple[str, ...]) -> dict[str, Any]:
    """The control plane's records and the account's state cloudplane could touch."""
    listed = cloudplane("cloud", "list", "--output", "json")
    assert listed.exit_code == 0, listed.stderr
    state: dict[str, Any] = {"regions": regions, "clouds": listed.json()["clouds"]}
    not_default = [{"Name": "is-default", "Values": ["false"]}]
    for region in regions:
        ec2 = aws("ec2", region)
        state[region] = {
            "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs(Filters=not_default)["Vpcs"]),
            "subnets": sorted(
                (s["SubnetId"], s["VpcId"])
                for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["false"]}])[
                    "Subnets"
                ]
            ),
            "security_groups": sorted(
                (g["GroupId"], g["VpcId"], g["GroupName"])
                for g in ec2.describe_security_groups()["SecurityGroups"]
            ),
            "stacks": sorted(
                (s["StackName"], s["StackStatus"])
                for s in aws("cloudformation", region).list_stacks()["StackSummaries"]
                if s["StackStatus"] != "DELETE_COMPLETE"
            ),
            "file_systems": sorted(
                (f["FileSystemId"], f["LifeCycleState"])
                for f in aws("efs", region).describe_file_systems()["FileSystems"]
            ),
            "memorydb_clusters": sorted(
                c["Name"] for c in aws("memorydb", region).describe_clusters()["Clusters"]
            ),
        }
    state["buckets"] = sorted(b["Name"] for b in aws("s3").list_buckets()["Buckets"])
    iam = aws("iam")
    state["roles"] = {
        role["RoleName"]: role["AssumeRolePolicyDocument"]
        for page in iam.get_paginator("list_roles").paginate()
        for role in page["Roles"]
    }
    return state


def _differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, down to the changed field; records are matched by id."""
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and all(isinstance(item, dict) and "id" in item for item in [*before, *after])
    ):
        before, after = {i["id"]: i for i in before}, {i["id"]: i for i in after}
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            change
            for key in sorted(set(before) | set(after), key=str)
            for change in _differences(before.get(key), after.get(key), f"{path} {key}".strip())
        ]
    if before == after:
        return []
    return [f"{path}: {json.dumps(before, default=str)[:300]} -> {json.dumps(after, default=str)[:300]}"]


def _problems(case: Case, run: Run, shows: list[str]) -> list[str]:
    problems = []
    output = run.stdout + run.stderr
    if "Traceback" in output:
        problems.append("a traceback was printed")
    if run.exit_code != case.code:
        problems.append(f"exit {run.exit_code}, expected {case.code}")
    lines = run.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.lower().startswith("error:")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} `error:` lines, expected 1")
    else:
        block = [line for line in lines[errors[0] :] if line.strip()]
        if len(block) != case.lines:
            problems.append(f"{len(block)} error lines, expected {case.lines}")
        if any(len(line) > MAX_LINE for line in block):
            problems.append(f"an error line of {max(len(line) for line in block)} characters")
        # Refused input is named in the error itself; a failed verification names it in its findings.
        where = "\n".join(block) if case.code == 2 else output
        problems += [f"{text!r} is not named" for text in shows if text not in where]
    return problems


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_and_changes_nothing(world: World, case: Case) -> None:
    args = [world.resolve(arg) for arg in case.args]
    regions = regions_of(args)
    before = world.before(regions)
    run = cloudplane(*args)
    problems = _problems(case, run, [world.resolve(text) for text in case.shows])
    problems += [f"changed: {change}" for change in _differences(before, world.after(regions))]
    assert not problems, "\n".join(
        [
            *problems,
            f"command: {[a[:80] for a in args]}",
            "stderr:",
            run.stderr[-3000:],
            "stdout:",
            run.stdout[-2000:],
        ]
    )


def test_every_command_is_covered() -> None:
    commands = {" ".join(str(a) for a in p.values[0].args[:2] if not str(a).startswith("-")) for p in CASES}
    assert commands >= {
        "cloud setup", "cloud register", "cloud edit", "cloud verify", "cloud get", "cloud set-default",
        "cloud delete", "cloud delete-bucket", "cloud template", "cloud list", "sandbox start",
    }  # fmt: skip
    assert len(CASES) >= 60
