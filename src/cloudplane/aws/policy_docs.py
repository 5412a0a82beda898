"""docs/iam-policies.md, written from the policy documents themselves (`python -m cloudplane.aws.policy_docs`).

A test compares the page with this output, so the page can never drift from what the product applies.
"""

from __future__ import annotations

import json
from typing import Any

from cloudplane.aws import command_policies, policies

EXAMPLE_CLOUD_ID = "cld_0123456789abcdefghij"
EXAMPLE_BUCKET = "cloudplane-data-cld-0123456789abcdefghij"

_INTRO = """\
# IAM policies: a cloud's roles, and what each command needs

Generated from `cloudplane.aws.policies` and `cloudplane.aws.command_policies` by
`python -m cloudplane.aws.policy_docs > docs/iam-policies.md`; a test fails when this page and the code
disagree. The managed template applies exactly the roles' documents, `cloud verify` checks roles against
them (IAM-4, IAM-5, IAM-6, IAM-9), and `cloud policy` prints them all:

```
cloudplane cloud policy --role controlplane [--cloud-id cld_...] [--output json]
cloudplane cloud policy --role instance --bucket NAME [--output json]
cloudplane cloud policy --for setup|register|verify|edit|update|delete|template [--output json]
```

Commands: """

_ABOUT = {
    policies.STEADY_STATE_POLICY_NAME: "What the control plane needs to run clusters: instances, volumes, "
    "spot capacity, tags, mount targets, the image to start from.",
    policies.SERVICE_STEADY_STATE_POLICY_NAME: "What services need: load balancers (built only through "
    "CloudFormation stacks, hence `aws:CalledViaFirst`), certificates, the stacks that hold them and the "
    "tag look-up that finds them again.",
    policies.INITIAL_SETUP_POLICY_NAME: "Networking set-up and clean-up, kept apart so that it can be "
    "removed once the cloud is set up.",
    policies.INSTANCE_BUCKET_POLICY_NAME: "The nodes' access to the cloud's bucket.",
}


def _section(title: str, note: str, documents: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", note, ""]
    for name, document in documents.items():
        lines += [f"### {name}", "", _ABOUT[name], "", "```json", json.dumps(document, indent=2), "```", ""]
    return lines


# IAM's limits on a policy document's size (characters other than white space).
USER_INLINE_LIMIT = 2048
MANAGED_POLICY_LIMIT = command_policies.MANAGED_POLICY_LIMIT
policy_size = command_policies.policy_size


_COMMANDS_INTRO = """\
## What each command needs of your identity

The least policy the identity running a command needs: what the command calls with your credentials,
nothing more. What the control plane does through the cloud's cross-account role is allowed by the role's
policies above, not by yours; `sts:GetCallerIdentity`, which every command calls first, needs no permission.
`cloud setup` and `cloud delete` build and remove the stack's resources through CloudFormation, which acts
with your permissions: their policies hold every action the resource types' handlers list in the
CloudFormation registry. A test runs each command in the sandbox as an IAM user holding exactly its policy,
checks that every action was asked for, and that taking any one away makes the command fail naming it.

Print one ready for IAM with `cloudplane cloud policy --for COMMAND`, then
`aws iam create-policy --policy-name cloudplane-COMMAND --policy-document file://policy.json` and attach it,
or `aws iam put-user-policy` for a policy within IAM's 2,048 characters of a user's inline policies.
"""


def _command_section(command: str) -> list[str]:
    document = command_policies.command_policy(command)
    size = policy_size(document)
    actions = len(command_policies.command_actions(command))
    parts = command_policies.command_policy_parts(command)
    if size <= USER_INLINE_LIMIT:
        fits = "fits a user's inline policy"
    elif len(parts) == 1:
        fits = (
            f"over the {USER_INLINE_LIMIT:,} of a user's inline policies: create a managed policy (up to "
            f"{MANAGED_POLICY_LIMIT:,}) and attach it"
        )
    else:
        fits = (
            f"over the {MANAGED_POLICY_LIMIT:,} of one managed policy: create the {len(parts)} parts below as "
            "managed policies and attach them all"
        )
    lines = [
        f"### cloud {command}",
        "",
        f"{command_policies.ABOUT[command]} {actions} actions, {size:,} characters ({fits}).",
        "",
    ]
    for index, part in enumerate(parts, 1):
        if len(parts) > 1:
            lines += [f"Part {index} of {len(parts)} (`cloudplane-{command}-{index}`):", ""]
        lines += ["```json", json.dumps(part, indent=2), "```", ""]
    return lines


def render() -> str:
    links = ", ".join(f"[cloud {c}](#cloud-{c})" for c in command_policies.COMMANDS)
    lines = [_INTRO + links + ".\n"]
    lines += _section(
        "The cross-account role (`--role controlplane`)",
        "Trusted by the control plane's principal only with the cloud's External ID. These are its three "
        "inline policies as the managed template gives them:",
        policies.controlplane_inline_policies(),
    )
    scoped = policies.document(policies.tag_scoped_statements(EXAMPLE_CLOUD_ID))
    lines += [
        "### Limited to one cloud's instances (`--cloud-id`)",
        "",
        f"With a cloud id (`--cloud-id`; the customer-defined template once it has one), the unrestricted "
        f"`StartInstances` and `StopInstances` statements of "
        f"{policies.STEADY_STATE_POLICY_NAME} give way to these, which act only on instances tagged "
        f"`{policies.TAG_KEY}=<cloud id>` (shown for {EXAMPLE_CLOUD_ID}):",
        "",
        "```json",
        json.dumps(scoped, indent=2),
        "```",
        "",
    ]
    lines += _section(
        "The instance role (`--role instance`)",
        f"Shown for the bucket {EXAMPLE_BUCKET}:",
        policies.instance_policies(EXAMPLE_BUCKET),
    )
    lines.append(_COMMANDS_INTRO)
    for command in command_policies.COMMANDS:
        lines += _command_section(command)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
