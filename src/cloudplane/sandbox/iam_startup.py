"""Cheaper IAM start-up after each reset.

With AWS-managed policies loaded, every IAM backend parses ~1,500 policies from a large JSON blob, and moto's
account lookup creates the IAM backend of all five partitions on the first request after a reset: about a
second per reset. Here the blob is parsed once per process, and the account lookup only looks at partitions
that exist already (an access key can only live in a backend that was created).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.settings import load_iam_aws_managed_policies

from ._patching import patch_attr


@cache
def _policy_data() -> tuple[tuple[str, Any, Any, str, datetime, datetime], ...]:
    parsed = json.loads(aws_managed_policies_data)
    return tuple(
        (
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in parsed.items()
    )


def _init_aws_policies(self: Any) -> list[Any]:
    if not load_iam_aws_managed_policies():
        return []
    return [
        iam_models.AWSManagedPolicy(
            name,
            account_id=self.account_id,
            region=self.region_name,
            default_version_id=version,
            path=path,
            document=document,
            create_date=created,
            update_date=updated,
        )
        for name, version, path, document, created, updated in _policy_data()
    ]


def _get_account_id_from(access_key: str) -> str:
    for account_id, account in list(iam_models.iam_backends.items()):
        for partition in list(dict.keys(account)):
            if access_key in account[partition].access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


def apply() -> None:
    patch_attr(iam_models.IAMBackend, "_init_aws_policies", _init_aws_policies)
    patch_attr(iam_models, "get_account_id_from", _get_account_id_from)
