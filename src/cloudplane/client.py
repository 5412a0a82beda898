"""The control plane as the CLI sees it: one interface, two transports.

Without CLOUDPLANE_URL the CLI calls the control plane's service directly, in-process, on the local
database (`client_direct`); with it, it talks HTTP to a shared `cloudplane server` (`client_http`). Both
take the same arguments, return the same JSON-ready dicts and raise the same errors. Nothing heavy is
imported until a client is made, and the direct transport never loads a web framework or an HTTP client.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Literal

from cloudplane.errors import InputError, NotFound

URL_ENV = "CLOUDPLANE_URL"
TOKEN_ENV = "CLOUDPLANE_TOKEN"

Mode = Literal["remote", "embedded"]


class ControlPlaneClient(ABC):
    mode: Mode

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, announce: bool = True) -> ControlPlaneClient:
        """Remote when CLOUDPLANE_URL is set, embedded otherwise; CLOUDPLANE_TOKEN is sent if set, and
        (unless `announce` is false) one line on stderr says so."""
        env = os.environ if env is None else env
        token = (env.get(TOKEN_ENV) or "").strip() or None
        url = (env.get(URL_ENV) or "").strip()
        if url:
            client = cls.remote(url, token=token)
            if announce and token:
                print(f"Using the token from {TOKEN_ENV}", file=sys.stderr)
            return client
        from cloudplane.controlplane.settings import database_url

        return cls.embedded(database_url(env))

    @staticmethod
    def remote(url: str, *, token: str | None = None, timeout: float | None = None) -> ControlPlaneClient:
        from cloudplane.client_http import DEFAULT_TIMEOUT, HttpClient

        return HttpClient.open(url, token=token, timeout=timeout or DEFAULT_TIMEOUT)

    @staticmethod
    def embedded(database_url: str | None = None) -> ControlPlaneClient:
        """The service in-process on `database_url` (default: CLOUDPLANE_DATABASE_URL or the SQLite file)."""
        from cloudplane.client_direct import DirectClient

        return DirectClient.open(database_url)

    @property
    @abstractmethod
    def where(self) -> str:
        """The server's URL or the database's, without a password: for messages."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ControlPlaneClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- clouds -------------------------------------------------------------------------------

    @abstractmethod
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
    ) -> dict[str, Any]: ...

    @abstractmethod
    def list_clouds(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """Every cloud (of this name), in creation order, however many pages that takes."""

    @abstractmethod
    def list_clouds_page(
        self, *, name: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """Up to `limit` clouds from `cursor` on: {"clouds": [...], "next_cursor": str | None}."""

    @abstractmethod
    def get_cloud(self, cloud_id: str) -> dict[str, Any]: ...

    @abstractmethod
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

    @abstractmethod
    def store_verification(self, cloud_id: str, report: Mapping[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def set_default(self, cloud_id: str) -> dict[str, Any]: ...

    @abstractmethod
    def claim_cloud(
        self, cloud_id: str, *, operation: str, owner: str, seconds: float, replace: str | None = None
    ) -> dict[str, Any]:
        """Claim the cloud for a command (or renew the claim); Conflict while another holds it."""

    @abstractmethod
    def release_cloud(self, cloud_id: str, owner: str) -> dict[str, Any]: ...

    @abstractmethod
    def delete_cloud(self, cloud_id: str) -> None: ...

    # --- clusters (acting in the cloud's account through its role) -----------------------------

    @abstractmethod
    def launch_cluster(
        self,
        name: str,
        *,
        cloud_id: str | None = None,
        kind: str = "workspace",
        compute_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Launch a cluster in the cloud (None: the organisation's default cloud)."""

    @abstractmethod
    def list_clusters(
        self, *, cloud_id: str | None = None, include_terminated: bool = False
    ) -> list[dict[str, Any]]:
        """Clusters with their states refreshed from EC2."""

    @abstractmethod
    def get_cluster(self, name: str) -> dict[str, Any]: ...

    @abstractmethod
    def terminate_cluster(self, name: str) -> dict[str, Any]: ...

    @abstractmethod
    def cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        """The cloud's instances that are not terminated, with their cluster's name."""

    @abstractmethod
    def terminate_cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        """Terminate every live instance of the cloud; the instances that were live."""

    # --- load balancers and functional verification (through the cloud's role) -----------------

    @abstractmethod
    def clean_up_load_balancers(self, cloud_id: str) -> dict[str, Any]:
        """One pass at deleting the cloud's load-balancer stacks and certificates (found by its tag):
        {"done", "stacks", "certificates", "failed"}; call again until done."""

    @abstractmethod
    def start_functional_verification(self, cloud_id: str, targets: list[str]) -> dict[str, Any]:
        """Launch what each target ("workspace", "service") needs; the run, to be advanced until it ends."""

    @abstractmethod
    def advance_functional_verification(self, run_id: str) -> dict[str, Any]:
        """Move the run on as far as AWS allows now (never waits long); the run as it stands."""

    @abstractmethod
    def abort_functional_verification(self, run_id: str) -> dict[str, Any]:
        """Stop the run: start terminating and deleting everything it launched."""

    @abstractmethod
    def get_functional_verification(self, run_id: str) -> dict[str, Any]: ...

    # --- tokens -------------------------------------------------------------------------------

    @abstractmethod
    def create_token(
        self, *, org: str | None = None, name: str | None = None, admin: bool = False
    ) -> dict[str, Any]:
        """A new token of `org` (default: the caller's); the answer's "token" is the secret, shown once."""

    @abstractmethod
    def list_tokens(self, *, org: str | None = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def revoke_token(self, name: str, *, org: str | None = None) -> dict[str, Any]: ...

    # --- the control plane itself ---------------------------------------------------------------

    @abstractmethod
    def health(self) -> dict[str, Any]: ...

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """{"version", "aws_principal"}: the principal customer roles must trust (None: the caller's account)."""

    def find_cloud(self, name: str | None = None, cloud_id: str | None = None) -> dict[str, Any]:
        """The cloud with this id, or else with this name."""
        if cloud_id:
            cloud = self.get_cloud(cloud_id)
            if name and cloud["name"] != name:
                raise InputError(f"cloud {cloud_id!r} is named {cloud['name']!r}, not {name!r}")
            return cloud
        if not name:
            raise InputError("give a cloud name or a cloud id")
        matches = self.list_clouds(name=name)
        if not matches:
            raise NotFound(f"no cloud named {name!r}")
        return matches[0]
