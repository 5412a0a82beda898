"""From a source to the flags of `cloud register`: read it, choose, and say what was chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import regions
from cloudplane.aws.session import AwsClients
from cloudplane.clouds.adopt import flags as F
from cloudplane.clouds.adopt.choose import Choice, choose
from cloudplane.clouds.adopt.found import Found
from cloudplane.clouds.adopt.lookups import AwsLookups
from cloudplane.errors import Conflict, InputError


@dataclass
class Adoption:
    found: Found
    choice: Choice
    command: str  # the equivalent explicit `cloudplane cloud register ...`

    def lines(self) -> list[str]:
        """One line per flag: its value and where it came from."""
        lines = []
        for flag in F.ALL:
            value = self.choice.flags.get(flag)
            if value is None:
                continue
            shown = flag if value is True else f"{flag} {value}"
            lines.append(f"{shown}  from {self.choice.origins[flag]}")
        return lines


def discover(
    *,
    stack: str | None,
    state_path: str | None,
    name: str,
    region: str,
    given: F.Flags,
    principal: Callable[[AwsClients], str] | None = None,
) -> Adoption:
    """Read the stack or the state file and choose the flags; InputError for bad input, an ambiguity or a
    gap. Reads only. `principal`: the control plane's principal (the External ID kept is the one its trust
    statement requires)."""
    if stack and state_path:
        raise InputError("give --from-stack or --from-terraform-state, not both")
    naming.validate_cloud_name(name)
    regions.check_region_name(region)
    aws = AwsClients(region)
    if stack:
        from cloudplane.clouds.adopt.from_stack import read_stack

        found = read_stack(aws, stack, region)
    else:
        from cloudplane.clouds.adopt.from_terraform import read_state

        found = read_state(state_path or "")
    choice = choose(found, given, AwsLookups(aws), principal(aws) if principal else None)
    return Adoption(found, choice, F.equivalent_command(name, region, choice.flags))


def refuse_if_registered(client: Any, adoption: Adoption, name: str) -> None:
    """A source already registered in this control plane (the cloud's own stack, or a cloud using the same
    control-plane role) is not registered again."""
    found = adoption.found
    role = adoption.choice.flags.get(F.CONTROLPLANE_ROLE)
    for cloud in client.list_clouds():
        if cloud["name"] == name and cloud["state"] == "creating":
            continue  # an interrupted registration of this very command: register puts it right
        resources = cloud.get("resources") or {}
        if (
            cloud["id"] == found.tagged_cloud_id
            or (found.stack_id and resources.get("cloudformation_stack_id") == found.stack_id)
            or resources.get("controlplane_role_arn") == role
        ):
            raise Conflict(
                f"{found.source} is already registered here as cloud {cloud['name']} ({cloud['id']}, "
                f"{cloud['deployment']}); see `cloudplane cloud get --id {cloud['id']}`"
            )
