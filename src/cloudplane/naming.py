"""Shapes of user-given names and ids, checked before anything is created."""

from __future__ import annotations

import re
import secrets
import string

from cloudplane.errors import InputError

CLOUD_ID_PREFIX = "cld_"
CLUSTER_ID_PREFIX = "cls_"
RUN_ID_PREFIX = "fvr_"
TAG_KEY = "cloudplane-cloud-id"
# Every instance of a cluster carries the cluster's name and id in these tags (and the cloud's TAG_KEY).
CLUSTER_TAG_KEY = "cloudplane-cluster"
CLUSTER_ID_TAG_KEY = "cloudplane-cluster-id"

# Every shape is checked with fullmatch: `re.match` with `$` would accept a trailing newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_CLOUD_ID = re.compile(r"cld_[a-z0-9]{20}")
# Cluster names become tag values and stack-name parts: lowercase, digits and hyphens.
_CLUSTER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
# IAM's `[\w+=,.@:/-]`, where `\w` means ASCII word characters only.
_EXTERNAL_ID_CHAR = r"[\w+=,.@:/-]"
EXTERNAL_ID = re.compile(_EXTERNAL_ID_CHAR + "{2,1224}", re.ASCII)
_ALPHABET = string.ascii_lowercase + string.digits
_SHOWN_MAX = 200


def shown(value: object) -> str:
    """A user-given value in an error, as Python writes it (a stray newline or space is visible), cut
    short when long: a pasted 10k-character value must not turn one error line into a screenful."""
    if not isinstance(value, str) or len(value) <= _SHOWN_MAX:
        return repr(value)
    return f"{value[:_SHOWN_MAX]!r}... ({len(value)} characters)"


def validate_cloud_name(name: str) -> str:
    """Cloud names: 1-63 letters, digits, '-' or '_', starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"invalid cloud name {shown(name)}: use 1-63 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def validate_cloud_id(cloud_id: str) -> str:
    if not isinstance(cloud_id, str) or not _CLOUD_ID.fullmatch(cloud_id):
        raise InputError(
            f"invalid cloud id {shown(cloud_id)}: expected 'cld_' followed by 20 lowercase letters or digits"
        )
    return cloud_id


def validate_cluster_name(name: str) -> str:
    """Cluster names: 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit."""
    if not isinstance(name, str) or not _CLUSTER_NAME.fullmatch(name):
        raise InputError(
            f"invalid cluster name {shown(name)}: use 1-40 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return name


def new_cluster_id() -> str:
    return _new_id(CLUSTER_ID_PREFIX)


def new_run_id() -> str:
    """A functional verification run's id."""
    return _new_id(RUN_ID_PREFIX)


def external_id_problem(external_id: str) -> str | None:
    """What is wrong with an External ID, or None when IAM would accept it."""
    if EXTERNAL_ID.fullmatch(external_id):
        return None
    bad = re.search(f"(?!{_EXTERNAL_ID_CHAR}).", external_id, re.ASCII | re.DOTALL)
    if bad:
        return f"{bad.group()!r} is not allowed in an External ID; use 2-1224 letters, digits or any of _+=,.@:/-"
    return f"an External ID has 2-1224 characters, got {len(external_id)}"


def _new_id(prefix: str) -> str:
    """A prefix and 20 random lowercase letters or digits: cloud, cluster and run ids alike."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(20))


def new_cloud_id() -> str:
    return _new_id(CLOUD_ID_PREFIX)


def new_external_id(cloud_id: str) -> str:
    """A per-cloud External ID: the cloud id (readable in the trust policy) plus a secret part."""
    return f"{cloud_id}-{secrets.token_hex(12)}"


def stack_name(cloud_id: str) -> str:
    """CloudFormation stack names allow no underscore."""
    return "cloudplane-" + cloud_id.replace("_", "-")


def bucket_name(cloud_id: str) -> str:
    """The managed cloud's bucket: lowercase, no underscore, unique through the cloud id."""
    return "cloudplane-data-" + cloud_id.replace("_", "-")
