"""Running the sandbox: in a background thread (tests) or in the foreground (`cloudplane sandbox start`)."""

from __future__ import annotations

import json
import os
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
        """Forget all state (resources, quota overrides, injected failures) and switch IAM enforcement off."""
        self._post("/moto-api/reset")
        self._post("/moto-api/reset-auth", b"inf", "text/plain")

    def set_quota(self, service_code: str, quota_code: str, value: float, region: str | None = None) -> None:
        entry: dict[str, Any] = {"ServiceCode": service_code, "QuotaCode": quota_code, "Value": value}
        if region:
            entry["Region"] = region
        self._post("/moto-api/cloudplane/service-quotas", json.dumps([entry]).encode())

    def fail_next(self, resource_type: str, reason: str | None = None, logical_id: str | None = None) -> None:
        """Make the next CloudFormation create of `resource_type` fail with `reason`."""
        rule: dict[str, Any] = {"ResourceType": resource_type}
        if reason:
            rule["Reason"] = reason
        if logical_id:
            rule["LogicalResourceId"] = logical_id
        self._post("/moto-api/cloudplane/fail-next", json.dumps(rule).encode())

    def _post(self, path: str, body: bytes = b"", content_type: str = "application/json") -> None:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def start_threaded(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start the sandbox in a daemon thread; port 0 picks a free port."""
    _prepare()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return SandboxServer(url=f"http://{bound_host}:{bound_port}", _server=server)


def serve_forever(host: str, port: int) -> None:
    """Run the sandbox in the foreground until interrupted."""
    _prepare()
    from moto.server import main

    main(["--host", host, "--port", str(port)])
