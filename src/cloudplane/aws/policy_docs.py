"""docs/iam-policies.md, written from the policy documents themselves (`python -m cloudplane.aws.policy_docs`).

A test compares the page with this output, so the page can never drift from what the product applies.
"""

from __future__ import annotations

import json
from typing import Any

from cloudplane.aws import policies

EXAMPLE_CLOUD_ID = "cld_0123456789abcdefghij"
EXAMPLE_BUCKET = "cloudplane-data-cld-0123456789abcdefghij"

_INTRO = """\
# IAM policies of a cloud's roles

Generated from `cloudplane.aws.policies` by `python -m cloudplane.aws.policy_docs > docs/iam-policies.md`;
a test fails when this page and the code disagree. The managed template applies exactly these documents,
`cloud verify` checks roles against them (IAM-4, IAM-5, IAM-6, IAM-9), and `cloud policy` prints them:

```
cloudplane cloud policy --role controlplane [--cloud-id cld_...] [--output json]
cloudplane cloud policy --role instance --bucket NAME [--output json]
```
"""

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


def render() -> str:
    lines = [_INTRO]
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
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
