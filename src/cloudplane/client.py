"""Client of the control plane's HTTP API, for a shared server and for the embedded one alike.

With CLOUDPLANE_URL set it talks to that server over the network; without it, it runs the same
FastAPI app in-process on the local database. Either way the requests, the JSON and the error
mapping are the ones below. Heavy imports (httpx, FastAPI, SQLAlchemy) wait until a client is made,
so importing this module costs the CLI nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from cloudplane import __version__
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed

if TYPE_CHECKING:
    import httpx

URL_ENV = "CLOUDPLANE_URL"
TOKEN_ENV = "CLOUDPLANE_TOKEN"
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0

Mode = Literal["remote", "embedded"]


class ControlPlaneClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        mode: Mode = "remote",
        close: Callable[[], None] | None = None,
    ) -> None:
        self._http = http
        self._close = close or http.close
        self._closed = False
        self._lock = threading.Lock()
        self.mode: Mode = mode

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ControlPlaneClient:
        """Remote when CLOUDPLANE_URL is set, embedded otherwise; CLOUDPLANE_TOKEN is sent if set."""
        env = os.environ if env is None else env
        token = (env.get(TOKEN_ENV) or "").strip() or None
        url = (env.get(URL_ENV) or "").strip()
        if url:
            return cls.remote(url, token=token)
        from cloudplane.controlplane.settings import database_url

        return cls.embedded(database_url(env), token=token)

    @classmethod
    def remote(
        cls, url: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> ControlPlaneClient:
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"control-plane URL must start with http:// or https://, got {url!r} (see {URL_ENV})"
            )
        import httpx

        try:
            http = httpx.Client(base_url=url, headers=_headers(token), timeout=timeout)
        except httpx.InvalidURL as exc:
            raise InputError(f"invalid control-plane URL {_redacted(url)!r}: {exc} (see {URL_ENV})") from None
        if not http.base_url.host:
            http.close()
            raise InputError(f"the control-plane URL {_redacted(url)!r} names no host (see {URL_ENV})")
        return cls(http, mode="remote")

    @classmethod
    def embedded(cls, database_url: str | None = None, *, token: str | None = None) -> ControlPlaneClient:
        """The app in-process on `database_url` (default: CLOUDPLANE_DATABASE_URL or the SQLite file)."""
        from cloudplane.controlplane.embedded import open_embedded

        http, close = open_embedded(database_url, headers=_headers(token))
        return cls(http, mode="embedded", close=close)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> ControlPlaneClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

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

    def list_clouds(self) -> list[dict[str, Any]]:
        return self._call("GET", "/clouds", expect="clouds")["clouds"]

    def get_cloud(self, cloud_id: str) -> dict[str, Any]:
        return self._call("GET", _cloud_path(cloud_id), expect="id")

    def find_cloud(self, name: str | None = None, cloud_id: str | None = None) -> dict[str, Any]:
        """The cloud with this id, or else with this name."""
        if cloud_id:
            cloud = self.get_cloud(cloud_id)
            if name and cloud["name"] != name:
                raise InputError(f"cloud {cloud_id!r} is named {cloud['name']!r}, not {name!r}")
            return cloud
        if not name:
            raise InputError("give a cloud name or a cloud id")
        matches = self._call("GET", "/clouds", params={"name": name}, expect="clouds")["clouds"]
        if not matches:
            raise NotFound(f"no cloud named {name!r}")
        return matches[0]

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

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz", prefix="", expect="status")

    # --- plumbing -----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, prefix: str = API_PREFIX, expect: str | None = None, **kwargs: Any
    ) -> Any:
        """The JSON body of a successful reply; `expect` names a key it must have (the reply of
        anything but a cloudplane server lacks it)."""
        import httpx

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
        return _result(response, self._where(), expect)

    def _where(self) -> str:
        return "(embedded)" if self.mode == "embedded" else _redacted(str(self._http.base_url))


def _headers(token: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"cloudplane/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _cloud_path(cloud_id: str) -> str:
    # Quoted whole, so an id can never reach another route.
    return "/clouds/" + quote(cloud_id, safe="")


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
    if status in (401, 403):
        raise InputError(f"the control plane refused the request: {detail} (check {TOKEN_ENV})")
    raise OperationFailed(f"the control plane at {where} failed (HTTP {status}): {detail}")


_NOT_JSON = object()


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
