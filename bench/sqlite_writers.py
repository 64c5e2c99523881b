"""Issue 16, item 5: the embedded default (a SQLite file, WAL) under concurrent writing clients.

`--clients` threads, each with a keep-alive connection of its own, against `nrm serve` on a
fresh SQLite file: each registers a case, then fires `--transitions` transitions on it
(`record_police_report`: the case stays in its state, its version grows by one), and every
fifth request is a new intake instead. Reported: answers by status and code, p50/p99/max of
each kind, and what that is per second. The same script before and after a change gives the
figures in bench/RESULTS.md.

    .venv/bin/python -m bench.sqlite_writers [--clients 32] [--transitions 30] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.server import Server, add_users, nrm, service_env
from service.kit.config import generate_keys
from tests.factories import intake_body

PAYLOAD = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}


@dataclass
class Tally:
    answers: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, code: str, seconds: float) -> None:
        with self.lock:
            self.answers[f"{kind} {status} {code}".rstrip()] += 1
            self.seconds.setdefault(kind, []).append(seconds)


def post(connection: http.client.HTTPConnection, path: str, body: Any, token: str
         ) -> tuple[int, dict[str, Any], float]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.monotonic()
    connection.request("POST", path, json.dumps(body), headers)
    answer = connection.getresponse()
    raw = answer.read()
    elapsed = time.monotonic() - started
    try:
        data = json.loads(raw)
    except ValueError:
        data = {"code": "not-json"}
    return answer.status, data if isinstance(data, dict) else {}, elapsed


def client(server: Server, kemlu: str, polri: str, transitions: int, tally: Tally) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    status, case, seconds = post(connection, "/api/v1/cases", intake_body(), kemlu)
    tally.add("intake", status, str(case.get("code", "")), seconds)
    if status != 201:
        return
    version = int(case["version"])
    for n in range(transitions):
        if n % 5 == 4:
            status, data, seconds = post(connection, "/api/v1/cases", intake_body(), kemlu)
            tally.add("intake", status, str(data.get("code", "")), seconds)
            continue
        body = {"trigger": "record_police_report", "expected_version": version,
                "payload": PAYLOAD, "note": "sqlite writers"}  # fmt: skip
        status, data, seconds = post(connection, f"/api/v1/cases/{case['id']}/transitions",
                                     body, polri)  # fmt: skip
        tally.add("transition", status, str(data.get("code", "")), seconds)
        if status == 200:
            version = int(data["version"])
    connection.close()


def run(clients: int, transitions: int, workers: int) -> Tally:
    with tempfile.TemporaryDirectory() as tmp:
        env = service_env(f"sqlite:///{Path(tmp) / 'nrm.db'}", generate_keys())
        nrm(env, "db", "upgrade")
        add_users(env)
        server = Server(env, workers, Path(tmp) / "server.log")
        server.start(timeout=180)
        try:
            kemlu, polri = server.login("bench.kemlu"), server.login("bench.polri")
            tally = Tally()
            threads = [
                threading.Thread(target=client, args=(server, kemlu, polri, transitions, tally))
                for _ in range(clients)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            total = time.monotonic() - started
        finally:
            server.stop()
    report(tally, clients, transitions, workers, total)
    return tally


def report(tally: Tally, clients: int, transitions: int, workers: int, total: float) -> None:
    count = sum(tally.answers.values())
    print(f"SQLite, nrm serve --workers {workers}: {clients} clients x (1 intake + "
          f"{transitions} writes, every 5th an intake)")  # fmt: skip
    print(f"  answers: {dict(sorted(tally.answers.items()))}")
    print(f"  {count} writes in {total:.1f} s: {count / total:.0f}/s")
    for kind, seconds in sorted(tally.seconds.items()):
        ordered = sorted(seconds)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(f"  {kind}: p50 {statistics.median(ordered) * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--transitions", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    run(args.clients, args.transitions, args.workers)


if __name__ == "__main__":
    main()
