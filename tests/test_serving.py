"""`nrm serve` as operators run it: the shared socket is TCP without Nagle (else 44 ms per
request); workers are forked from a parent that imported the app, die with that parent, and
finish what they are doing when told to stop. Real processes on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn._subprocess

from service.kit import migrate
from service.kit.serving import listening_socket
from tests.conftest import PG_URL

NRM = [sys.executable, "-m", "service.cli"]
WORKERS = 2


def test_the_shared_listening_socket_is_tcp_without_nagle() -> None:
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only on TCP sockets
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_uvicorn_still_makes_its_workers_through_the_context_we_replace() -> None:
    assert uvicorn._subprocess.spawn.get_start_method() == "spawn"


@pytest.fixture
def serve_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    if PG_URL is not None:
        pytest.skip("the processes' behaviour does not depend on the database: SQLite only")
    url = f"sqlite:///{tmp_path / 'nrm.db'}"
    migrate.upgrade(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
    env.update(NRM_DATABASE_URL=url, NRM_RUN_JOBS="false")
    yield env


def test_workers_die_with_a_killed_parent_and_a_new_server_takes_the_port(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    first = _start(serve_env, port, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_until_live(port, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        _wait_until_refused(port, seconds=5.0)
        second = _start(serve_env, port, tmp_path / "second.log")
        _wait_until_live(port, second)
    finally:
        for process in (first, second):
            if process is not None:
                _stop_group(process)


def test_sigterm_lets_a_request_in_flight_finish(serve_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    server = _start(serve_env, port, tmp_path / "serve.log")
    try:
        _wait_until_live(port, server)
        body = b"username=nobody&password=wrong-password"
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10]
            )
            time.sleep(0.5)  # the worker has the request: headers read, body awaited
            server.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            client.sendall(body[10:])
            answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
        assert server.wait(30) == 0
        _wait_until_refused(port, seconds=5.0)
    finally:
        _stop_group(server)


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*NRM, "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _wait_until_live(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "nrm serve exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("nrm serve did not answer in 60 s")


def _wait_until_refused(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.1)
    raise AssertionError(f"port {port} still accepts connections after {seconds} s")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """The session we started (`start_new_session`): its id is the parent's."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_several_workers_share_their_metrics_and_log_json_lines(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    token = "scraper-token-0123456789-abcdefghijklmnop"
    env = {**serve_env, "NRM_METRICS_TOKEN": token}
    refused = subprocess.run(
        [*NRM, "serve", "--workers", "2"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "PROMETHEUS_MULTIPROC_DIR" in refused.stderr
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    port = _free_port()
    log = tmp_path / "serve.log"
    server = _start(env, port, log)
    try:
        _wait_until_live(port, server)
        for _ in range(20):  # new connections: both workers answer some
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=5).close()
        scrape = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(scrape, timeout=5) as answer:
            text = answer.read().decode()
        line = next(
            line
            for line in text.splitlines()
            if line.startswith("nrm_http_requests_total{") and 'route="/health/live"' in line
        )
        assert float(line.rsplit(" ", 1)[1]) >= 20
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        _stop_group(server)
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [e for e in entries if e["logger"] == "nrm.access"]
    assert len(access) >= 20 and all(e["request_id"] for e in access)
    assert {e["route"] for e in access} >= {"/health/live", "/metrics"}
