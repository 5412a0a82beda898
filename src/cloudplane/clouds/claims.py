"""One command at a time on a cloud: a claim in the control plane, renewed while the command runs.

A command that is killed (SIGKILL, a closed laptop) leaves its claim behind. The next command takes it
over at once when the holder ran on this machine and its process is gone, and otherwise once the claim
runs out (it is renewed every RENEW_SECONDS while its holder lives).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from typing import Any

from cloudplane.errors import Conflict, NotFound

CLAIM_SECONDS = 120.0
RENEW_SECONDS = 30.0


def new_owner() -> str:
    """`host:pid:random`: where the holder runs, so that a later command can tell it is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_gone(owner: str) -> bool:
    """True only when the holder ran on this machine and its process no longer exists."""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


class CloudClaim:
    """Use as `with CloudClaim(client, "setup") as claim:`; then `claim.take(cloud_id)` for an existing
    cloud, or pass `claim.body()` to `create_cloud` and call `claim.started(cloud_id)`."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client = client
        self.operation = operation
        self.owner = new_owner()
        self.cloud_id: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def body(self) -> dict[str, Any]:
        return {"operation": self.operation, "owner": self.owner, "seconds": CLAIM_SECONDS}

    def take(self, cloud_id: str) -> dict[str, Any]:
        """Claim an existing cloud: refused (Conflict) while another live command holds it."""
        try:
            cloud = self._client.claim_cloud(cloud_id, **self.body())
        except Conflict:
            holder = (self._client.get_cloud(cloud_id).get("operation") or {}).get("owner")
            if not holder or not holder_is_gone(holder):
                raise
            cloud = self._client.claim_cloud(cloud_id, **self.body(), replace=holder)
        self.started(cloud_id)
        return cloud

    def started(self, cloud_id: str) -> None:
        self.cloud_id = cloud_id
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._renew, name="cloud-claim", daemon=True)
            self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_SECONDS):
            try:
                self._client.claim_cloud(self.cloud_id, **self.body())
            except Exception:  # noqa: BLE001 - the record may be gone (deleted) or the server briefly away
                continue

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        if self.cloud_id is None:
            return
        try:
            self._client.release_cloud(self.cloud_id, self.owner)
        except NotFound:
            pass  # the command deleted the cloud
        except Exception:  # noqa: BLE001 - never hide the command's own outcome; the claim runs out
            pass

    def __enter__(self) -> CloudClaim:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
