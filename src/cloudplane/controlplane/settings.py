"""Where the control plane keeps its data: environment variables and their defaults.

Light on purpose (no SQLAlchemy import) so the client can read it without slowing the CLI down.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Mapping
from pathlib import Path

from cloudplane.errors import InputError

HOME_ENV = "CLOUDPLANE_HOME"
DATABASE_URL_ENV = "CLOUDPLANE_DATABASE_URL"
DEFAULT_HOME = "~/.cloudplane"
SQLITE_FILE = "cloudplane.db"
# The newest schema revision (migrations/versions). Knowing it without Alembic lets an up-to-date database
# skip importing it, and the embedded CLI's quick reads (sqlite_records) check it before trusting a file.
SCHEMA_REVISION = "0006"
SUPPORTED_URLS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
# Drivers that are installed; anything else would fail on import deep inside SQLAlchemy.
_DRIVERS = {"sqlite": ("", "pysqlite"), "postgresql": ("", "psycopg"), "postgres": ("", "psycopg")}


def cloudplane_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    raw = env.get(HOME_ENV) or DEFAULT_HOME
    try:
        return Path(raw).expanduser()
    except RuntimeError:  # `~` with neither HOME nor a passwd entry to expand it
        raise InputError(
            f"cannot tell where {raw} is (this user has no home directory); set {HOME_ENV} to a directory"
        ) from None


def ensure_home(env: Mapping[str, str] | None = None) -> Path:
    """The home directory; created readable by its owner only (it holds External IDs) if missing."""
    home = cloudplane_home(env)
    try:
        if home.is_dir():
            return home
        if home.exists() or home.is_symlink():
            raise InputError(
                f"{HOME_ENV} {str(home)!r} exists and is not a directory; "
                f"set {HOME_ENV} to a directory, or move that file out of the way"
            )
        ancestor = next((p for p in home.parents if p.exists() or p.is_symlink()), None)
        if ancestor is not None and not ancestor.is_dir():
            raise InputError(
                f"cannot create {HOME_ENV} {str(home)!r}: {str(ancestor)!r} is not a directory; "
                f"set {HOME_ENV} to a directory you can write to"
            )
        home.parent.mkdir(parents=True, exist_ok=True)
        try:
            home.mkdir(mode=0o700)
        except FileExistsError:
            if home.is_dir():  # another command made it at the same moment
                return home
            raise
        home.chmod(0o700)  # exactly 0700, whatever the umask took from mkdir's mode
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(home) else ""
        raise InputError(
            f"cannot create {HOME_ENV} {str(home)!r}: {reason}{where}; "
            f"set {HOME_ENV} to a directory you can write to"
        ) from None
    return home


def database_url(env: Mapping[str, str] | None = None) -> str:
    """CLOUDPLANE_DATABASE_URL if set, else the SQLite file under CLOUDPLANE_HOME (created if needed)."""
    env = os.environ if env is None else env
    url = (env.get(DATABASE_URL_ENV) or "").strip()
    if url:
        return normalize_url(url)
    return f"sqlite:///{ensure_home(env) / SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """A SQLite or PostgreSQL URL, PostgreSQL with the psycopg (v3) driver, the one installed.

    Anything else is refused here, as one line, rather than deep inside SQLAlchemy.
    """
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise InputError(
            f"{redact_url(url)!r} is not a database URL; use {SUPPORTED_URLS} (check {DATABASE_URL_ENV})"
        )
    backend, _, driver = scheme.lower().partition("+")
    if driver not in _DRIVERS.get(backend, ()):
        raise InputError(
            f"unsupported database {scheme!r} in {redact_url(url)!r}: cloudplane stores its data in "
            f"SQLite or PostgreSQL; use {SUPPORTED_URLS} (check {DATABASE_URL_ENV})"
        )
    if backend == "sqlite":
        return f"{scheme.lower()}://{rest}"
    return "postgresql+psycopg://" + rest


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***; works on malformed URLs too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"


def private_data_warning(database_file: Path | None, env: Mapping[str, str] | None = None) -> str | None:
    """One line when other users can get at the home directory or the database file: both hold
    External IDs. A warning, not a refusal: the user may share them on purpose."""
    if database_file is None:
        return None
    exposed = [(database_file, "600")]
    home = cloudplane_home(env)
    if _same(database_file.parent, home):
        exposed.insert(0, (home, "700"))
    found = [(path, mode, current) for path, mode in exposed if (current := _open_mode(path)) is not None]
    if not found:
        return None
    paths = " and ".join(f"{path} (mode {current:o})" for path, _, current in found)
    are, hold = ("are", "hold") if len(found) > 1 else ("is", "holds")
    fix = " && ".join(f"chmod {mode} {shlex.quote(str(path))}" for path, mode, _ in found)
    return f"{paths} {are} open to other users and {hold} External IDs; restrict with: {fix}"


def _open_mode(path: Path) -> int | None:
    """The permission bits of `path` if group or others have any; None otherwise (or if missing)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return current if current & 0o077 else None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False
