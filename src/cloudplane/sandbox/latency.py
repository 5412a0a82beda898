"""A fixed delay on every AWS API answer, as the network and AWS's own front end add on a real account.

`POST /moto-api/cloudplane/latency` with `{"ms": 50}` sets it, `GET` shows it, `DELETE` (and
`POST /moto-api/reset`) sets it back to 0. `cloudplane sandbox start --latency-ms 50` and
`start_threaded(latency_ms=50)` set it from the start.

The delay is slept on the request's own server thread before the emulator sees the request (request_faults'
dispatcher calls `wait`), so requests in flight wait side by side, as they would on a network: ten calls made
at once at 200 ms take about 0.2 s, not 2 s. Throttled and failed answers are delayed too. The /moto-api
routes (these settings, resets, the emulated IMDS and the instances' network under /moto-api/cloudplane/)
and the EC2 metadata paths answer at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import _moto_api

MAX_MS = 60_000.0

_lock = threading.Lock()
_seconds = 0.0


def validate(ms: Any) -> float:
    """The delay in milliseconds as a number, or ValueError saying what is wrong with it."""
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= MAX_MS:
        raise ValueError(f"ms must be a number from 0 to {MAX_MS:g}, got {ms!r}")
    return float(ms)


def configure(ms: float) -> None:
    """Delay every AWS API answer by `ms` milliseconds from now on (0: none)."""
    global _seconds
    value = validate(ms) / 1000
    with _lock:
        _seconds = value


def clear() -> None:
    configure(0)


def current_ms() -> float:
    with _lock:
        return _seconds * 1000


def wait() -> None:
    """Hold the calling request for the configured delay (no lock is held while sleeping)."""
    with _lock:
        seconds = _seconds
    if seconds > 0:
        time.sleep(seconds)


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "DELETE":
        clear()
    elif request.method != "GET":
        try:
            body = _moto_api.read_json(request)
            if not isinstance(body, dict) or set(body) != {"ms"}:
                raise ValueError('expected {"ms": <milliseconds>}')
            configure(body["ms"])
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            return _moto_api.json_response(400, {"Error": str(exc)})
    return _moto_api.json_response(200, {"ms": current_ms()})


def apply() -> None:
    _moto_api.add_route("latency", _handle)
    _moto_api.on_reset(clear)
