"""Which AWS principal a cloud's cross-account role must trust.

A shared server tells its own identity (`cloudplane server --aws-principal`, GET /api/v1/info); the
embedded control plane, or a server configured without one, acts as the caller's own account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def trusted_principal(client: Any, account_id: Callable[[], str]) -> str:
    configured = (client.info() or {}).get("aws_principal")
    return configured or f"arn:aws:iam::{account_id()}:root"
