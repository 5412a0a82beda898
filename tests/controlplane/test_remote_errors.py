"""CLOUDPLANE_URL pointing at something that is not a cloudplane server, or at nothing: one line naming
the URL, exit 1; a URL that cannot be one: exit 2. Real HTTP servers on 127.0.0.1, no mocks."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.errors import OperationFailed
from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

# path -> (status, content type, body, extra headers)
Answers = dict[str, tuple[int, str, bytes, dict[str, str]]]


class _Handler(http.server.BaseHTTPRequestHandler):
    answers: Answers = {}
    fallback = (404, "text/html; charset=utf-8", b"<html><body><h1>404 Not Found</h1></body></html>", {})

    def _answer(self) -> None:
        status, content_type, body, headers = self.answers.get(self.path.split("?")[0], self.fallback)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def web(isolated_env: Path) -> Iterator[tuple[str, Answers]]:
    """A plain web server (not cloudplane) and the answers it gives, by path."""
    answers: Answers = {}
    handler = type("Handler", (_Handler,), {"answers": answers})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    server.server_close()


def one_line_error(run, exit_code: int) -> str:
    assert run.exit_code == exit_code, run
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def not_cloudplane(url: str, status: int, content_type: str) -> str:
    return (
        f"error: {url} does not look like a cloudplane control plane (HTTP {status}, {content_type}); "
        "check CLOUDPLANE_URL\n"
    )


def test_the_sandbox_aws_endpoint_is_not_a_control_plane(
    aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDPLANE_URL", aws_env.url)
    for args in (("cloud", "list"), ("cloud", "get", "--name", "acme")):
        error = one_line_error(cloudplane(*args), 1)
        assert error == not_cloudplane(aws_env.url, 404, "application/xml")
    with (
        ControlPlaneClient.from_env() as client,
        pytest.raises(OperationFailed, match=r"\(HTTP 500, text/html\); check CLOUDPLANE_URL$"),
    ):
        client.create_cloud("acme", "aws", "us-west-2", "managed", "public")


def test_a_web_server_answering_404_html(web: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = web
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    assert one_line_error(cloudplane("cloud", "list"), 1) == not_cloudplane(url, 404, "text/html")


@pytest.mark.parametrize(
    ("status", "content_type", "body", "shown"),
    [
        (200, "text/html", b"<html>welcome</html>", "text/html"),
        (200, "application/json", b'{"items": []}', "application/json"),  # JSON, but not cloudplane's
        (200, "", b"clouds", "no content type"),
        (404, "application/json", b'{"message": "no route"}', "application/json"),
        (401, "text/html", b"<html>log in first</html>", "text/html"),
        (500, "text/plain", b"boom", "text/plain"),
    ],
)
def test_replies_that_are_not_cloudplanes(
    web: tuple[str, Answers],
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    content_type: str,
    body: bytes,
    shown: str,
) -> None:
    url, answers = web
    answers["/api/v1/clouds"] = (status, content_type, body, {})
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    assert one_line_error(cloudplane("cloud", "list"), 1) == not_cloudplane(url, status, shown)


def test_a_proxy_with_no_server_behind_it(web: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = web
    answers["/api/v1/clouds"] = (503, "text/html", b"<html>503 Service Unavailable</html>", {})
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    assert one_line_error(cloudplane("cloud", "list"), 1) == (
        f"error: the control plane at {url} is unavailable (HTTP 503, text/html); "
        "try again shortly, or check CLOUDPLANE_URL\n"
    )


def test_a_redirect_names_where_it_goes(web: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = web
    answers["/api/v1/clouds"] = (
        301,
        "text/html",
        b"",
        {"Location": "https://cloudplane.example.com/api/v1/clouds"},
    )
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    assert one_line_error(cloudplane("cloud", "list"), 1) == (
        f"error: {url} redirects to https://cloudplane.example.com/api/v1/clouds (HTTP 301); "
        "set CLOUDPLANE_URL to the address it redirects to\n"
    )


def test_the_password_in_the_url_is_not_shown(
    web: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = web
    monkeypatch.setenv("CLOUDPLANE_URL", url.replace("http://", "http://me:hunter2@"))
    error = one_line_error(cloudplane("cloud", "list"), 1)
    assert error == not_cloudplane(url.replace("http://", "http://me:***@"), 404, "text/html")


def test_nothing_listening_names_the_url(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    error = one_line_error(cloudplane("cloud", "list"), 1)
    assert error.startswith(f"error: cannot reach the control plane at {url}: ")
    assert error.endswith("(is the server running, and is CLOUDPLANE_URL right?)\n")


def test_a_server_that_never_answers_names_the_url(isolated_env: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # accepts connections, never answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with (
            ControlPlaneClient.remote(url, timeout=0.3) as client,
            pytest.raises(OperationFailed, match=rf"^the control plane at {url} did not answer in time"),
        ):
            client.list_clouds()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://cloudplane.example.com:port",
            "error: invalid control-plane URL 'http://cloudplane.example.com:port': ",
        ),
        ("http://", "error: the control-plane URL 'http://' names no host (see CLOUDPLANE_URL)\n"),
    ],
)
def test_a_url_that_cannot_be_one_is_bad_input(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("CLOUDPLANE_URL", url)
    assert one_line_error(cloudplane("cloud", "list"), 2).startswith(message)
