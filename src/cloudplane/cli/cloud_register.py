"""`cloudplane cloud register`: a cloud made of resources you created yourself."""

from __future__ import annotations

from typing import Any

import click

from cloudplane.cli.cloud import FUNCTIONAL_VERIFY
from cloudplane.cli.register_sources import adopt_sources


@click.command()
@click.option("--name", "-n", required=True, help="Name of the new cloud.")
@click.option(
    "--provider", type=click.Choice(["aws"]), default="aws", show_default=True, help="Cloud provider."
)
@click.option("--region", default="us-west-2", show_default=True, help="AWS region of the resources.")
# Required unless a source (--from-stack, --from-terraform-state) provides them: see adopt_sources.
@click.option("--vpc-id", help="The VPC (vpc-...).")
@click.option("--subnet-ids", help="Comma-separated subnets in at least two zones.")
@click.option("--security-group-ids", help="Comma-separated security groups.")
@click.option("--s3-bucket-id", help="Bucket name, s3://name or arn:aws:s3:::name.")
@click.option(
    "--efs-id",
    help="EFS file system (fs-...). Leave it out to go without workspaces: they need shared storage.",
)
# The peer's flag name, accepted so existing scripts keep working, but not advertised.
@click.option("--anyscale-iam-role-id", "peer_controlplane_role", hidden=True)
@click.option(
    "--controlplane-iam-role-id",
    "controlplane_role",
    help="ARN of the cross-account role the control plane assumes (required).",
)
@click.option("--instance-iam-role-id", "instance_role", help="ARN of the cluster nodes' role.")
@click.option("--memorydb-cluster-id", help="MemoryDB cluster name, for head-node fault tolerance.")
@click.option(
    "--private-network", is_flag=True, help="Clusters use private subnets with NAT egress (no public IPs)."
)
@click.option(
    "--external-id",
    help="The External ID the role's trust policy already requires; without it, register adds a new one.",
)
@click.option(
    "--add-trust",
    is_flag=True,
    help="When the role trusts another tool's principal only: add a statement of cloudplane's own "
    "(Sid CloudplaneAssume...) trusting the control plane with the cloud's External ID (--external-id if "
    "given), leaving the other statements as they are; put back if registration fails.",
)
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation after warnings or before --functional-verify.",
)
@FUNCTIONAL_VERIFY
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@adopt_sources
def register(
    name: str,
    provider: str,
    region: str,
    vpc_id: str,
    subnet_ids: str,
    security_group_ids: str,
    s3_bucket_id: str,
    efs_id: str | None,
    peer_controlplane_role: str | None,
    controlplane_role: str | None,
    instance_role: str,
    memorydb_cluster_id: str | None,
    private_network: bool,
    external_id: str | None,
    add_trust: bool,
    yes: bool,
    functional_verify: str | None,
    output: str,
    equivalent_command: str | None = None,
) -> int:
    """Register a cloud made of your own resources; verified first, nothing kept if it fails."""
    from cloudplane.clouds import functional_verification as functional
    from cloudplane.clouds.register import RegisterRequest
    from cloudplane.errors import InputError

    targets = functional.parse_flag(functional_verify)
    if controlplane_role and peer_controlplane_role and controlplane_role != peer_controlplane_role:
        raise InputError(
            "--controlplane-iam-role-id and --anyscale-iam-role-id name different roles; give one"
        )
    controlplane_role = controlplane_role or peer_controlplane_role
    if not controlplane_role:
        raise InputError("missing --controlplane-iam-role-id: the ARN of the cross-account role")
    request = RegisterRequest(
        name=name,
        region=region,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        s3_bucket_id=s3_bucket_id,
        controlplane_role_arn=controlplane_role,
        instance_role_arn=instance_role,
        efs_id=efs_id,
        memorydb_cluster_id=memorydb_cluster_id,
        private_network=private_network,
        external_id=external_id,
        add_trust=add_trust,
    )
    request.validate()
    functional.preflight(targets, yes)

    from cloudplane.cli.cloud import open_client
    from cloudplane.clouds.register import register_cloud
    from cloudplane.clouds.verification import render_report, run_verification
    from cloudplane.console import Console, confirm

    console = Console(quiet=output == "json")
    adopted = {"equivalent_command": equivalent_command} if equivalent_command else {}
    if efs_id is None:
        console.warn(
            "No --efs-id: the cloud will have no shared file system, so workspaces will not be available."
        )

    def verify(cloud: dict[str, Any], aws: Any) -> Any:
        report = run_verification(cloud, console=console, aws=aws)
        if output == "text":
            render_report(report, console)
        elif not report.passed:  # scripts get the findings that refused the registration
            console.json({"cloud": None, "verification": report.to_dict(), **adopted})
        return report

    def confirm_warnings(_: Any) -> None:
        confirm("Verification passed with warnings (above). Register the cloud anyway?", yes)

    with open_client() as client:
        cloud, report = register_cloud(
            request, client=client, console=console, verify=verify, confirm_warnings=confirm_warnings
        )
        if output == "text":
            console.result(
                f"Registered cloud {cloud['name']} ({cloud['id']}); External ID {cloud['external_id']}."
            )
        code, run = 0, None
        if targets:
            code, run = functional.run_functional_verification(client, cloud, targets, yes=yes, output=output)
            cloud = client.get_cloud(cloud["id"])
    if output == "json":
        extra = {"functional_verification": run} if targets else {}
        console.json({"cloud": cloud, "verification": report.to_dict(), **adopted, **extra})
    return code
