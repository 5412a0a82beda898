"""What a Terraform state file (format version 4) holds: managed resources of the types a cloud is made of,
in the root module and in child modules, every instance of a `count` or `for_each`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudplane.clouds.adopt.found import Found, FoundProfile, FoundRole, Piece
from cloudplane.errors import InputError

FLAG = "--from-terraform-state"
STATE_VERSION = 4


def _load(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise InputError(f"{FLAG}: cannot read {path}: {reason}") from exc
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{FLAG}: {path} is not a Terraform state file: not JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    if not isinstance(state, dict) or "version" not in state:
        raise InputError(f'{FLAG}: {path} is not a Terraform state file: it has no "version"')
    if state["version"] != STATE_VERSION:
        raise InputError(
            f"{FLAG}: {path} has state format version {state['version']!r}; only version {STATE_VERSION} "
            "(Terraform 0.12 and later) is read: run `terraform state pull` with a current Terraform"
        )
    if not isinstance(state.get("resources", []), list):
        raise InputError(f'{FLAG}: {path} is not a Terraform state file: "resources" is not a list')
    return state


def _address(resource: dict[str, Any], instance: dict[str, Any]) -> str:
    """As Terraform writes it: module.net.aws_subnet.private[0], aws_subnet.zone["a"]."""
    address = f"{resource.get('type')}.{resource.get('name')}"
    if resource.get("module"):
        address = f"{resource['module']}.{address}"
    if "index_key" in instance:
        address += f"[{json.dumps(instance['index_key'])}]"
    return address


def _instances(state: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, address, attributes) of every instance of every managed resource."""
    for resource in state.get("resources", []):
        if not isinstance(resource, dict) or resource.get("mode") != "managed":
            continue
        for instance in resource.get("instances") or []:
            attributes = instance.get("attributes") if isinstance(instance, dict) else None
            if isinstance(attributes, dict):
                yield str(resource.get("type")), _address(resource, instance), attributes


def _policy(text: Any) -> dict[str, Any]:
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


def read_state(path: str) -> Found:
    found = Found(source=f"Terraform state {path}")
    for kind, address, attributes in _instances(_load(path)):
        value = attributes.get("id")
        if not isinstance(value, str) or not value:
            continue
        if kind == "aws_vpc":
            found.vpcs.append(Piece(value, address))
        elif kind == "aws_subnet":
            found.subnets.append(Piece(value, address, attributes.get("vpc_id")))
        elif kind == "aws_security_group":
            found.security_groups.append(Piece(value, address, attributes.get("vpc_id")))
        elif kind == "aws_s3_bucket":
            found.buckets.append(Piece(attributes.get("bucket") or value, address))
        elif kind == "aws_efs_file_system":
            found.file_systems.append(Piece(value, address))
        elif kind == "aws_efs_mount_target" and attributes.get("file_system_id"):
            found.file_systems.append(Piece(attributes["file_system_id"], f"file system of {address}"))
        elif kind == "aws_memorydb_cluster":
            found.memorydb_clusters.append(Piece(attributes.get("name") or value, address))
        elif kind == "aws_iam_role":
            name = attributes.get("name") or value
            found.add_role(
                FoundRole(
                    attributes.get("arn", ""), name, _policy(attributes.get("assume_role_policy")), address
                )
            )
        elif kind == "aws_iam_instance_profile" and attributes.get("role"):
            found.profiles.append(FoundProfile((attributes["role"],), address))
    return found
