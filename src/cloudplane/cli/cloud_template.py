"""`cloudplane cloud template --customer-defined`: a CloudFormation template you apply yourself."""

from __future__ import annotations

from typing import Any

import click


@click.command()
@click.option(
    "--customer-defined",
    is_flag=True,
    help="Print the template of a customer-defined cloud (required; managed clouds come from `cloud setup`).",
)
@click.option(
    "--private-network", is_flag=True, help="Private cluster subnets behind NAT gateways (no public IPs)."
)
@click.option(
    "--nat-gateways",
    type=click.Choice(["per-az", "single"]),
    help="Default of the template's NatGateways parameter: one NAT gateway per zone (default) or one shared.",
)
@click.option(
    "--enable-head-node-fault-tolerance",
    is_flag=True,
    help="Add a MemoryDB cluster for head-node fault tolerance (in the zones where MemoryDB runs, which the "
    "template then takes first).",
)
@click.option("--no-efs", is_flag=True, help="Leave out the EFS file system (workspaces need it).")
@click.option(
    "--name",
    "-n",
    metavar="NAME",
    help="Cloud name in the register command (default: cloud- and 8 characters of the stack's id; never the "
    "stack's name, which may be too long for a cloud name).",
)
@click.option(
    "--cloud-id",
    "--id",
    "cloud_id",
    metavar="CLOUD_ID",
    help="A registered cloud: its External ID and shape, and instance permissions scoped to its tag.",
)
@click.option(
    "--region",
    help="Region of the stack, whose availability zones the template names by ID (default: your AWS "
    "configuration's region, as for `aws cloudformation create-stack`; with --cloud-id: the cloud's).",
)
@click.option(
    "--zone-count",
    type=int,
    help="Number of availability zones, 2-6, at most the region's (default 3, or 2 in a region with 2; with "
    "--cloud-id: as registered).",
)
@click.option(
    "--controlplane-principal",
    metavar="ARN",
    help="Principal the cross-account role trusts (default: your AWS account's root, arn:aws:iam::ACCOUNT:root).",
)
@click.option(
    "--pretty",
    is_flag=True,
    help="Indent the JSON for reading; the largest variants are then too big for --template-body.",
)
def template(
    customer_defined: bool,
    private_network: bool,
    nat_gateways: str | None,
    enable_head_node_fault_tolerance: bool,
    no_efs: bool,
    name: str | None,
    cloud_id: str | None,
    region: str | None,
    zone_count: int | None,
    controlplane_principal: str | None,
    pretty: bool,
) -> int:
    """Print a CloudFormation template (JSON) of a customer-defined cloud.

    \b
    Apply it yourself, then run its RegisterCommand output:
      cloudplane cloud template --customer-defined --name my-cloud > cloud.json
      aws cloudformation create-stack --stack-name my-cloud --template-body file://cloud.json \\
          --capabilities CAPABILITY_NAMED_IAM
    Then print it again with --cloud-id and update the same stack with it: the cross-account role's
    instance permissions become limited to instances tagged with the cloud id.

    The JSON is compact, to fit the 51,200 bytes CloudFormation takes in --template-body; a template
    over that (with --pretty) is named on stderr: upload it to S3 and pass --template-url.
    """
    from cloudplane.clouds.template_request import TemplateRequest, template_options

    request = TemplateRequest(
        customer_defined=customer_defined,
        private_network=private_network,
        nat_gateways=nat_gateways,
        head_node_fault_tolerance=enable_head_node_fault_tolerance,
        no_efs=no_efs,
        name=name,
        cloud_id=cloud_id,
        region=region,
        zone_count=zone_count,
        controlplane_principal=controlplane_principal,
    )
    request.validate()

    from cloudplane.console import Console

    console = Console()
    options = template_options(
        request,
        client=_LazyClient(),
        account_id=_account_id,
        region=_configured_region,
        zones=_availability_zones,
        subnet_zones=_subnet_zones,
        warn=console.warn,
    )
    _warn_about_quotas(options, console)

    from cloudplane.aws.byo_template import (
        TEMPLATE_BODY_MAX_BYTES,
        body_size,
        customer_defined_template,
        template_json,
    )

    body = template_json(customer_defined_template(options), indent=2 if pretty else None)
    size = body_size(body)
    if size > TEMPLATE_BODY_MAX_BYTES:
        instead = " (or print it without --pretty)" if pretty else ""
        console.warn(
            f"this template is {size:,} bytes, over the {TEMPLATE_BODY_MAX_BYTES:,} that --template-body takes: "
            f"upload it to S3 and pass its URL with --template-url{instead}"
        )
    console.result(body)
    return 0


def _warn_about_quotas(options: Any, console: Any) -> None:
    """Room in the region for what the template makes (VPC, gateway, Elastic IPs and NAT gateways): a
    warning to raise a quota before applying, not a refusal."""
    from cloudplane.aws.session import AwsClients
    from cloudplane.verify.checks.quotas import template_precheck

    for finding in template_precheck(AwsClients(options.region), options):
        console.warn(" ".join(filter(None, (finding.message, finding.remediation))))


class _LazyClient:
    """The control plane, opened only for what the template needs of it: a cloud id's record, and a shared
    server's principal (the embedded control plane has none: the caller's account is trusted)."""

    def find_cloud(self, **kwargs: Any) -> dict[str, Any]:
        from cloudplane.cli.cloud import open_client

        with open_client() as client:
            return client.find_cloud(**kwargs)

    def info(self) -> dict[str, Any]:
        import os

        from cloudplane.client import URL_ENV

        if not (os.environ.get(URL_ENV) or "").strip():
            return {"aws_principal": None}
        from cloudplane.cli.cloud import open_client

        with open_client() as client:
            return client.info()


def _availability_zones(region: str) -> list[dict[str, str]]:
    from cloudplane.aws import regions
    from cloudplane.aws.session import AwsClients

    return regions.availability_zones(AwsClients(region).client("ec2"))


def _subnet_zones(region: str, subnet_ids: list[str]) -> dict[str, str]:
    from cloudplane.aws.session import AwsClients

    if not subnet_ids:
        return {}
    ec2 = AwsClients(region).client("ec2")
    found = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": subnet_ids}])["Subnets"]
    return {s["SubnetId"]: s["AvailabilityZoneId"] for s in found}


def _configured_region() -> str | None:
    """Where `aws cloudformation create-stack` would make the stack: AWS_REGION (which the AWS CLI v2
    honours first), else boto3's AWS_DEFAULT_REGION or the profile's region."""
    import os

    import boto3

    return os.environ.get("AWS_REGION") or boto3.session.Session().region_name


def _account_id(region: str) -> str:
    from cloudplane.aws.session import AwsClients
    from cloudplane.clouds.identity import caller_identity

    return caller_identity(AwsClients(region))["Account"]
