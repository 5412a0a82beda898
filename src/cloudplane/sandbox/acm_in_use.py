"""ACM certificates that load balancers use, as AWS tracks them.

moto deletes a certificate whatever uses it, and its InUseBy only ever grows (with listener ARNs and DNS
names). Here:
- DeleteCertificate of a certificate that a listener of its account and region holds (an ELBv2 listener's
  default certificate or one of its listener certificates, or a classic load balancer's listener) fails with
  ResourceInUseException, "Certificate <arn> in account <account> is in use.", until the listener or its load
  balancer is gone;
- DescribeCertificate's InUseBy (and ListCertificates' InUse) names the load balancers using it right now.
"""

from __future__ import annotations

from typing import Any

from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.core.exceptions import AWSError
from moto.elb.models import elb_backends
from moto.elbv2.models import elbv2_backends

from ._patching import patch_attr, wrap_method


class CertificateInUse(AWSError):
    TYPE = "ResourceInUseException"


def load_balancers_using(certificate_arn: str) -> list[str]:
    """ARNs of the load balancers (of the certificate's account and region) with a listener holding it."""
    parts = certificate_arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        return []
    partition, region, account_id = parts[1], parts[3], parts[4]
    current = [
        balancer.arn
        for balancer in elbv2_backends[account_id][region].load_balancers.values()
        if any(
            certificate_arn == listener.certificate or certificate_arn in (listener.certificates or [])
            for listener in balancer.listeners.values()
        )
    ]
    classic = elb_backends[account_id][region].load_balancers.values()
    current += [
        f"arn:{partition}:elasticloadbalancing:{region}:{account_id}:loadbalancer/{balancer.name}"
        for balancer in classic
        if any(listener.ssl_certificate_id == certificate_arn for listener in balancer.listeners)
    ]
    return current


def _delete_certificate(orig: Any, self: AWSCertificateManagerBackend, arn: str) -> None:
    if arn in self._certificates and load_balancers_using(arn):
        raise CertificateInUse(f"Certificate {arn} in account {self.account_id} is in use.")
    orig(self, arn)


def _in_use_by(self: CertBundle) -> list[str]:
    return load_balancers_using(self.arn)


def _ignore_recorded_users(self: CertBundle, value: list[str]) -> None:
    # moto's own record (set at creation, appended to by its load balancers) is replaced by the live look-up.
    pass


def apply() -> None:
    wrap_method(AWSCertificateManagerBackend, "delete_certificate", _delete_certificate)
    patch_attr(CertBundle, "in_use_by", property(_in_use_by, _ignore_recorded_users))
