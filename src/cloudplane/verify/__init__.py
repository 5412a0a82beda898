"""`cloud verify`: one check per rule of VERIFICATION-RULES.md, grouped by resource.

Kept light: the engine (and boto3) load on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cloudplane.verify.progress import ProgressEvent

if TYPE_CHECKING:
    from cloudplane.aws.session import AwsClients
    from cloudplane.cloud import CloudSpec
    from cloudplane.verify.report import Finding, Report

__all__ = ["ProgressEvent", "quota_precheck", "verify_cloud"]


def verify_cloud(
    spec: CloudSpec,
    aws: AwsClients,
    *,
    strict: bool = False,
    on_progress: Callable[[ProgressEvent], None] | None = None,
) -> Report:
    from cloudplane.verify import engine

    return engine.verify_cloud(spec, aws, strict=strict, on_progress=on_progress)


def quota_precheck(aws: AwsClients) -> list[Finding]:
    from cloudplane.verify import engine

    return engine.quota_precheck(aws)
