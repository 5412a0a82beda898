"""Where the control plane keeps its data: environment variables and their defaults.

Light on purpose (no SQLAlchemy import) so the client can read it without slowing the CLI down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HOME_ENV = "CLOUDPLANE_HOME"
DATABASE_URL_ENV = "CLOUDPLANE_DATABASE_URL"
DEFAULT_HOME = "~/.cloudplane"
SQLITE_FILE = "cloudplane.db"


def cloudplane_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def ensure_home(env: Mapping[str, str] | None = None) -> Path:
    """Create the home directory readable by its owner only (it holds External IDs)."""
    home = cloudplane_home(env)
    if not home.is_dir():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        home.chmod(0o700)  # mkdir's mode is masked by the umask
    return home


def database_url(env: Mapping[str, str] | None = None) -> str:
    """CLOUDPLANE_DATABASE_URL if set, else the SQLite file under CLOUDPLANE_HOME (created if needed)."""
    env = os.environ if env is None else env
    url = env.get(DATABASE_URL_ENV)
    if url:
        return normalize_url(url)
    return f"sqlite:///{ensure_home(env) / SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """Plain PostgreSQL URLs get the psycopg (v3) driver, the one installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
