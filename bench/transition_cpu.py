"""CPU per transition inside one process: the application's own cost, without the network.

A steadier figure than throughput on a shared machine (other engineers' load changes how many
transitions a second the service gets, much less how much CPU each one costs). The app is
called as uvicorn calls it (ASGI, on uvloop), one request at a time, on a scratch database;
the process's CPU time (all threads: the pool's too) is divided by the transitions. With
`--profile FILE`, py-spy samples the process meanwhile (`--gil`: Python CPU only) and the
stacks are reduced as `bench/profile.py` does.

    .venv/bin/python -m bench.transition_cpu [--pg URL | --sqlite] [-n 2000] [--profile out.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import uvloop

from bench import profile
from bench._setup import fresh_context
from schemas.auth import UserCreate, UserRead
from service.app import create_app
from service.auth.service import open_session
from service.cli import CLI
from service.kit.capacity import set_worker_threads
from service.kit.context import AppContext
from service.models import utcnow
from service.users.service import create_user
from tests.factories import intake_body

PASSWORD = "bench-Password-2026-long"
PAYLOAD = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}


class Client:
    """Requests straight into the ASGI app (the scope uvicorn would build)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
        raw = json.dumps(body).encode()
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(raw)).encode()),
                   (b"authorization", f"Bearer {token}".encode())]  # fmt: skip
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}  # fmt: skip
        sent = False
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return int(answer["status"]), json.loads(answer["body"])


def _users(context: AppContext) -> tuple[str, str]:
    tokens = []
    with context.database.transaction() as session:
        for name, ministry in (("bench.kemlu", "KEMLU"), ("bench.polri", "POLRI")):
            asked = {"username": name, "role": "case_worker", "ministry": ministry}
            data = UserCreate.model_validate({**asked, "password": PASSWORD})
            made = create_user(session, context, CLI, data)
            assert isinstance(made, UserRead)
            tokens.append(open_session(session, context, made.id, utcnow()).access_token)
    return tokens[0], tokens[1]


async def _drive(context: AppContext, count: int) -> tuple[float, float, int]:
    set_worker_threads(context.settings.worker_threads)
    client = Client(create_app(context))
    kemlu, polri = _users(context)
    status, case = await client.call("POST", "/api/v1/cases", intake_body(), kemlu)
    assert status == 201, case
    path, version = f"/api/v1/cases/{case['id']}/transitions", case["version"]

    async def fire() -> None:
        nonlocal version
        body = {"trigger": "record_police_report", "expected_version": version,
                "payload": PAYLOAD}  # fmt: skip
        status, answer = await client.call("POST", path, body, polri)
        assert status == 200, answer
        version = answer["version"]

    for _ in range(50):  # warm-up: caches, prepared statements
        await fire()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        await fire()
    return time.process_time() - cpu, time.perf_counter() - wall, count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks to this file")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    with ExitStack() as stack:
        context = stack.enter_context(fresh_context(None if args.sqlite else args.pg))
        if args.profile:
            stack.enter_context(profile.sampling(os.getpid(), args.profile))
        cpu, wall, count = uvloop.run(_drive(context, args.n))
    backend = "sqlite" if args.sqlite else "postgresql"
    print(f"{backend}: {count} transitions one at a time: CPU {cpu / count * 1000:.2f} ms each, "
          f"wall {wall / count * 1000:.2f} ms each; load average before "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    if args.profile:
        found = profile.summarize(args.profile.read_text(), top=30)
        per = cpu / count * 1000
        print(f"{found.samples} samples; the steps of a transition (share, ms of its CPU):")
        for name, share in found.stages:
            print(f"  {share:6.1%}  {share * per:5.2f} ms  {name}")
        print("inclusive (own code):")
        for name, share in found.inclusive:
            print(f"  {share:6.1%}  {name}")
        print("self time:")
        for name, share in found.self_time:
            print(f"  {share:6.1%}  {name}")
        print("packages:", ", ".join(f"{n} {s:.0%}" for n, s in found.packages[:8]))


if __name__ == "__main__":
    main()
