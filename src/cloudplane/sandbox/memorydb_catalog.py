"""MemoryDB engine parameters per parameter-group family (names and defaults as documented by AWS).

Each entry: name -> (default value, data type, allowed values, description). `None` allowed values means
any value of the data type.
"""

from __future__ import annotations

Parameter = tuple[str, str, str | None, str]

_YES_NO = "yes,no"
_EVICTION = (
    "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-ttl,noeviction"
)

_COMMON: dict[str, Parameter] = {
    "activedefrag": ("no", "string", _YES_NO, "Enabled active memory defragmentation"),
    "active-defrag-cycle-max": ("75", "integer", "1-75", "Maximal effort for defrag in CPU percentage"),
    "active-defrag-cycle-min": ("5", "integer", "1-75", "Minimal effort for defrag in CPU percentage"),
    "active-defrag-ignore-bytes": (
        "104857600",
        "integer",
        "1048576-",
        "Minimum amount of fragmentation waste to start active defrag",
    ),
    "active-defrag-max-scan-fields": (
        "1000",
        "integer",
        "1-1000000",
        "Maximum number of set/hash/zset/list fields processed from the main dictionary scan",
    ),
    "active-defrag-threshold-lower": (
        "10",
        "integer",
        "1-100",
        "Minimum percentage of fragmentation to start active defrag",
    ),
    "active-defrag-threshold-upper": (
        "100",
        "integer",
        "1-100",
        "Maximum percentage of fragmentation at which we use maximum effort",
    ),
    "active-expire-effort": (
        "1",
        "integer",
        "1-10",
        "The amount of effort that redis uses to expire items in the active expiration job",
    ),
    "client-output-buffer-limit-normal-hard-limit": (
        "0",
        "integer",
        None,
        "Normal client output buffer hard limit in bytes",
    ),
    "client-output-buffer-limit-normal-soft-limit": (
        "0",
        "integer",
        None,
        "Normal client output buffer soft limit in bytes",
    ),
    "client-output-buffer-limit-normal-soft-seconds": (
        "0",
        "integer",
        None,
        "Normal client output buffer soft limit in seconds",
    ),
    "client-output-buffer-limit-pubsub-hard-limit": (
        "33554432",
        "integer",
        None,
        "Pubsub client output buffer hard limit in bytes",
    ),
    "client-output-buffer-limit-pubsub-soft-limit": (
        "8388608",
        "integer",
        None,
        "Pubsub client output buffer soft limit in bytes",
    ),
    "client-output-buffer-limit-pubsub-soft-seconds": (
        "60",
        "integer",
        None,
        "Pubsub client output buffer soft limit in seconds",
    ),
    "cluster-allow-reads-when-down": ("no", "string", _YES_NO, "Allow reads when the cluster is down"),
    "hash-max-ziplist-entries": (
        "128",
        "integer",
        None,
        "The maximum number of hash entries in order for the dataset to be compressed",
    ),
    "hash-max-ziplist-value": (
        "64",
        "integer",
        None,
        "The threshold of biggest hash entries in order for the dataset to be compressed",
    ),
    "hll-sparse-max-bytes": ("3000", "integer", "1-16000", "HyperLogLog sparse representation bytes limit"),
    "lazyfree-lazy-eviction": ("no", "string", _YES_NO, "Perform an asynchronous delete on evictions"),
    "lazyfree-lazy-expire": ("no", "string", _YES_NO, "Perform an asynchronous delete on expired keys"),
    "lazyfree-lazy-server-del": ("no", "string", _YES_NO, "Perform an asynchronous delete on key updates"),
    "lazyfree-lazy-user-del": ("no", "string", _YES_NO, "Make DEL behave like UNLINK"),
    "lfu-decay-time": (
        "1",
        "integer",
        None,
        "The amount of time in minutes to decrement the key counter for LFU eviction policy",
    ),
    "lfu-log-factor": (
        "10",
        "integer",
        None,
        "The log factor for incrementing key counter for LFU eviction policy",
    ),
    "list-compress-depth": (
        "0",
        "integer",
        None,
        "Number of entries on each end of a list to keep uncompressed",
    ),
    "list-max-ziplist-size": (
        "-2",
        "integer",
        "-5,-4,-3,-2,-1,1-",
        "The number of entries allowed per internal list node",
    ),
    "maxmemory-policy": ("noeviction", "string", _EVICTION, "Max memory policy"),
    "maxmemory-samples": ("3", "integer", "1-", "Max memory samples"),
    "notify-keyspace-events": (
        "",
        "string",
        None,
        "The keyspace events for Redis to notify Pub/Sub clients about",
    ),
    "set-max-intset-entries": (
        "512",
        "integer",
        "0-500000000",
        "The limit in the size of the set in order for the dataset to be compressed",
    ),
    "slowlog-log-slower-than": (
        "10000",
        "integer",
        None,
        "The execution time, in microseconds, to exceed in order for the command to get logged",
    ),
    "slowlog-max-len": ("128", "integer", "0-", "The length of the slow log"),
    "stream-node-max-bytes": (
        "4096",
        "integer",
        "0-",
        "The maximum size of a single node in a stream in bytes",
    ),
    "stream-node-max-entries": (
        "100",
        "integer",
        "0-",
        "The maximum number of items a single node in a stream can contain",
    ),
    "tcp-keepalive": ("300", "integer", "0-", "If non-zero, send ACKs every given number of seconds"),
    "timeout": (
        "0",
        "integer",
        "0,20-",
        "Close connection if client is idle for a given number of seconds, or never if 0",
    ),
    "tracking-table-max-keys": (
        "1000000",
        "integer",
        "1-100000000",
        "Maximum number of keys for client side tracking",
    ),
    "zset-max-ziplist-entries": (
        "128",
        "integer",
        None,
        "The maximum number of sorted set entries in order for the dataset to be compressed",
    ),
    "zset-max-ziplist-value": (
        "64",
        "integer",
        None,
        "The threshold of biggest sorted set entries in order for the dataset to be compressed",
    ),
}

