"""Shapes of the ids and ARNs a user gives for customer-defined resources, checked before any AWS call."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cloudplane.naming import external_id_problem, shown

# Checked with fullmatch (`re.match` with `$` would accept a trailing newline) and re.ASCII
# (`\d` and `\w` would accept digits and letters of every script).
_AWS_ID = r"[0-9a-f]{8}(?:[0-9a-f]{9})?"
_SHAPES = {
    "vpc": re.compile(rf"vpc-{_AWS_ID}"),
    "subnet": re.compile(rf"subnet-{_AWS_ID}"),
    "security group": re.compile(rf"sg-{_AWS_ID}"),
    "EFS": re.compile(rf"fs-{_AWS_ID}"),
}
_ROLE_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})", re.ASCII)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Names S3 refuses although they match _BUCKET, so no bucket has them.
_IP_SHAPED = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_RESERVED_PREFIXES = ("xn--", "sthree-")
_MEMORYDB = re.compile(r"[a-z][a-z0-9-]{0,39}")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # no leading zeros: 010 reads as octal
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
EXAMPLES = {
    "vpc": "vpc-0a1b2c3d",
    "subnet": "subnet-0a1b2c3d",
    "security group": "sg-0a1b2c3d",
    "EFS": "fs-0a1b2c3d",
}


class Mistakes:
    """Collects every input mistake so the user sees them all at once, one line each."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def raise_if_any(self) -> None:
        if self.lines:
            from cloudplane.errors import InputError

            raise InputError("\n".join(self.lines))


def check_id(kind: str, flag: str, value: str, mistakes: Mistakes) -> None:
    if not _SHAPES[kind].fullmatch(value):
        mistakes.add(f"{flag}: {shown(value)} is not a {kind} id (like {EXAMPLES[kind]})")


def split_list(kind: str, flag: str, value: str, mistakes: Mistakes, *, minimum: int = 1) -> list[str]:
    """A comma list: no empty items, no repeats, each of the right shape."""
    items = [item.strip() for item in value.split(",")]
    if not any(items):  # one mistake, not an empty item and too few ids
        mistakes.add(f"{flag}: no {kind} ids in {shown(value)}; give at least {minimum}, separated by commas")
        return []
    if any(not item for item in items):
        mistakes.add(
            f"{flag}: empty item in {shown(value)}; separate ids with single commas, no spaces needed"
        )
    items = [item for item in items if item]
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        mistakes.add(f"{flag}: {', '.join(repeated)} given more than once")
    for item in dict.fromkeys(items):
        check_id(kind, flag, item, mistakes)
    unique = list(dict.fromkeys(items))
    if len(unique) < minimum:
        mistakes.add(f"{flag}: give at least {minimum} {kind} ids (got {len(unique)})")
    return unique


def check_role_arn(flag: str, value: str, mistakes: Mistakes) -> str | None:
    """The account id of a well-formed role ARN."""
    match = _ROLE_ARN.fullmatch(value)
    if not match:
        mistakes.add(
            f"{flag}: {shown(value)} is not an IAM role ARN (like arn:aws:iam::123456789012:role/name)"
        )
        return None
    return match.group(1)


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _bucket_problem(name: str) -> str | None:
    if not _BUCKET.fullmatch(name) or ".." in name:
        return "3-63 lowercase letters, digits, '.' or '-'"
    if _IP_SHAPED.fullmatch(name):
        return "S3 never names a bucket like an IP address"
    reserved = next((prefix for prefix in _RESERVED_PREFIXES if name.startswith(prefix)), None)
    if reserved:
        return f"names starting with {reserved} are reserved by S3"
    return None


def normalise_bucket(flag: str, value: str, mistakes: Mistakes) -> str:
    """Accepts `name`, `s3://name` and `arn:aws:s3:::name`; returns the bare name."""
    name = value.removeprefix("s3://").removeprefix("arn:aws:s3:::").rstrip("/")
    problem = _bucket_problem(name)
    if problem:
        mistakes.add(f"{flag}: {shown(value)} is not an S3 bucket name ({problem})")
    return name


def check_memorydb_name(flag: str, value: str, mistakes: Mistakes) -> None:
    if not _MEMORYDB.fullmatch(value):
        mistakes.add(
            f"{flag}: {shown(value)} is not a MemoryDB cluster name (lowercase letters, digits, '-', at most 40)"
        )


def check_external_id(flag: str, value: str, mistakes: Mistakes) -> None:
    problem = external_id_problem(value)
    if problem:
        mistakes.add(f"{flag}: {problem}")


def check_ipv4(flag: str, value: str, mistakes: Mistakes) -> None:
    if not _IPV4.fullmatch(value):
        mistakes.add(f"{flag}: {shown(value)} is not an IPv4 address")


def same_account(accounts: Iterable[str | None], mistakes: Mistakes) -> None:
    found = {a for a in accounts if a}
    if len(found) > 1:
        mistakes.add(
            f"the two roles are in different accounts ({', '.join(sorted(found))}); both must be in the cloud's account"
        )
