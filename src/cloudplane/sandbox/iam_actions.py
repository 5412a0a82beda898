"""IAM action names under enforcement as AWS spells them.

moto names the action it checks after the request's signing name, which for a few services is not the
service's IAM prefix: the tagging API (Resource Groups Tagging) signs as `tagging` while its actions are
`tag:GetResources`, `tag:TagResources`, ... Here the action is renamed to its IAM prefix before policies are
evaluated, so a policy allowing `tag:GetResources` allows it and one naming `tagging:*` (which AWS does not
know) does not.

S3 too: moto names some bucket sub-resources after a default that grants something else (GET ?encryption as
s3:ListBucket, PUT ?publicAccessBlock as s3:CreateBucket, DELETE ?publicAccessBlock as s3:DeleteBucket) and
checks HeadBucket, which is no IAM action, and DeleteObjects on the bucket as s3:DeleteObject (AWS: on
the objects, as s3:DeleteObjectVersion for versions); the account's public access block (S3 Control) is checked as
s3:GetPublicAccessBlock. They are checked here under the names AWS's service authorization reference gives.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from moto.iam.access_control import IAMRequestBase
from moto.s3.responses import S3Response

from ._patching import wrap_method

# Signing name -> IAM service prefix, where they differ.
IAM_PREFIXES = {"tagging": "tag"}

# (HTTP method, bucket sub-resource) -> the S3 action AWS authorizes.
S3_SUBRESOURCE_ACTIONS = {
    ("GET", "publicAccessBlock"): "GetBucketPublicAccessBlock",
    ("PUT", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("DELETE", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("GET", "encryption"): "GetEncryptionConfiguration",
    ("PUT", "encryption"): "PutEncryptionConfiguration",
    ("DELETE", "encryption"): "PutEncryptionConfiguration",
    ("GET", "ownershipControls"): "GetBucketOwnershipControls",
    ("PUT", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "ownershipControls"): "PutBucketOwnershipControls",
    ("GET", "replication"): "GetReplicationConfiguration",
}
# The account-wide public access block (S3 Control), by HTTP method.
S3_ACCOUNT_BLOCK_PATH = "/v20180820/configuration/publicAccessBlock"
S3_ACCOUNT_BLOCK_ACTIONS = {
    "GET": "GetAccountPublicAccessBlock",
    "PUT": "PutAccountPublicAccessBlock",
    "DELETE": "PutAccountPublicAccessBlock",
}


def _s3_action(method: str, path: str, action: str, body: Any) -> str:
    parts = urlsplit(path)
    if parts.path.startswith(S3_ACCOUNT_BLOCK_PATH):
        return S3_ACCOUNT_BLOCK_ACTIONS.get(method, action)
    if action == "HeadBucket":  # HeadBucket is authorized as s3:ListBucket
        return "ListBucket"
    keys = parse_qs(parts.query, keep_blank_values=True)
    if method == "POST" and "delete" in keys:
        # DeleteObjects: removing a version of an object needs s3:DeleteObjectVersion.
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        return "DeleteObjectVersion" if "<VersionId>" in text else "DeleteObject"
    for key in keys:
        renamed = S3_SUBRESOURCE_ACTIONS.get((method, key))
        if renamed:
            return renamed
    return action


def _init(orig: Any, self: IAMRequestBase, *args: Any, **kwargs: Any) -> None:
    orig(self, *args, **kwargs)
    service, _, action = self._action.partition(":")
    if service in IAM_PREFIXES:
        self._action = f"{IAM_PREFIXES[service]}:{action}"
    elif service == "s3":
        self._action = f"s3:{_s3_action(self._method.upper(), self._path, action, self._body)}"


def _authorize_s3(
    orig: Any, self: S3Response, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    # DeleteObjects acts on objects: checked on the bucket's objects, not on the bucket itself.
    if (
        bucket_name
        and key_name is None
        and self.data.get("Action") == "DeleteObject"
        and self.is_delete_keys()
    ):
        key_name = "*"
    orig(self, bucket_name=bucket_name, key_name=key_name)


def apply() -> None:
    wrap_method(IAMRequestBase, "__init__", _init)
    wrap_method(S3Response, "_authenticate_and_authorize_s3_action", _authorize_s3)
