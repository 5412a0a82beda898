"""Compute configs: the cloud, zones, node types and AWS settings a cluster launches with.

A config is YAML, in one document or in several that are merged (the seed's example puts its `aws:`
part in a second document after `---`); a key given twice, in one document or in two, is refused.
Every mistake is collected with its key path and reported at once, one line each. Then the config is
checked against a cloud's record (its subnets, zones and security groups) and turned into the nodes a
launch starts. Nothing here calls AWS: the zones of the cloud's subnets are passed in.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import yaml

from cloudplane import naming
from cloudplane.cloud import CloudResources
from cloudplane.clouds.byo_input import Mistakes, check_id, role_name
from cloudplane.errors import InputError
from cloudplane.naming import shown

MAX_CONFIG_BYTES = 1_000_000
# Far above any real cluster; it keeps a typo from planning a billion nodes.
MAX_WORKERS = 10_000
DEFAULT_INSTANCE_TYPE = "m5.xlarge"

_TOP_KEYS = ("cloud", "cloud_id", "allowed_azs", "head_node_type", "worker_node_types", "aws")
_HEAD_KEYS = ("name", "instance_type")
_WORKER_KEYS = ("name", "instance_type", "min_workers", "max_workers")
_AWS_KEYS = ("IamInstanceProfile", "SubnetId", "SecurityGroupIds")
_PROFILE_KEYS = ("Arn", "Name")

# Checked with fullmatch and re.ASCII, as every shape in cloudplane.
_NODE_TYPE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
# family.size: m5.xlarge, m5.8xlarge, g4dn.metal, u7i-12tb.224xlarge, m7i-flex.large, c7i.metal-48xl
_INSTANCE_TYPE = re.compile(
    r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.(?:nano|micro|small|medium|large|(?:[1-9][0-9]*)?xlarge|metal(?:-[1-9][0-9]*xl)?)",
    re.ASCII,
)
# us-west-2a; a Local Zone such as us-west-2-lax-1a
_ZONE_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}(?:-[a-z0-9]+)*[a-z]", re.ASCII)
_ZONE_ID = re.compile(r"[a-z]{3,5}[0-9]{1,2}(?:-[a-z0-9]+)*-az[0-9]+", re.ASCII)
_PROFILE_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_PROFILE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::([0-9]{12}):instance-profile/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,128})", re.ASCII
)


@dataclass(frozen=True)
class NodeType:
    name: str
    instance_type: str
    min_workers: int = 0
    max_workers: int = 0


@dataclass(frozen=True)
class ComputeConfig:
    cloud: str | None
    cloud_id: str | None
    allowed_azs: tuple[str, ...]  # empty: every zone of the cloud
    head_node_type: NodeType
    worker_node_types: tuple[NodeType, ...]
    instance_profile: str | None  # an instance profile's ARN or name; None: the cloud's default
    subnet_id: str | None
    security_group_ids: tuple[str, ...]  # empty: the cloud's groups
    source: str  # where the config came from, the prefix of every mistake

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `from_dict` reads it back with the same checks as the YAML."""
        return {
            "source": self.source,
            "cloud": self.cloud,
            "cloud_id": self.cloud_id,
            "allowed_azs": list(self.allowed_azs),
            "head_node_type": {
                "name": self.head_node_type.name,
                "instance_type": self.head_node_type.instance_type,
            },
            "worker_node_types": [asdict(worker) for worker in self.worker_node_types],
            "instance_profile": self.instance_profile,
            "subnet_id": self.subnet_id,
            "security_group_ids": list(self.security_group_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComputeConfig:
        """A config from `to_dict`'s shape (as it arrives at a server); InputError lists every mistake."""
        if not isinstance(data, Mapping):
            raise InputError(f"compute config: expected a mapping of keys, got {_kind(data)}")
        fields = dict(data)
        source = str(fields.pop("source", None) or "compute config")
        settings: dict[str, Any] = {}
        profile = fields.pop("instance_profile", None)
        if profile is not None:
            kind = "Arn" if isinstance(profile, str) and profile.startswith("arn:") else "Name"
            settings["IamInstanceProfile"] = {kind: profile}
        subnet = fields.pop("subnet_id", None)
        if subnet is not None:
            settings["SubnetId"] = subnet
        groups = fields.pop("security_group_ids", None)
        if groups:
            settings["SecurityGroupIds"] = groups
        document = {key: value for key, value in fields.items() if value not in (None, [], ())}
        if settings:
            document["aws"] = settings
        return _Reader(source).config(document)


@dataclass(frozen=True)
class NodeLaunch:
    """One instance a launch starts."""

    role: Literal["head", "worker"]
    node_type: str
    instance_type: str
    subnet_id: str
    security_group_ids: tuple[str, ...]
    instance_profile: str  # the config's ARN or name as given, else the cloud's default profile by name
    zone: str = ""

    @property
    def iam_instance_profile(self) -> dict[str, str]:
        """RunInstances' IamInstanceProfile parameter: by ARN or by name, whichever the profile is."""
        key = "Arn" if self.instance_profile.startswith("arn:") else "Name"
        return {key: self.instance_profile}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "security_group_ids": list(self.security_group_ids)}


# --- reading ------------------------------------------------------------------------------------


def load_compute_config(path: str | os.PathLike[str]) -> ComputeConfig:
    """The config in the file at `path`; its mistakes are prefixed with the path as given."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as file:
            text = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a directory; give the compute config's YAML file") from None
    except UnicodeDecodeError:
        raise InputError(f"{source}: is not UTF-8 text; a compute config is a YAML file") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise InputError(f"{source}: larger than {MAX_CONFIG_BYTES:,} characters; is it a compute config?")
    return parse_compute_config(text, source)


def parse_compute_config(text: str, source: str) -> ComputeConfig:
    """The config in YAML `text`; InputError lists every mistake, one line each, prefixed with `source`."""
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_UniqueKeyLoader) if doc is not None]
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to be a compute config") from None
    reader = _Reader(source)
    return reader.config(reader.merge(documents))


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"{key!r} is given twice in one mapping (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    kind = "" if isinstance(exc, yaml.constructor.ConstructorError) else "not valid YAML: "
    return f"{where}{kind}{problem}"


def _kind(value: object) -> str:
    """What a value is, for "expected X, got Y" (never its repr: a YAML alias may nest very deep)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def _join(path: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    return f"{path}.{name}" if path else str(name)


def _unknown(key: object, known: tuple[str, ...]) -> str:
    text = str(key)
    close = [k for k in known if k.lower() == text.lower()] or difflib.get_close_matches(text, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown key{hint} (known here: {', '.join(known)})"


class _Reader:
    """Walks the parsed YAML, collecting every mistake with its key path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.mistakes = Mistakes()

    def add(self, path: str, text: str) -> None:
        self.mistakes.add(f"{self.source}: {path}: {text}" if path else f"{self.source}: {text}")

    def merge(self, documents: list[Any]) -> dict[Any, Any]:
        merged: dict[Any, Any] = {}
        origin: dict[Any, int] = {}
        if not documents:
            self.add("", "holds no compute config (it is empty); it needs at least head_node_type")
        for number, document in enumerate(documents, start=1):
            if not isinstance(document, dict):
                where = f"document {number}" if len(documents) > 1 else ""
                self.add(where, f"expected a mapping of keys ({', '.join(_TOP_KEYS)}), got {_kind(document)}")
                continue
            for key, value in document.items():
                if key in merged:
                    self.add(
                        _join("", key),
                        f"given in document {origin[key]} and again in document {number}; give it once",
                    )
                    continue
                merged[key] = value
                origin[key] = number
        return merged

    def config(self, data: Mapping[Any, Any]) -> ComputeConfig:
        # An empty result after mistakes in merging (a document that is not a mapping) is not also "missing".
        required = ("head_node_type",) if data or not self.mistakes.lines else ()
        self.mapping("", data, _TOP_KEYS, required=required)
        cloud = self.shaped("cloud", data["cloud"], naming.validate_cloud_name) if "cloud" in data else None
        cloud_id = (
            self.shaped("cloud_id", data["cloud_id"], naming.validate_cloud_id)
            if "cloud_id" in data
            else None
        )
        zones = self.zones("allowed_azs", data["allowed_azs"]) if "allowed_azs" in data else ()
        head = (
            self.node_type("head_node_type", data["head_node_type"], _HEAD_KEYS)
            if "head_node_type" in data
            else None
        )
        workers: tuple[NodeType | None, ...] = ()
        if "worker_node_types" in data:
            workers = self.workers("worker_node_types", data["worker_node_types"])
        profile, subnet, groups = self.aws("aws", data["aws"]) if "aws" in data else (None, None, ())
        self.unique_names(head, workers)
        self.mistakes.raise_if_any()
        assert head is not None
        return ComputeConfig(
            cloud=cloud,
            cloud_id=cloud_id,
            allowed_azs=zones,
            head_node_type=head,
            worker_node_types=tuple(w for w in workers if w is not None),
            instance_profile=profile,
            subnet_id=subnet,
            security_group_ids=groups,
            source=self.source,
        )

    # -- shapes --------------------------------------------------------------------------------

    def mapping(
        self, path: str, value: object, known: tuple[str, ...], required: Iterable[str] = ()
    ) -> dict[Any, Any] | None:
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping of keys ({', '.join(known)}), got {_kind(value)}")
            return None
        for key in value:
            if key not in known:
                self.add(_join(path, key), _unknown(key, known))
        for key in required:
            if key not in value:
                self.add(_join(path, key), "required, but missing")
        return value

    def string(self, path: str, value: object) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, str):
            self.add(path, "empty")
        else:
            hint = (
                " (YAML reads yes, no, on and off as booleans: quote the value)"
                if isinstance(value, bool)
                else ""
            )
            self.add(path, f"expected text, got {_kind(value)}{hint}")
        return None

    def shaped(self, path: str, value: object, validate: Any) -> str | None:
        text = self.string(path, value)
        if text is None:
            return None
        try:
            return str(validate(text))
        except InputError as exc:
            self.add(path, str(exc))
            return None

    def matching(self, path: str, value: object, pattern: re.Pattern[str], what: str) -> str | None:
        text = self.string(path, value)
        if text is not None and not pattern.fullmatch(text):
            self.add(path, f"{shown(text)} is not {what}")
            return None
        return text

    def count(self, path: str, value: object) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"expected a whole number, got {_kind(value)}")
            return None
        if value < 0:
            self.add(path, f"must not be negative, got {value}")
            return None
        if value > MAX_WORKERS:
            self.add(path, f"at most {MAX_WORKERS:,}, got {value:,}")
            return None
        return value

    def items(self, path: str, value: object, what: str) -> list[tuple[str, object]]:
        """(path, item) of a non-empty list; a repeated item is a mistake."""
        if not isinstance(value, list):
            self.add(path, f"expected a list of {what}, got {_kind(value)}")
            return []
        if not value:
            self.add(path, f"empty; give at least one of {what}, or leave the key out")
        scalars = [item for item in value if isinstance(item, str)]
        repeated = sorted({item for item in scalars if scalars.count(item) > 1})
        if repeated:
            self.add(path, f"{', '.join(repeated)} given more than once")
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]

    # -- sections ------------------------------------------------------------------------------

    def zones(self, path: str, value: object) -> tuple[str, ...]:
        zones = []
        for item_path, item in self.items(path, value, "zone names (like us-west-2a)"):
            text = self.string(item_path, item)
            if text is None:
                continue
            if _ZONE_ID.fullmatch(text):
                self.add(
                    item_path, f"{shown(text)} is a zone ID; allowed_azs takes zone names (like us-west-2a)"
                )
            elif not _ZONE_NAME.fullmatch(text):
                self.add(item_path, f"{shown(text)} is not an availability zone name (like us-west-2a)")
            else:
                zones.append(text)
        return tuple(dict.fromkeys(zones))

    def node_type(self, path: str, value: object, known: tuple[str, ...]) -> NodeType | None:
        data = self.mapping(path, value, known, required=("name", "instance_type"))
        if data is None:
            return None
        name = instance_type = None
        if "name" in data:
            name = self.matching(
                _join(path, "name"),
                data["name"],
                _NODE_TYPE_NAME,
                "a node type name (1-63 letters, digits, '-', '_' or '.', starting with a letter or digit)",
            )
        if "instance_type" in data:
            instance_type = self.matching(
                _join(path, "instance_type"),
                data["instance_type"],
                _INSTANCE_TYPE,
                "an EC2 instance type (like m5.xlarge)",
            )
        low = self.count(_join(path, "min_workers"), data["min_workers"]) if "min_workers" in data else 0
        high = self.count(_join(path, "max_workers"), data["max_workers"]) if "max_workers" in data else low
        if low is not None and high is not None and low > high:
            self.add(_join(path, "min_workers"), f"{low} is more than max_workers ({high})")
            return None
        if name is None or instance_type is None or low is None or high is None:
            return None
        return NodeType(name, instance_type, low, high)

    def workers(self, path: str, value: object) -> tuple[NodeType | None, ...]:
        if not isinstance(value, list):
            self.add(path, f"expected a list of worker node types, got {_kind(value)}")
            return ()
        return tuple(self.node_type(f"{path}[{i}]", item, _WORKER_KEYS) for i, item in enumerate(value))

    def unique_names(self, head: NodeType | None, workers: tuple[NodeType | None, ...]) -> None:
        first: dict[str, str] = {}
        if head is not None:
            first[head.name] = "head_node_type"
        for index, worker in enumerate(workers):
            if worker is None:
                continue
            if worker.name in first:
                self.add(
                    f"worker_node_types[{index}].name",
                    f"{shown(worker.name)} is already the name of {first[worker.name]}; node type names are unique",
                )
            else:
                first[worker.name] = f"worker_node_types[{index}]"

    def aws(self, path: str, value: object) -> tuple[str | None, str | None, tuple[str, ...]]:
        data = self.mapping(path, value, _AWS_KEYS)
        if data is None:
            return None, None, ()
        profile = (
            self.profile(_join(path, "IamInstanceProfile"), data["IamInstanceProfile"])
            if "IamInstanceProfile" in data
            else None
        )
        subnet = None
        if "SubnetId" in data:
            subnet = self.string(_join(path, "SubnetId"), data["SubnetId"])
            if subnet is not None:
                subnet = self.aws_id("subnet", _join(path, "SubnetId"), subnet)
        groups: list[str] = []
        if "SecurityGroupIds" in data:
            listed = self.items(
                _join(path, "SecurityGroupIds"), data["SecurityGroupIds"], "security group ids"
            )
            for item_path, item in listed:
                text = self.string(item_path, item)
                if text is not None and self.aws_id("security group", item_path, text):
                    groups.append(text)
        return profile, subnet, tuple(dict.fromkeys(groups))

    def aws_id(self, kind: str, path: str, value: str) -> str | None:
        before = len(self.mistakes.lines)
        check_id(kind, f"{self.source}: {path}", value, self.mistakes)
        return value if len(self.mistakes.lines) == before else None

    def profile(self, path: str, value: object) -> str | None:
        data = self.mapping(path, value, _PROFILE_KEYS)
        if data is None:
            return None
        given = [key for key in _PROFILE_KEYS if key in data]
        if len(given) != 1:
            self.add(path, "give the instance profile's Arn or its Name" + (", not both" if given else ""))
            return None
        if given == ["Arn"]:
            return self.matching(
                _join(path, "Arn"),
                data["Arn"],
                _PROFILE_ARN,
                "an instance profile ARN (like arn:aws:iam::123456789012:instance-profile/NAME)",
            )
        return self.matching(
            _join(path, "Name"),
            data["Name"],
            _PROFILE_NAME,
            "an instance profile name (1-128 letters, digits or any of _+=,.@-)",
        )


# --- against a cloud ----------------------------------------------------------------------------


def _label(cloud: Mapping[str, Any]) -> str:
    return f"cloud {cloud['name']} ({cloud['id']})"


def _listed(items: Iterable[str]) -> str:
    items = list(items)
    return ", ".join(items) if items else "none"


def _resources(cloud: Mapping[str, Any]) -> CloudResources:
    return CloudResources.from_dict(cloud.get("resources"))


def cloud_zones(cloud: Mapping[str, Any], subnet_zones: Mapping[str, str]) -> list[str]:
    """The zones of the cloud's subnets, in the order the subnets are recorded."""
    zones = (subnet_zones[s] for s in _resources(cloud).subnet_ids if s in subnet_zones)
    return list(dict.fromkeys(zones))


def cloud_account(cloud: Mapping[str, Any]) -> str | None:
    """The account of the cloud's roles (an instance profile must be of the instances' account)."""
    resources = _resources(cloud)
    for arn in (resources.instance_role_arn, resources.controlplane_role_arn):
        parts = (arn or "").split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return None


def profile_name(profile: str) -> str:
    """The name of an instance profile given by ARN (path dropped) or by name."""
    return profile.rsplit("/", 1)[-1] if profile.startswith("arn:") else profile


def default_instance_profile(cloud: Mapping[str, Any]) -> str | None:
    """The cloud's instance profile: named like its instance role, as the managed template makes it and
    as verification (IAM-8) looks for it on every cloud. None when the cloud records no instance role."""
    arn = _resources(cloud).instance_role_arn
    return role_name(arn) if arn else None


def instance_profile_of(config: ComputeConfig | None, cloud: Mapping[str, Any]) -> str:
    """The profile nodes launch with: the config's (ARN or name), else the cloud's default (a name)."""
    if config is not None and config.instance_profile:
        return config.instance_profile
    default = default_instance_profile(cloud)
    if default is None:
        raise InputError(
            f"{_label(cloud)} records no instance role, so it has no default instance profile; "
            "name one in the compute config (aws: IamInstanceProfile: Arn: ...)"
        )
    return default


def cloud_mistakes(
    config: ComputeConfig, cloud: Mapping[str, Any], subnet_zones: Mapping[str, str]
) -> list[str]:
    """What in `config` does not fit `cloud` (a control-plane record); `subnet_zones`: subnet id -> zone
    name of the cloud's subnets as AWS has them. Each line names the value and what the cloud has."""
    resources = _resources(cloud)
    label = _label(cloud)
    lines: list[str] = []

    def add(path: str, text: str) -> None:
        lines.append(f"{config.source}: {path}: {text}")

    if config.cloud_id is not None and config.cloud_id != cloud["id"]:
        add("cloud_id", f"{config.cloud_id} is not {label}, which this config is checked against")
    if config.cloud is not None and config.cloud != cloud["name"]:
        add("cloud", f"{config.cloud} is not {label}, which this config is checked against")
    zones = cloud_zones(cloud, subnet_zones)
    for index, zone in enumerate(config.allowed_azs):
        if zone not in zones:
            add(
                f"allowed_azs[{index}]",
                f"{zone} is not a zone of {label}; its subnets are in {_listed(zones)}",
            )
    subnet = config.subnet_id
    if subnet is not None:
        allowed = config.allowed_azs or zones
        if subnet not in resources.subnet_ids:
            add(
                "aws.SubnetId", f"{subnet} is not a subnet of {label}; it has {_listed(resources.subnet_ids)}"
            )
        elif subnet not in subnet_zones:
            add(
                "aws.SubnetId",
                f"{subnet} of {label} was not found in {cloud['region']}; run `cloudplane cloud verify`",
            )
        elif subnet_zones[subnet] not in allowed:
            add(
                "aws.SubnetId",
                f"{subnet} is in {subnet_zones[subnet]}, which allowed_azs ({_listed(allowed)}) leaves out",
            )
    for index, group in enumerate(config.security_group_ids):
        if group not in resources.security_group_ids:
            add(
                f"aws.SecurityGroupIds[{index}]",
                f"{group} is not a security group of {label}; it has {_listed(resources.security_group_ids)}",
            )
    return lines


def _spread(subnets: list[str], subnet_zones: Mapping[str, str], zones: Iterable[str]) -> list[str]:
    """The subnets of `zones`, taking one subnet of each zone in turn: zone order first, then record order."""
    columns = [[s for s in subnets if subnet_zones[s] == zone] for zone in zones]
    columns = [column for column in columns if column]
    depth = max((len(column) for column in columns), default=0)
    return [column[row] for row in range(depth) for column in columns if row < len(column)]


def plan_nodes(
    config: ComputeConfig | None,
    cloud: Mapping[str, Any],
    subnet_zones: Mapping[str, str],
    default_instance_type: str = DEFAULT_INSTANCE_TYPE,
) -> list[NodeLaunch]:
    """The nodes a launch starts: the head node, then `min_workers` nodes of each worker type.

    Nodes go to the config's SubnetId, or else take the subnets of the allowed zones in turn (zones in
    the order allowed_azs lists them, or the cloud records its subnets), so the head node is in the first.
    Without a config: one head node of `default_instance_type` in the cloud's first subnet.
    """
    resources = _resources(cloud)
    label = _label(cloud)
    known = [s for s in resources.subnet_ids if s in subnet_zones]
    zones = list((config.allowed_azs if config else ()) or cloud_zones(cloud, subnet_zones))
    source = f"{config.source}: " if config else ""
    if config is not None and config.subnet_id is not None:
        if config.subnet_id not in known or subnet_zones[config.subnet_id] not in zones:
            raise InputError(
                f"{source}aws.SubnetId: {config.subnet_id} is not a subnet of {label} in an allowed zone "
                f"({_listed(zones)})"
            )
        places = [config.subnet_id]
    else:
        places = _spread(known, subnet_zones, zones)
    if not places:
        raise InputError(
            f"{source}no subnet of {label} lies in an allowed zone ({_listed(zones)}); its subnets are in "
            f"{_listed(cloud_zones(cloud, subnet_zones))}"
        )
    groups = (config.security_group_ids if config else ()) or tuple(resources.security_group_ids)
    profile = instance_profile_of(config, cloud)
    head = config.head_node_type if config else NodeType("head", default_instance_type)
    workers = config.worker_node_types if config else ()
    kinds: list[tuple[Literal["head", "worker"], NodeType]] = [("head", head)]
    kinds += [("worker", worker) for worker in workers for _ in range(worker.min_workers)]
    nodes = []
    for index, (role, node_type) in enumerate(kinds):
        subnet = places[index % len(places)]
        nodes.append(
            NodeLaunch(
                role=role,
                node_type=node_type.name,
                instance_type=node_type.instance_type,
                subnet_id=subnet,
                security_group_ids=groups,
                instance_profile=profile,
                zone=subnet_zones[subnet],
            )
        )
    return nodes