_REDIS6_ONLY: dict[str, Parameter] = {
    "acl-pubsub-default": (
        "allchannels",
        "string",
        "resetchannels,allchannels",
        "Default pub/sub channel permissions for ACL users",
    ),
}

_REDIS7_ONLY: dict[str, Parameter] = {
    "acl-pubsub-default": (
        "resetchannels",
        "string",
        "resetchannels,allchannels",
        "Default pub/sub channel permissions for ACL users",
    ),
    "busy-reply-threshold": (
        "5000",
        "integer",
        "0-",
        "Time in milliseconds after which a script or function is considered busy",
    ),
    "cluster-allow-pubsubshard-when-down": (
        "yes",
        "string",
        _YES_NO,
        "Allow sharded pub/sub when the cluster is down",
    ),
    "hash-max-listpack-entries": (
        "128",
        "integer",
        None,
        "The maximum number of hash entries in order for the dataset to be compressed",
    ),
    "hash-max-listpack-value": (
        "64",
        "integer",
        None,
        "The threshold of biggest hash entries in order for the dataset to be compressed",
    ),
    "latency-tracking": ("no", "string", _YES_NO, "Enable extended latency monitoring"),
    "lazyfree-lazy-user-flush": (
        "no",
        "string",
        _YES_NO,
        "Make FLUSHALL and FLUSHDB asynchronous by default",
    ),
    "list-max-listpack-size": (
        "-2",
        "integer",
        "-5,-4,-3,-2,-1,1-",
        "The number of entries allowed per internal list node",
    ),
    "zset-max-listpack-entries": (
        "128",
        "integer",
        None,
        "The maximum number of sorted set entries in order for the dataset to be compressed",
    ),
    "zset-max-listpack-value": (
        "64",
        "integer",
        None,
        "The threshold of biggest sorted set entries in order for the dataset to be compressed",
    ),
}

FAMILIES: dict[str, dict[str, Parameter]] = {
    "memorydb_redis6": {**_COMMON, **_REDIS6_ONLY},
    "memorydb_redis7": {**_COMMON, **_REDIS7_ONLY},
    "memorydb_valkey7": {**_COMMON, **_REDIS7_ONLY},
}

MINIMUM_ENGINE_VERSION = {"memorydb_redis6": "6.2.4", "memorydb_redis7": "7.0.7", "memorydb_valkey7": "7.2.6"}

DEFAULT_GROUPS = {
    "default.memorydb-redis6": "memorydb_redis6",
    "default.memorydb-redis7": "memorydb_redis7",
    "default.memorydb-valkey7": "memorydb_valkey7",
}


def is_allowed(value: str, data_type: str, allowed: str | None) -> bool:
    """Check a value against the AllowedValues notation ("a,b,c" or numeric ranges like "1-75", "0,20-")."""
    if data_type == "integer":
        try:
            number = int(value)
        except ValueError:
            return False
        if allowed is None:
            return True
        for part in allowed.split(","):
            low, sep, high = part.partition("-") if not part.startswith("-") else (part, "", "")
            if not sep:
                if number == int(low):
                    return True
            elif int(low) <= number and (not high or number <= int(high)):
                return True
        return False
    return allowed is None or value in allowed.split(",")
