"""`nrm serve` as production runs it, started and stopped by its process id; users and tokens.

The server runs in a session of its own (`start_new_session`), so stopping it signals its
process group by the id we started, never a process found by name. Its workers are the
children of that process (uvicorn's supervisor).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procfs

BIN = Path(sys.executable).parent
PASSWORD = "bench-Password-2026-long"
USERS = {
    # name: (role, ministry)
    "bench.polri": ("case_worker", "POLRI"),  # fires the legal-track transition
    "bench.kemlu": ("case_worker", "KEMLU"),  # registers referrals
    "bench.kemenpppa": ("case_worker", "KEMENPPPA"),  # reads its ministry's queue
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(database_url: str, keys: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
    env.update(
        NRM_DATABASE_URL=database_url,
        NRM_SECRET_KEY=keys["secret_key"],
        NRM_DATA_KEY=keys["data_key"],
        NRM_AUDIT_SIGNING_KEY=keys["audit_signing_key"],
        NRM_ACCESS_TOKEN_MINUTES="120",  # one token lasts the whole run
    )
    env.update(extra)
    return env


def nrm(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "nrm"), *args], env=env, input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"nrm {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def add_users(env: dict[str, str]) -> None:
    for name, (role, ministry) in USERS.items():
        nrm(env, "users", "add", name, "--role", role, "--ministry", ministry,
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip


@dataclass
class Server:
    env: dict[str, str]
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [str(BIN / "nrm"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers)]  # fmt: skip

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nrm serve exited; see {self.log_path}")
            if len(self.worker_pids()) >= self.workers and self._healthy():
                time.sleep(0.5)  # the last worker's start-up (publishing) settles
                return
            time.sleep(0.2)
        raise RuntimeError(f"nrm serve did not answer in {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def worker_pids(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        # `nrm serve` forks uvicorn's workers from the parent (multiprocessing may add a
        # resource tracker beside them: not a worker)
        workers = [p for p in procfs.children(self.process.pid) if _is_worker(p)]
        if self.workers == 1 and not workers:
            return [self.process.pid]  # a single worker is the server process itself
        return workers

    def all_pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *self.worker_pids()]

    def stop(self) -> None:
        """SIGTERM to the server's own process group, SIGKILL if it has not gone in 15 s."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        _signal_group(process.pid, signal.SIGKILL)  # a worker left behind by its supervisor

    def login(self, username: str) -> str:
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
        answer = self.request("POST", "/api/v1/auth/token", form, content_type=None)
        return str(answer["access_token"])

    def request(self, method: str, path: str, body: bytes | None = None, *, token: str = "",
                content_type: str | None = "application/json") -> Any:  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, body, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def post_json(self, path: str, data: Any, token: str) -> Any:
        return self.request("POST", path, json.dumps(data).encode(), token=token)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _is_worker(pid: int) -> bool:
    try:
        return b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
