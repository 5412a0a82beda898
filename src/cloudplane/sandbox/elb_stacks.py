"""ELBv2 resources of CloudFormation stacks as AWS makes and removes them.

moto ignores a TargetGroup's `Targets`, and deleting a stack removed only its load balancer: its target groups
stayed in the account (and its listeners and rules went only as part of the load balancer).

- an `AWS::ElasticLoadBalancingV2::TargetGroup` registers its `Targets` when it is created (an instance that
  is not running fails the resource with InvalidTarget, as on AWS); a stack update registers the targets it
  adds and deregisters those the template no longer declares;
- deleting a stack removes its ListenerRules, Listeners, TargetGroups and LoadBalancers. A target group still
  forwarded to by a listener or rule fails with ResourceInUse, so the delete passes (cfn_lifecycle) take the
  listeners first, as CloudFormation's dependency order does;
- a deleted listener, rule or load balancer no longer counts among a target group's LoadBalancerArns, through
  the API too, so its targets turn `unused` / Target.NotInUse (elb_health) as on AWS.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.models import ELBv2Backend, FakeTargetGroup, elbv2_backends

from ._patching import deleter, post_create, wrap_method

TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"


def _elbv2(account_id: str, region: str) -> ELBv2Backend:
    return elbv2_backends[account_id][region]


def _declared_targets(props: dict[str, Any] | None) -> list[dict[str, Any]]:
    targets = []
    for item in (props or {}).get("Targets") or []:
        if isinstance(item, dict) and item.get("Id"):
            target: dict[str, Any] = {"Id": str(item["Id"])}
            if item.get("Port") is not None:
                target["Port"] = int(item["Port"])
            targets.append(target)
    return targets


@post_create(TARGET_GROUP)
def _register_declared_targets(
    group: FakeTargetGroup, props: dict[str, Any], account_id: str, region: str
) -> None:
    # On an update `cf_properties` still holds what the previous template declared.
    wanted = _declared_targets(props)
    before = _declared_targets(getattr(group, "cf_properties", None))
    backend = _elbv2(account_id, region)
    dropped = [t for t in before if t not in wanted and t["Id"] in group.targets]
    if dropped:
        backend.deregister_targets(group.arn, dropped)
    if wanted:
        backend.register_targets(group.arn, wanted)


@deleter("AWS::ElasticLoadBalancingV2::Listener")
def _delete_listener(listener: Any, account_id: str, region: str) -> None:
    _elbv2(account_id, region).delete_listener(listener.arn)


@deleter("AWS::ElasticLoadBalancingV2::ListenerRule")
def _delete_listener_rule(rule: Any, account_id: str, region: str) -> None:
    _elbv2(account_id, region).delete_rule(rule.arn)


@deleter(TARGET_GROUP)
def _delete_target_group(group: FakeTargetGroup, account_id: str, region: str) -> None:
    _elbv2(account_id, region).delete_target_group(group.arn)


def _forwards_to(backend: ELBv2Backend, load_balancer_arn: str, target_group_arn: str) -> bool:
    balancer = backend.load_balancers.get(load_balancer_arn)
    if balancer is None:
        return False
    return any(
        target_group_arn in backend._get_target_group_arns_from(action_data=action.data)
        for listener in balancer.listeners.values()
        for rule in listener.rules.values()
        for action in rule.actions
    )


def _forget_unused_load_balancers(backend: ELBv2Backend) -> None:
    for group in backend.target_groups.values():
        group.load_balancer_arns = [
            arn for arn in dict.fromkeys(group.load_balancer_arns) if _forwards_to(backend, arn, group.arn)
        ]


def _then_forget(orig: Any, self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
    result = orig(self, *args, **kwargs)
    _forget_unused_load_balancers(self)
    return result


def apply() -> None:
    """The deleters and the TargetGroup hook register themselves on import; cfn_lifecycle calls them."""
    for name in ("delete_listener", "delete_rule", "delete_load_balancer"):
        wrap_method(ELBv2Backend, name, _then_forget)
