"""How cloudplane says that a customer took its access away: the same words wherever it finds out."""

from __future__ import annotations


def access_revoked(cloud_name: str, role_arn: str, reason: str) -> str:
    """One sentence for a cross-account role that can no longer be assumed (deleted, or its trust removed)."""
    return (
        f"cloudplane's access to cloud {cloud_name} is revoked: its cross-account role {role_arn} cannot be "
        f"assumed with the cloud's External ID ({reason})"
    )


def what_to_do(cloud_name: str) -> str:
    return (
        "If that was not meant, give the role back its trust in the control plane's principal with the "
        f"cloud's External ID (IAM-2 and IAM-3 of `cloudplane cloud verify --name {cloud_name}` say what is "
        f"missing); to stop using the cloud, `cloudplane cloud delete --name {cloud_name}` forgets it."
    )
