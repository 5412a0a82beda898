"""Can a compute config's instance profile serve a cluster of a cloud? It must exist, hold a role EC2 may
assume and the cloud's control-plane role may pass to instances, and that role must be allowed to use the
cloud's bucket (s3:ListBucket on it; s3:GetObject, s3:PutObject, s3:DeleteObject on its objects).

With the caller's AWS credentials, through verification's data access and policy evaluation: the
role's inline and attached policies plus the statements of the bucket policy that name the role (in
the role's own account either one may grant; an explicit Deny in either wins). A check AWS did not let
run (access denied, throttling after every retry, a server error) is reported as not checked, with the
reason, never as a mistake of the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudplane.aws import policies
from cloudplane.aws.errors import AwsError, error_message
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.clusters import compute_config
from cloudplane.clusters.compute_config import ComputeConfig, instance_profile_of, profile_name
from cloudplane.errors import InputError
from cloudplane.verify.checks.iam import ASSUME_ROLE, EC2_SERVICE
from cloudplane.verify.context import VerifyContext, role_name
from cloudplane.verify.iam_eval import Decision, PolicySet, statements_of


@dataclass
class ProfileAccess:
    """`mistakes` make the config unusable with the cloud; `unchecked` says what could not be checked, and why."""

    mistakes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    profile: str | None = None  # the ARN or name checked
    role_arn: str | None = None  # the role the profile holds, once found


def _failed(exc: AwsError) -> str:
    return f"{exc.action} failed: {error_message(exc)}"


def _subjects(decisions: list[Decision]) -> str:
    return ", ".join(d.action if d.resource is None else f"{d.action} on {d.resource}" for d in decisions)


def _deniers(decisions: list[Decision]) -> str:
    return "; ".join(sorted({s.label for d in decisions for s in d.denied_by}))


class _Check:
    def __init__(self, clients: AwsClients, config: ComputeConfig | None, cloud: Mapping[str, Any]) -> None:
        self.ctx = VerifyContext(CloudSpec.from_record(dict(cloud)), clients)
        self.cloud = cloud
        self.result = ProfileAccess()
        given = config is not None and config.instance_profile is not None
        self.profile = instance_profile_of(config, cloud)
        self.result.profile = self.profile
        key = "Arn" if self.profile.startswith("arn:") else "Name"
        self.where = f"{config.source}: aws.IamInstanceProfile.{key}: " if given and config else ""
        self.subject = f"instance profile {self.profile}" + (
            "" if given else f" (the default of cloud {cloud['name']}, named after its instance role)"
        )

    def mistake(self, text: str) -> None:
        self.result.mistakes.append(self.where + text)

    def unchecked(self, what: str, exc: AwsError) -> None:
        self.result.unchecked.append(f"{self.where}{what} ({_failed(exc)})")

    def run(self) -> ProfileAccess:
        role_arn = self.role()
        if role_arn is None:
            return self.result
        self.result.role_arn = role_arn
        self.trust(role_arn)
        self.pass_role(role_arn)
        self.bucket(role_arn)
        return self.result

    def role(self) -> str | None:
        """The ARN of the profile's role, after checking the profile exists and holds one."""
        ctx = self.ctx
        owner = self.profile.split(":")[4] if self.profile.startswith("arn:") else None
        cloud_account = compute_config.cloud_account(self.cloud)
        if owner and cloud_account and owner != cloud_account:
            self.mistake(
                f"{self.profile} is in account {owner}, but cloud {self.cloud['name']} is in account "
                f"{cloud_account}; instances take an instance profile of their own account"
            )
            return None
        try:
            account = ctx.account_id()
            if owner and owner != account:
                self.result.unchecked.append(
                    f"{self.where}{self.subject}: your AWS credentials are of account {account}, so it cannot "
                    "be looked up"
                )
                return None
            found = ctx.instance_profile(profile_name(self.profile))
        except AwsError as exc:
            self.unchecked(f"whether {self.subject} exists", exc)
            return None
        name = profile_name(self.profile)
        if found is None:
            self.mistake(
                f"{self.subject} does not exist in account {account}; create it (aws iam create-instance-profile "
                f"--instance-profile-name {name}) or name an existing one"
            )
            return None
        if self.profile.startswith("arn:") and found.get("Arn") != self.profile:
            self.mistake(
                f"no instance profile has the ARN {self.profile}; the one named {name} is {found.get('Arn')}"
            )
            return None
        roles = found.get("Roles") or []
        if not roles:
            self.mistake(
                f"{self.subject} holds no role, so instances get no credentials; aws iam "
                f"add-role-to-instance-profile --instance-profile-name {name} --role-name ROLE"
            )
            return None
        return str(roles[0]["Arn"])

    def trust(self, role_arn: str) -> None:
        try:
            role = self.ctx.role(role_arn)
        except AwsError as exc:
            self.unchecked(f"whether EC2 may assume role {role_arn}", exc)
            return
        if role is None:  # removed after the profile was read
            self.mistake(f"role {role_arn} of {self.subject} does not exist")
            return
        trust = statements_of(role["AssumeRolePolicyDocument"], "trust policy")
        if not PolicySet(s for s in trust if s.names_service(EC2_SERVICE)).decide(ASSUME_ROLE).allowed:
            self.mistake(
                f"role {role_arn} of {self.subject} does not let {EC2_SERVICE} assume it, so instances get no "
                f"credentials; add {EC2_SERVICE} to the trust relationship of role {role_name(role_arn)}"
            )

    def pass_role(self, role_arn: str) -> None:
        """The control plane launches instances through the cloud's role, which needs iam:PassRole."""
        controlplane = self.ctx.res.controlplane_role_arn
        if not controlplane:
            return
        try:
            decision = self.ctx.role_policies(controlplane).decide("iam:PassRole", role_arn)
        except AwsError as exc:
            self.unchecked(f"whether the control-plane role {controlplane} may pass role {role_arn}", exc)
            return
        if decision.denied_by:
            self.mistake(
                f"the control-plane role {controlplane} is denied iam:PassRole on role {role_arn} of "
                f"{self.subject} ({_deniers([decision])}), so clusters cannot launch with it"
            )
        elif not decision.allowed:
            self.mistake(
                f"the control-plane role {controlplane} may not pass role {role_arn} of {self.subject} to "
                f"instances; allow iam:PassRole on {role_arn} in a policy of role {role_name(controlplane)}"
            )

    def bucket(self, role_arn: str) -> None:
        bucket = self.ctx.res.s3_bucket_id
        if not bucket:
            return  # verification reports a cloud without a bucket
        partition = role_arn.split(":")[1] or "aws"
        bucket_arn = f"arn:{partition}:s3:::{bucket}"
        requirements = [("s3:ListBucket", bucket_arn)]
        requirements += [(action, f"{bucket_arn}/*") for action in policies.BUCKET_OBJECT_ACTIONS]
        try:
            allowed = PolicySet(self.ctx.role_policies(role_arn).statements)
            allowed.extend(s for s in self.ctx.bucket_policy_statements() if s.names_principal(role_arn))
        except AwsError as exc:
            self.unchecked(f"whether role {role_arn} may use bucket {bucket}", exc)
            return
        decisions = [allowed.decide(action, resource) for action, resource in requirements]
        missing = [d for d in decisions if not d.granted_by]
        denied = [d for d in decisions if d.granted_by and d.denied_by]
        name = role_name(role_arn)
        if missing:
            self.mistake(
                f"role {role_arn} of {self.subject} may not use bucket {bucket} of cloud {self.cloud['name']}: "
                f"{_subjects(missing)} not allowed; allow them in a policy of role {name}"
            )
        if denied:
            self.mistake(
                f"role {role_arn} of {self.subject} is denied {_subjects(denied)} on bucket {bucket} by "
                f"{_deniers(denied)}; remove or narrow that Deny"
            )


def instance_profile_mistakes(
    clients: AwsClients, config: ComputeConfig | None, cloud: Mapping[str, Any]
) -> ProfileAccess:
    """Check the profile nodes of `config` (None: the cloud's defaults) launch with in `cloud`."""
    try:
        check = _Check(clients, config, cloud)
    except InputError as exc:  # no profile named and none by default
        return ProfileAccess(mistakes=[str(exc)])
    return check.run()
