"""The rules that turn what a source holds into `cloud register` flags, or into the ambiguities and gaps that
the user settles with flags. Explicit flags always win, and settle the choice they name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cloudplane.clouds.adopt import flags as F
from cloudplane.clouds.adopt import trust
from cloudplane.clouds.adopt.found import Found, Piece
from cloudplane.clouds.adopt.lookups import Egress
from cloudplane.clouds.byo_input import Mistakes


class Lookups(Protocol):
    def egress(self, vpc_id: str, subnet_ids: list[str]) -> dict[str, Egress]: ...
    def subnets_of(self, vpc_id: str) -> list[str]: ...
    def mount_target_groups(self, file_system_id: str) -> set[str]: ...
    def trust_of(self, role_arn: str) -> dict[str, Any]: ...


GIVEN = "given"


@dataclass
class Choice:
    """The flags to register with, and for each where its value came from."""

    flags: dict[str, str | bool] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def set(self, flag: str, value: str | bool, origin: str) -> None:
        self.flags[flag] = value
        self.origins[flag] = origin


def _distinct(pieces: list[Piece]) -> list[Piece]:
    """One candidate per value (a VPC named by several subnets is one VPC), first origin kept."""
    seen: dict[str, Piece] = {}
    for piece in pieces:
        seen.setdefault(piece.value, piece)
    return list(seen.values())


class _Rules:
    def __init__(self, found: Found, given: F.Flags, lookups: Lookups, principal: str | None) -> None:
        self.found = found
        self.given = given
        self.lookups = lookups
        self.principal = principal
        self.choice = Choice()
        self.problems = Mistakes()

    def pick(self, flag: str, what: str, candidates: list[Piece], *, required: bool) -> str | None:
        """The given value, else the only candidate; several: an ambiguity; none: a gap when required."""
        given = self.given.get(flag)
        if isinstance(given, str) and given:
            self.choice.set(flag, given, GIVEN)
            return given
        candidates = _distinct(candidates)
        if len(candidates) == 1:
            self.choice.set(flag, candidates[0].value, candidates[0].origin)
            return candidates[0].value
        if candidates:
            self.ambiguous(flag, what, candidates)
        elif required:
            self.problems.add(f"{flag}: {self.found.source} holds no {what}; give {flag}")
        return None

    def ambiguous(self, flag: str, what: str, candidates: list[Piece]) -> None:
        self.problems.add(
            f"{self.found.source} holds {len(candidates)} candidates for {flag} ({what}); choose one:"
        )
        for piece in candidates:
            self.problems.add(f"  {flag} {piece.value}  from {piece.origin}")

    def vpc(self) -> str | None:
        candidates = self.found.vpcs or [
            Piece(s.vpc_id, f"VPC of {s.origin}") for s in self.found.subnets if s.vpc_id
        ]
        return self.pick(F.VPC, "VPC", candidates, required=True)

    def subnets(self, vpc_id: str) -> None:
        given = self.given.get(F.SUBNETS)
        if isinstance(given, str) and given:
            self.choice.set(F.SUBNETS, given, GIVEN)
            ids = [s.strip() for s in given.split(",") if s.strip()]
            routes = self.lookups.egress(vpc_id, ids)
            if self.given.get(F.PRIVATE_NETWORK) or (ids and all(routes[s] is Egress.NAT for s in ids)):
                how = GIVEN if self.given.get(F.PRIVATE_NETWORK) else "every subnet routed to a NAT gateway"
                self.choice.set(F.PRIVATE_NETWORK, True, how)
            return
        pieces = [s for s in _distinct(self.found.subnets) if s.vpc_id in (None, vpc_id)]
        if not pieces:
            pieces = [Piece(s, f"subnet of {vpc_id}") for s in self.lookups.subnets_of(vpc_id)]
        if not pieces:
            self.problems.add(
                f"{F.SUBNETS}: no subnet of {vpc_id} in {self.found.source} nor in AWS; give {F.SUBNETS}"
            )
            return
        routes = self.lookups.egress(vpc_id, [p.value for p in pieces])
        private = [p for p in pieces if routes[p.value] is Egress.NAT]
        public = [p for p in pieces if routes[p.value] is Egress.INTERNET]
        if self.given.get(F.PRIVATE_NETWORK) or len(private) >= 2:
            chosen, how = private, "routed to a NAT gateway"
            self.choice.set(F.PRIVATE_NETWORK, True, GIVEN if self.given.get(F.PRIVATE_NETWORK) else how)
        elif public:
            chosen, how = public, "routed to an internet gateway"
        else:
            chosen, how = pieces, "no route to the internet"
        if len(chosen) < 2:
            self.problems.add(
                f"{F.SUBNETS}: only {len(chosen)} subnet of {vpc_id} is {how}; a cloud needs at least 2: "
                f"give {F.SUBNETS}"
            )
            return
        origin = ", ".join(p.origin for p in chosen) + f" ({how})"
        self.choice.set(F.SUBNETS, ",".join(p.value for p in chosen), origin)

    def security_groups(self, vpc_id: str, file_system: str | None) -> None:
        candidates = _distinct([g for g in self.found.security_groups if g.vpc_id in (None, vpc_id)])
        if len(candidates) > 1 and file_system and not self.given.get(F.GROUPS):
            used = self.lookups.mount_target_groups(file_system)
            shared = [g for g in candidates if g.value in used]
            if len(shared) == 1:
                piece = shared[0]
                candidates = [
                    Piece(piece.value, f"{piece.origin}, the group of {file_system}'s mount targets")
                ]
        self.pick(F.GROUPS, f"security group in {vpc_id}", candidates, required=True)

    def roles(self) -> None:
        in_profiles = {name: p.origin for p in self.found.profiles for name in p.role_names}
        instance_roles = [
            Piece(r.arn, f"{r.origin}, in instance profile {in_profiles[r.name]}")
            for r in self.found.roles
            if r.name in in_profiles and trust.lets_ec2_assume(r.trust)
        ]
        instance_role = self.pick(
            F.INSTANCE_ROLE, "role in an instance profile that EC2 may assume", instance_roles, required=True
        )
        controlplane_roles = [
            Piece(r.arn, f"{r.origin}, trusts {', '.join(trust.trusted_principals(r.trust))}")
            for r in self.found.roles
            if r.arn != instance_role and trust.account_statement(r.trust) is not None
        ]
        role = self.pick(
            F.CONTROLPLANE_ROLE, "role that an AWS account may assume", controlplane_roles, required=True
        )
        given = self.given.get(F.EXTERNAL_ID)
        if isinstance(given, str) and given:
            self.choice.set(F.EXTERNAL_ID, given, GIVEN)
        elif role:
            known = next((r.trust for r in self.found.roles if r.arn == role), None)
            policy = known if known is not None else self.lookups.trust_of(role)
            external_id = trust.external_id(policy, self.principal)
            if external_id:
                self.choice.set(F.EXTERNAL_ID, external_id, f"the trust policy of {role}")


def choose(found: Found, given: F.Flags, lookups: Lookups, principal: str | None = None) -> Choice:
    """The register flags for what `found` holds; InputError listing every ambiguity and gap at once.
    `principal`: the control plane's, whose trust statement's External ID is kept (None: any statement's)."""
    rules = _Rules(found, given, lookups, principal)
    vpc_id = rules.vpc()
    file_system = rules.pick(F.EFS, "EFS file system", found.file_systems, required=False)
    if vpc_id:
        rules.subnets(vpc_id)
        rules.security_groups(vpc_id, file_system)
    rules.pick(F.BUCKET, "S3 bucket", found.buckets, required=True)
    rules.pick(F.MEMORYDB, "MemoryDB cluster", found.memorydb_clusters, required=False)
    rules.roles()
    rules.problems.raise_if_any()
    return rules.choice
