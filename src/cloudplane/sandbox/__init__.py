"""The sandbox: a local AWS (moto 5.2.5 in server mode) made faithful enough for cloudplane's templates.

Product code never imports this package; it talks to the sandbox only through `AWS_ENDPOINT_URL`.
Start it with `cloudplane.sandbox.server.start_threaded()` (tests) or `serve_forever(host, port)` (CLI).
`install()` applies every extension to moto and must run before the server answers its first request.

What the extensions change (each module's docstring has the details):
- cfn_template_format, cfn_intrinsics, cfn_conditions, cfn_language_extensions, cfn_template_guard: templates
  written by others run: JSON or YAML with every short-form tag (`!GetAtt` as a list or "A.B.C", dates kept as
  strings); every intrinsic function resolved as CloudFormation does (Fn::Sub with a variable map, Fn::Select /
  Fn::FindInMap over functions, FindInMap's DefaultValue, `AWS::NoValue` in lists, `Fn::GetAZs` the stack
  region's zones that have a default subnet, `Fn::Cidr`), conditions compared as strings, and
  `Transform: AWS::LanguageExtensions` (Fn::Length, Fn::ToJsonString, Fn::ForEach, DeletionPolicy /
  UpdateReplacePolicy as functions). What the sandbox cannot run (another transform, an unknown function, an
  attribute a resource lacks, a malformed body) is CloudFormation's ValidationError naming it, and any other
  unexpected error on a template action a ValidationError with its message: never an HTTP 500. A resource
  type the sandbox cannot create is refused ("Unrecognized resource types: [...]"), no longer skipped.
- cfn_dhcp_options: AWS::EC2::DHCPOptions and AWS::EC2::VPCDHCPOptionsAssociation.
- cfn_iam_groups: AWS::IAM::Group; deleting an AWS::IAM::ManagedPolicy detaches it from what the stack declared
  and deletes it (moto left it attached, so its role or group failed to delete).
- cfn_limits: a TemplateBody over 51,200 bytes (a TemplateURL template over 1 MB) and a CreateStack name that
  is not 1-128 letters, digits and hyphens are refused with AWS's ValidationError.
- cfn_properties: VPC DNS attributes, Subnet MapPublicIpOnLaunch, EC2 `Tags`, SecurityGroup inline
  ingress/egress, Bucket CORS / public access block / versioning, Role inline policies (as JSON) and
  ManagedPolicyArns take effect.
- cfn_types: AWS::EC2::SecurityGroupEgress, AWS::S3::BucketPolicy, AWS::MemoryDB::{ParameterGroup,
  SubnetGroup,Cluster}; real SubnetRouteTableAssociation and SecurityGroupIngress (physical ids, delete);
  a MemoryDB subnet group refuses subnets in zones MemoryDB does not run in, and a cluster refuses a
  parameter group whose family does not match its engine and version
  (`CLOUDPLANE_SANDBOX_MEMORYDB_DEFAULT_ENGINE` moves the default engine, as AWS may).
- cfn_updates: a stack update changes a SecurityGroup's tags in place (no replacement), a Role's trust,
  inline and managed policies (only those its previous template declared: a customer's own stay) and tags,
  and EFS / MemoryDB tags, as AWS does.
- cfn_getatt: the GetAtt attributes moto lacks (Subnet AvailabilityZone, EFS FileSystemId / Arn, MountTarget
  IpAddress, SecurityGroup VpcId, IGW / RouteTable / VPCEndpoint ids, ...).
- cfn_delete: delete_stack removes gateways, attachments, route tables, routes and endpoints; a non-empty
  bucket fails with BucketNotEmpty; a role keeps the policies its template did not declare, so its delete
  fails with DeleteConflict while one was added outside the stack.
- ec2_rules: deleting a VPC with an attached gateway, a live endpoint or extra security groups fails with
  DependencyViolation, as does deleting a subnet that still has network interfaces.
- cfn_permissions: under IAM enforcement each resource of a stack operation (create, update, delete, a
  rollback) needs its CloudFormation handler's permissions (the resource-provider schemas' lists) from the
  principal that made the stack request, or its service role; a denied action fails the resource with the
  handler's AccessDenied and the stack rolls back or ends DELETE_FAILED. `handler_permissions(type, op)`.
- cfn_lifecycle: per-resource stack events and statuses, rollback of a failed create (ROLLBACK_COMPLETE),
  DELETE_FAILED that keeps the stack, OnFailure, no lazy re-creation of resources by describe calls.
- cfn_update_rollback: UpdateStack and ExecuteChangeSet create / update resources in dependency order, delete
  dropped ones in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, and a failed update rolls back (UPDATE_ROLLBACK_IN_PROGRESS
  -> UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS -> UPDATE_ROLLBACK_COMPLETE): changed resources get their
  previous properties, new ones are deleted, the previous template and parameters stay; the request succeeds.
- cfn_change_sets, cfn_change_diff: UPDATE change sets list Add / Modify (Replacement True | False | Conditional,
  Scope, Details) / Remove from resolved properties; no change ends FAILED with CloudFormation's reason;
  ExecuteChangeSet runs the update path above (EXECUTE_COMPLETE / EXECUTE_FAILED) and drops the stack's other
  change sets; lookups by name honour StackName.
- s3_policy: bucket policies with Conditions (e.g. aws:SecureTransport) no longer block object calls.
- memorydb_api: parameter groups, DescribeParameters, DescribeACLs; CreateCluster validates its references.
- iam_startup: AWS-managed policies are loaded without costing about a second after every reset.
- nat_gateways: a NAT gateway's interface is in its subnet; DeleteNatGateway frees its interface and address;
  stacks delete NatGateway and release EIP resources; a Route's target follows stack updates.
- quotas: GetServiceQuota answers applied values only (NoSuchResourceException otherwise, as for a quota never
  raised), GetAWSDefaultServiceQuota every vCPU, Elastic IP, VPC, gateway and NAT code, increase requests are
  approved at once; VPC, internet gateway, Elastic IP and NAT-gateway-per-zone limits are enforced.
- request_faults: a share of AWS API requests answered with the service's own throttling error or a 5xx,
  reproducibly with a seed, before the request has any effect.
- latency: every AWS API answer delayed by a fixed time, requests in flight waiting side by side as on a
  network (the /moto-api routes, IMDS and the instances' network answer at once), so that timings show a
  command's critical path as it will be on AWS.
- region_opt_in: opt-in regions can be disabled; DescribeRegions reports their status as AWS does, and requests
  signed for a disabled region are refused (EC2 AuthFailure, STS and others InvalidClientTokenId).
- iam_consistency: a switchable delay after which IAM writes become visible to GetRole / GetRolePolicy /
  GetInstanceProfile, as AWS's eventual consistency does.
- instance_startup, imds, vpc_network, elb_health: a launched instance runs its `#!` user data as cloud-init
  would, with its role's credentials from an IMDSv2 at `/moto-api/cloudplane/imds/<id>/`, its sockets inside
  the VPC's security groups (`/moto-api/cloudplane/network/{reach,resolve,listen}`), its output as console
  output; DescribeTargetHealth checks instance targets through the groups and the script's listener.
- elb_stacks: a stack's TargetGroup registers its `Targets` (and follows them on update); deleting a stack
  removes its listener rules, listeners, target groups and load balancers, in dependency order.
- acm_in_use: DeleteCertificate fails with ResourceInUseException while a load balancer's listener holds the
  certificate; InUseBy names the load balancers using it now.
- iam_actions: under IAM enforcement the tagging API's actions are checked as `tag:...` (moto: `tagging:...`).
- iam_signatures: under IAM enforcement a request without a body (EFS's GETs) passes the signature check.
- iam_denials: under IAM enforcement JSON services (MemoryDB, Service Quotas, EFS, ACM, tagging) refuse with
  AccessDeniedException in JSON, as AWS does, instead of IAM's XML.
- iam_audit: every permission checked under IAM enforcement (the request's action, each handler action) is
  recorded with its principal, whether it was allowed and its source ("request" / "cloudformation:<Id>").
- sts_trust: AssumeRole honours the role's trust policy (principal, External ID and other conditions, explicit
  Deny, the role's own account, IAM's delayed view) whether or not IAM is enforced, refusing as AWS does.

Test hooks for failure paths:
- A resource can fail naturally, e.g. an `AWS::EC2::Subnet` whose CidrBlock lies outside the VPC fails with
  InvalidSubnet.Range and the stack rolls back to ROLLBACK_COMPLETE.
- `POST /moto-api/cloudplane/fail-next` with `{"ResourceType": "AWS::EFS::FileSystem", "Reason": "..."}`
  (optionally "LogicalResourceId") makes the next create of that type fail with exactly that reason, in
  CreateStack or in an update that adds the resource; with `"Operation": "update"` the next in-place update of
  such an existing resource fails instead (UPDATE_FAILED, then UPDATE_ROLLBACK_COMPLETE). Rules fire once;
  `POST /moto-api/reset` clears them.
- `POST /moto-api/cloudplane/service-quotas` with `[{"ServiceCode", "QuotaCode", "Value", "Region"?}]` sets
  quota values until the next reset; `CLOUDPLANE_SANDBOX_QUOTAS` (JSON or a file path) sets start-up values.
- `POST /moto-api/cloudplane/regions` with `{"disabled": ["ap-east-1"]}` disables opt-in regions until the next
  reset; `CLOUDPLANE_SANDBOX_DISABLED_REGIONS` (comma-separated) sets the start-up value.
- `POST /moto-api/cloudplane/iam-consistency` with `{"delay_ms": 1500}` delays IAM read-after-write until reset.
- `GET /moto-api/cloudplane/iam-checks` lists the permissions checked under IAM enforcement, in order, as
  `{"checks": [{"principal", "action", "allowed", "source"}]}`; `DELETE` on it (or a reset) clears them.
- `POST /moto-api/cloudplane/faults` with `{"throttle_rate": 0.2, "error_rate": 0.05, "seed": 7}` injects
  request faults (also `cloudplane sandbox start --throttle-rate --error-rate --seed`) until reset.
- `POST /moto-api/cloudplane/latency` with `{"ms": 50}` delays every AWS API answer by 50 ms until reset (also
  `cloudplane sandbox start --latency-ms 50`, `start_threaded(latency_ms=50)`); `GET` shows it, `DELETE` ends it.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Apply every extension to moto. Idempotent and thread-safe."""
    global _installed
    with _lock:
        if _installed:
            return
        # Imported here so that importing the package stays cheap and moto is only loaded when needed.
        from . import (
            _moto_api,
            acm_in_use,
            cfn_change_sets,
            cfn_conditions,
            cfn_delete,
            cfn_dhcp_options,
            cfn_getatt,
            cfn_iam_groups,
            cfn_intrinsics,
            cfn_language_extensions,
            cfn_lifecycle,
            cfn_limits,
            cfn_permissions,
            cfn_properties,
            cfn_template_format,
            cfn_template_guard,
            cfn_types,
            cfn_update_rollback,
            cfn_updates,
            ec2_rules,
            elb_health,
            elb_stacks,
            fault_injection,
            iam_actions,
            iam_audit,
            iam_consistency,
            iam_denials,
            iam_signatures,
            iam_startup,
            imds,
            instance_startup,
            latency,
            memorydb_api,
            nat_gateways,
            quotas,
            region_opt_in,
            request_faults,
            s3_policy,
            sts_trust,
            vpc_network,
        )

        for module in (
            _moto_api,
            iam_startup,
            cfn_intrinsics,
            cfn_conditions,
            cfn_template_format,
            cfn_language_extensions,
            cfn_getatt,
            cfn_delete,
            ec2_rules,
            cfn_properties,
            cfn_types,
            cfn_dhcp_options,
            cfn_iam_groups,
            cfn_updates,
            cfn_lifecycle,
            cfn_update_rollback,
            cfn_change_sets,
            cfn_limits,
            cfn_template_guard,  # after cfn_limits: it chains to the call_action installed before it
            cfn_permissions,
            s3_policy,
            memorydb_api,
            nat_gateways,
            quotas,
            fault_injection,
            latency,
            request_faults,
            region_opt_in,
            iam_consistency,
            sts_trust,
            instance_startup,
            imds,
            vpc_network,
            elb_health,
            elb_stacks,
            acm_in_use,
            iam_actions,
            iam_audit,
            iam_signatures,
            iam_denials,
        ):
            module.apply()
        _installed = True


__all__ = ["install"]
