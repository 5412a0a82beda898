"""The AWS principal that customer roles trust: the shared server's own identity, when configured."""

from __future__ import annotations

import re

from cloudplane.errors import InputError

# arn:aws:iam::<account>:root, or a role or user with an optional path (IAM's name characters).
_IAM_NAME = r"[A-Za-z0-9+=,.@_-]{1,64}"
_PRINCIPAL = re.compile(
    rf"arn:aws:iam::[0-9]{{12}}:(?:root|(?:role|user)/(?:[A-Za-z0-9+=,.@_-]+/)*{_IAM_NAME})", re.ASCII
)


def validate_principal(arn: str) -> str:
    if not isinstance(arn, str) or not _PRINCIPAL.fullmatch(arn):
        shown = repr(arn)[:120] if isinstance(arn, str) else type(arn).__name__
        raise InputError(
            f"invalid AWS principal {shown}: expected arn:aws:iam::<12-digit account>:root, "
            "arn:aws:iam::<account>:role/NAME or arn:aws:iam::<account>:user/NAME"
        )
    return arn
