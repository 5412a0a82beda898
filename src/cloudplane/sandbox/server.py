"""Running the sandbox: in a background thread (tests) or in the foreground (`cloudplane sandbox start`)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from . import install

# AWS-managed policy ARNs always exist on AWS; moto only loads them with this flag (read when IAM starts).
_MOTO_ENV = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


def _prepare() -> None:
    for key, value in _MOTO_ENV.items():
        os.environ.setdefault(key, value)
    install()


@dataclass
class SandboxServer:
    """A running sandbox. `url` is what clients use as AWS_ENDPOINT_URL."""

    url: str
    _server: Any = field(repr=False)

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget all state (resources, quotas, injected failures, request faults, latency); IAM enforcement off."""
        self._post("/moto-api/reset")
        self._post("/moto-api/reset-auth", b"inf", "text/plain")

    def set_quota(self, service_code: str, quota_code: str, value: float, region: str | None = None) -> None:
        entry: dict[str, Any] = {"ServiceCode": service_code, "QuotaCode": quota_code, "Value": value}
        if region:
            entry["Region"] = region
        self._post("/moto-api/cloudplane/service-quotas", json.dumps([entry]).encode())

    def fail_next(
        self,
        resource_type: str,
        reason: str | None = None,
        logical_id: str | None = None,
        operation: str = "create",
    ) -> None:
        """Make the next CloudFormation create (operation "update": in-place update) of `resource_type` fail."""
        rule: dict[str, Any] = {"ResourceType": resource_type, "Operation": operation}
        if reason:
            rule["Reason"] = reason
        if logical_id:
            rule["LogicalResourceId"] = logical_id
        self._post("/moto-api/cloudplane/fail-next", json.dumps(rule).encode())

    def set_faults(
        self, throttle_rate: float = 0.0, error_rate: float = 0.0, seed: int | None = None
    ) -> None:
        """Throttle / fail these shares of AWS API requests, before moto sees them, until cleared or reset."""
        settings = {"throttle_rate": throttle_rate, "error_rate": error_rate, "seed": seed}
        try:
            self._post("/moto-api/cloudplane/faults", json.dumps(settings).encode())
        except urllib.error.HTTPError as exc:
            if exc.code != 400:
                raise
            raise ValueError(json.loads(exc.read() or b"{}").get("Error", str(exc))) from None

    def clear_faults(self) -> None:
        self._request("DELETE", "/moto-api/cloudplane/faults")

    def fault_counters(self) -> dict[str, int]:
        """Requests seen, throttled and failed since faults were last set or reset."""
        return dict(self._request("GET", "/moto-api/cloudplane/faults")["counters"])

    def set_latency(self, ms: float) -> None:
        """Delay every AWS API answer by `ms` milliseconds (0: none) until changed or reset."""
        self._post("/moto-api/cloudplane/latency", json.dumps({"ms": ms}).encode())

    def set_disabled_regions(self, regions: list[str]) -> None:
        """Disable these opt-in regions for the account (none: all enabled) until changed or reset."""
        self._post("/moto-api/cloudplane/regions", json.dumps({"disabled": list(regions)}).encode())

    def set_iam_delay(self, delay_ms: float) -> None:
        """IAM reads show an entity as it was before a write for `delay_ms` after it (0: consistent)."""
        self._post("/moto-api/cloudplane/iam-consistency", json.dumps({"delay_ms": delay_ms}).encode())

    def _post(self, path: str, body: bytes = b"", content_type: str = "application/json") -> None:
        self._request("POST", path, body, content_type)

    def _request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> Any:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return raw.decode(errors="replace")


def start_threaded(host: str = "127.0.0.1", port: int = 0, *, latency_ms: float = 0.0) -> SandboxServer:
    """Start the sandbox in a daemon thread; port 0 picks a free port. `latency_ms` delays every AWS API
    answer (until changed or reset)."""
    _prepare()
    from .latency import configure as configure_latency

    configure_latency(latency_ms)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return SandboxServer(url=f"http://{bound_host}:{bound_port}", _server=server)


def serve_forever(
    host: str,
    port: int,
    throttle_rate: float = 0.0,
    error_rate: float = 0.0,
    seed: int | None = None,
    latency_ms: float = 0.0,
) -> None:
    """Run the sandbox in the foreground until interrupted, with request faults at these rates and every AWS
    API answer delayed by `latency_ms`."""
    _prepare()
    from moto.server import main

    from .latency import configure as configure_latency
    from .request_faults import configure

    configure(throttle_rate, error_rate, seed)
    configure_latency(latency_ms)

    main(["--host", host, "--port", str(port)])
