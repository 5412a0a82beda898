"""The HTTP transport of the control-plane client: a shared `cloudplane server` at CLOUDPLANE_URL.

Requests, JSON and the mapping of HTTP answers back to cloudplane's errors live here; anything that does
not answer like a cloudplane server is said to be so in one line.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from cloudplane import __version__
from cloudplane.client import TOKEN_ENV, URL_ENV, ControlPlaneClient
from cloudplane.controlplane.auth import Forbidden, Unauthorized
from cloudplane.controlplane.paging import DEFAULT_LIMIT, MAX_LIMIT
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0
# Calls the server answers by acting in AWS: its retries of a throttled AWS call may take a while.
AWS_TIMEOUT = 180.0


class HttpClient(ControlPlaneClient):
    mode = "remote"

    def __init__(self, http: httpx.Client, *, has_token: bool = False) -> None:
        self._http = http
        self._has_token = has_token
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> HttpClient:
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"control-plane URL must start with http:// or https://, got {url!r} (see {URL_ENV})"
            )
        try:
            http = httpx.Client(base_url=url, headers=_headers(token), timeout=timeout)
        except httpx.InvalidURL as exc:
            raise InputError(f"invalid control-plane URL {_redacted(url)!r}: {exc} (see {URL_ENV})") from None
        if not http.base_url.host:
            http.close()
            raise InputError(f"the control-plane URL {_redacted(url)!r} names no host (see {URL_ENV})")
        return cls(http, has_token=bool(token))

    @property
    def where(self) -> str:
        return self._where()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._http.close()

    # --- clouds -------------------------------------------------------------------------------

    def create_cloud(
        self,
        name: str,
        provider: str,
        region: str,
        deployment: str,
        networking: str,
        options: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        resources: Mapping[str, Any] | None = None,
        claim: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "provider": provider,
            "region": region,
            "deployment": deployment,
            "networking": networking,
        }
        if options is not None:
            body["options"] = dict(options)
        if external_id is not None:
            body["external_id"] = external_id
        if resources is not None:
            body["resources"] = dict(resources)
        if claim is not None:
            body["claim"] = dict(claim)
        return self._call("POST", "/clouds", json=body, expect="id")

    def list_clouds(self, *, name: str | None = None) -> list[dict[str, Any]]:
        clouds: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.list_clouds_page(name=name, limit=MAX_LIMIT, cursor=cursor)
            clouds += page["clouds"]
            cursor = page["next_cursor"]
            if not cursor:
                return clouds

    def list_clouds_page(
        self, *, name: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if name is not None:
            params["name"] = name
        if cursor is not None:
            params["cursor"] = cursor
        body = self._call("GET", "/clouds", params=params, expect="clouds")
        return {"clouds": body["clouds"], "next_cursor": body.get("next_cursor")}

    def get_cloud(self, cloud_id: str) -> dict[str, Any]:
        return self._call("GET", _cloud_path(cloud_id), expect="id")

    def update_cloud(
        self,
        cloud_id: str,
        *,
        state: str | None = None,
        resources: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        failure_reason: str | None = None,
    ) -> dict[str, Any]:
        """Change what is given: resources and options merge key by key (an option set to None is
        removed); failure_reason="" clears the reason."""
        body: dict[str, Any] = {}
        if state is not None:
            body["state"] = state
        if resources is not None:
            body["resources"] = dict(resources)
        if options is not None:
            body["options"] = dict(options)
        if failure_reason is not None:
            body["failure_reason"] = failure_reason
        return self._call("PATCH", _cloud_path(cloud_id), json=body, expect="id")

    def store_verification(self, cloud_id: str, report: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(
            "PUT", _cloud_path(cloud_id) + "/verification", json={"report": dict(report)}, expect="id"
        )

    def set_default(self, cloud_id: str) -> dict[str, Any]:
        return self._call("POST", _cloud_path(cloud_id) + "/default", expect="id")

    def claim_cloud(
        self, cloud_id: str, *, operation: str, owner: str, seconds: float, replace: str | None = None
    ) -> dict[str, Any]:
        """Claim the cloud for a command (or renew the claim); Conflict while another holds it."""
        body: dict[str, Any] = {"operation": operation, "owner": owner, "seconds": seconds}
        if replace is not None:
            body["replace"] = replace
        return self._call("POST", _cloud_path(cloud_id) + "/claim", json=body, expect="id")

    def release_cloud(self, cloud_id: str, owner: str) -> dict[str, Any]:
        return self._call("DELETE", _cloud_path(cloud_id) + "/claim", params={"owner": owner}, expect="id")

    def delete_cloud(self, cloud_id: str) -> None:
        self._call("DELETE", _cloud_path(cloud_id))

    # --- clusters -----------------------------------------------------------------------------

    def launch_cluster(
        self,
        name: str,
        *,
        cloud_id: str | None = None,
        kind: str = "workspace",
        compute_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "kind": kind}
        if cloud_id is not None:
            body["cloud_id"] = cloud_id
        if compute_config is not None:
            body["compute_config"] = dict(compute_config)
        return self._call("POST", "/clusters", json=body, expect="id", timeout=AWS_TIMEOUT)

    def list_clusters(
        self, *, cloud_id: str | None = None, include_terminated: bool = False
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"all": "true" if include_terminated else "false"}
        if cloud_id is not None:
            params["cloud_id"] = cloud_id
        return self._call("GET", "/clusters", params=params, expect="clusters", timeout=AWS_TIMEOUT)[
            "clusters"
        ]

    def get_cluster(self, name: str) -> dict[str, Any]:
        return self._call("GET", _cluster_path(name), expect="id", timeout=AWS_TIMEOUT)

    def terminate_cluster(self, name: str) -> dict[str, Any]:
        return self._call("POST", _cluster_path(name) + "/terminate", expect="id", timeout=AWS_TIMEOUT)

    def cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        path = _cloud_path(cloud_id) + "/instances"
        return self._call("GET", path, expect="instances", timeout=AWS_TIMEOUT)["instances"]

    def terminate_cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        path = _cloud_path(cloud_id) + "/instances/terminate"
        return self._call("POST", path, expect="instances", timeout=AWS_TIMEOUT)["instances"]

    # --- load balancers and functional verification -------------------------------------------

    def clean_up_load_balancers(self, cloud_id: str) -> dict[str, Any]:
        path = _cloud_path(cloud_id) + "/load-balancers/clean-up"
        return self._call("POST", path, expect="done", timeout=AWS_TIMEOUT)

    def start_functional_verification(self, cloud_id: str, targets: list[str]) -> dict[str, Any]:
        body = {"cloud_id": cloud_id, "targets": list(targets)}
        return self._call("POST", "/functional-verifications", json=body, expect="id", timeout=AWS_TIMEOUT)

    def advance_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", _run_path(run_id) + "/advance", expect="id", timeout=AWS_TIMEOUT)

    def abort_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", _run_path(run_id) + "/abort", expect="id", timeout=AWS_TIMEOUT)

    def get_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._call("GET", _run_path(run_id), expect="id")

    # --- tokens -------------------------------------------------------------------------------

    def create_token(
        self, *, org: str | None = None, name: str | None = None, admin: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"admin": admin}
        if org is not None:
            body["org"] = org
        if name is not None:
            body["name"] = name
        return self._call("POST", "/tokens", json=body, expect="token")

    def list_tokens(self, *, org: str | None = None) -> list[dict[str, Any]]:
        params = {"org": org} if org is not None else None
        return self._call("GET", "/tokens", params=params, expect="tokens")["tokens"]

    def revoke_token(self, name: str, *, org: str | None = None) -> dict[str, Any]:
        params = {"org": org} if org is not None else None
        return self._call("DELETE", "/tokens/" + quote(name, safe=""), params=params, expect="id")

    # --- the control plane itself ---------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz", prefix="", expect="status")

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/info", expect="aws_principal")

    # --- plumbing -----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, prefix: str = API_PREFIX, expect: str | None = None, **kwargs: Any
    ) -> Any:
        """The JSON body of a successful reply; `expect` names a key it must have (the reply of
        anything but a cloudplane server lacks it)."""
        try:
            with self._lock:  # a command's claim is renewed from a second thread
                response = self._http.request(method, prefix + path, **kwargs)
        except httpx.TimeoutException as exc:
            raise OperationFailed(
                f"the control plane at {self._where()} did not answer in time (is {URL_ENV} right?)"
            ) from exc
        except httpx.RequestError as exc:
            raise OperationFailed(
                f"cannot reach the control plane at {self._where()}: {_first_line(str(exc)) or type(exc).__name__}"
                f" (is the server running, and is {URL_ENV} right?)"
            ) from exc
        if response.status_code == 401 and (detail := _json_detail(response)) is not None:
            raise self._unauthorized(detail)
        return _result(response, self._where(), expect)

    def _unauthorized(self, detail: str) -> Unauthorized:
        if not self._has_token:
            return Unauthorized(
                f"the control plane at {self._where()} needs a token: set {TOKEN_ENV} "
                "(an admin makes one with `cloudplane token create`)"
            )
        return Unauthorized(
            f"the control plane at {self._where()} refused the token from {TOKEN_ENV}: {detail}; "
            f"set {TOKEN_ENV} to a valid token"
        )

    def _where(self) -> str:
        return _redacted(str(self._http.base_url))


def _headers(token: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"cloudplane/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _cloud_path(cloud_id: str) -> str:
    # Quoted whole, so an id can never reach another route.
    return "/clouds/" + quote(cloud_id, safe="")


def _cluster_path(name: str) -> str:
    return "/clusters/" + quote(name, safe="")


def _run_path(run_id: str) -> str:
    return "/functional-verifications/" + quote(run_id, safe="")


def _result(response: httpx.Response, where: str, expect: str | None = None) -> Any:
    status = response.status_code
    body = _json(response)
    if 200 <= status < 300:
        if status == 204 or not response.content:
            if expect is None:
                return None
            raise _not_cloudplane(response, where)
        if body is _NOT_JSON or (expect is not None and not (isinstance(body, dict) and expect in body)):
            raise _not_cloudplane(response, where)
        return body
    location = response.headers.get("location")
    if 300 <= status < 400 and location:
        target = _redacted(str(response.request.url.join(location)))
        raise OperationFailed(
            f"{where} redirects to {target} (HTTP {status}); set {URL_ENV} to the address it redirects to"
        )
    if not (isinstance(body, dict) and "detail" in body):
        if status in (502, 503, 504):  # a proxy in front of the servers, with none of them answering
            raise OperationFailed(
                f"the control plane at {where} is unavailable (HTTP {status}, {_content_type(response)}); "
                f"try again shortly, or check {URL_ENV}"
            )
        raise _not_cloudplane(response, where)
    detail = _detail(body.get("detail"), response)
    if status == 404 and detail != "Not Found":
        raise NotFound(detail)
    if status == 404:
        # FastAPI's answer for an unknown route: the URL is not (this version of) a control plane.
        raise OperationFailed(
            f"{where} does not serve the cloudplane API ({response.request.url.path} not found)"
        )
    if status == 409:
        raise Conflict(detail)
    if status in (400, 422):
        raise InputError(detail)
    if status == 403:
        raise Forbidden(f"the control plane refused the request: {detail} (check {TOKEN_ENV})")
    if status == 424:
        # The server acted in AWS through a cloud's role and AWS said no: its own one-line account.
        raise OperationFailed(detail)
    raise OperationFailed(f"the control plane at {where} failed (HTTP {status}): {detail}")


_NOT_JSON = object()


def _json_detail(response: httpx.Response) -> str | None:
    """The one-line `detail` of a cloudplane error reply; None when the reply is not one."""
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return _first_line(body["detail"])
    return None


def _json(response: httpx.Response) -> Any:
    """The parsed body if the response says it is JSON and is; _NOT_JSON otherwise."""
    media_type = _content_type(response)
    if media_type != "application/json" and not media_type.endswith("+json"):
        return _NOT_JSON
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _content_type(response: httpx.Response) -> str:
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type or "no content type"


def _not_cloudplane(response: httpx.Response, where: str) -> OperationFailed:
    return OperationFailed(
        f"{where} does not look like a cloudplane control plane "
        f"(HTTP {response.status_code}, {_content_type(response)}); check {URL_ENV}"
    )


def _detail(detail: Any, response: httpx.Response) -> str:
    """The `detail` of a cloudplane error reply, as one line."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path"))
                msg = str(item.get("msg", "invalid value"))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        detail = "; ".join(parts)
    if isinstance(detail, str) and detail.strip():
        return _first_line(detail)
    return response.reason_phrase or "error"


def _redacted(url: str) -> str:
    """The URL without a password it may carry."""
    from cloudplane.controlplane.settings import redact_url

    return redact_url(url)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]
