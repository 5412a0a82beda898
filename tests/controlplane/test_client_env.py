"""How the client picks its control plane from the environment, and what importing it costs."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.errors import InputError, OperationFailed


def test_embedded_by_default_under_cloudplane_home(isolated_env) -> None:
    with ControlPlaneClient.from_env() as client:
        assert client.mode == "embedded"
        cloud = client.create_cloud("local", "aws", "us-west-2", "managed", "public")
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o700
    assert (isolated_env / "cloudplane.db").is_file()

    with ControlPlaneClient.from_env() as client:  # a later command sees the same data
        assert client.get_cloud(cloud["id"]) == cloud


def test_database_url_from_the_environment(isolated_env, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with ControlPlaneClient.from_env() as client:
        client.create_cloud("elsewhere", "aws", "us-west-2", "managed", "public")
    assert (tmp_path / "elsewhere.db").is_file()
    assert not isolated_env.exists()


def test_unusable_database_is_an_operation_failure(isolated_env, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    with pytest.raises(OperationFailed, match=r"^cannot open the control-plane database sqlite:///"):
        ControlPlaneClient.embedded(url)


def test_url_without_a_scheme_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"^control-plane URL must start with http:// or https://"):
        ControlPlaneClient.from_env({"CLOUDPLANE_URL": "cloudplane.example.com:8000"})


def test_importing_the_client_loads_no_heavy_modules() -> None:
    heavy = ["fastapi", "starlette", "sqlalchemy", "alembic", "httpx", "pydantic"]
    code = (
        f"import json, sys, cloudplane.client; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_the_embedded_control_plane_loads_no_web_stack(tmp_path) -> None:
    """A command on the local database: no web framework, no pydantic, no HTTP client; and once the
    schema is current, no migration tool either."""
    url = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    web = ["fastapi", "starlette", "httpx", "pydantic", "uvicorn"]
    code = (
        "import json, sys\n"
        "from cloudplane.client import ControlPlaneClient\n"
        f"with ControlPlaneClient.embedded({url!r}) as client:\n"
        "    client.list_clouds()\n"
        f"print(json.dumps([m for m in {[*web, 'alembic']!r} if m in sys.modules]))\n"
    )

    def loaded() -> list[str]:
        run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        return json.loads(run.stdout)

    assert set(loaded()) <= {"alembic"}  # the first run creates the schema
    assert loaded() == []  # later runs only read the schema's version


def test_reading_clouds_in_process_loads_no_aws_sdk(tmp_path) -> None:
    """boto3 costs about 80 ms to import; the control plane loads it only once it acts in AWS."""
    url = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    code = (
        "import json, sys\n"
        "from cloudplane.client import ControlPlaneClient\n"
        f"with ControlPlaneClient.embedded({url!r}) as client:\n"
        "    client.list_clouds()\n"
        "print(json.dumps([m for m in ['boto3', 'boto3.session'] if m in sys.modules]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert json.loads(run.stdout) == []
