"""Re-runs the pool-exhaustion degradation of issue 16 against `nrm serve` on PostgreSQL and
prints what a client sees: the same script before and after a change gives the figures.

One connection holds `SELECT ... FOR UPDATE` on a case for `--lock` seconds while `--clients`
concurrent transitions hit that case (they fill every worker's pool); 2 s in, an unrelated case
is read and `/health` is asked. Reported: answers by status and code, whether each is JSON,
time to the first refusal and the slowest answer, the unrelated read and the health check.

    .venv/bin/python -m bench.degradations [--pg URL] [--workers 2] [--clients 100] [--lock 35]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench._setup import scratch_database
from bench.server import Server, add_users, nrm, service_env
from service.kit.config import generate_keys
from tests.factories import intake_body

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
PAYLOAD = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}


@dataclass(frozen=True)
class Answer:
    status: int
    code: str
    json: bool
    seconds: float


def ask(server: Server, method: str, path: str, token: str, body: object = None) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(server.base_url + path, data, headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=180) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    elapsed = time.monotonic() - started
    try:
        code = str(json.loads(raw).get("code", "")) if raw else ""
        is_json = True
    except ValueError:
        code, is_json = raw[:60].decode(errors="replace"), False
    return Answer(status, code, is_json, elapsed)


def run(pg: str, workers: int, clients: int, lock_seconds: float) -> None:
    with scratch_database(pg, "nrm_degrade") as url, tempfile.TemporaryDirectory() as tmp:
        env = service_env(url, generate_keys())
        nrm(env, "db", "upgrade")
        add_users(env)
        server = Server(env, workers, Path(tmp) / "server.log")
        server.start(timeout=180)
        try:
            _measure(server, url, clients, lock_seconds)
        finally:
            server.stop()


def _measure(server: Server, url: str, clients: int, lock_seconds: float) -> None:
    kemlu, polri = server.login("bench.kemlu"), server.login("bench.polri")
    locked, other = (server.post_json("/api/v1/cases", intake_body(), kemlu) for _ in range(2))
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    holder = psycopg.connect(dsn)
    holder.execute("SELECT 1 FROM case_file WHERE id = %s FOR UPDATE", (locked["id"],))
    release = threading.Timer(lock_seconds, holder.rollback)
    release.start()
    body = {"trigger": "record_police_report", "expected_version": locked["version"],
            "payload": PAYLOAD, "note": "degradation run"}  # fmt: skip
    path = f"/api/v1/cases/{locked['id']}/transitions"
    started = time.monotonic()
    with ThreadPoolExecutor(clients + 2) as pool:
        futures = [pool.submit(ask, server, "POST", path, polri, body) for _ in range(clients)]
        time.sleep(2.0)
        read = ask(server, "GET", f"/api/v1/cases/{other['id']}", kemlu)
        health = ask(server, "GET", "/health", "")
        answers = [f.result() for f in futures]
    total = time.monotonic() - started
    release.cancel()
    holder.close()
    refused = [a.seconds for a in answers if a.status >= 500]
    print(f"{clients} transitions on a row locked {lock_seconds:.0f} s, {server.workers} workers")
    print("  answers:", dict(Counter(f"{a.status} {a.code}" for a in answers)))
    print(f"  JSON: {sum(a.json for a in answers)}/{len(answers)}")
    if refused:
        print(f"  5xx: first after {min(refused):.2f} s, median {statistics.median(refused):.2f} s")
    print(f"  slowest answer {max(a.seconds for a in answers):.2f} s; all done in {total:.1f} s")
    print(f"  unrelated case read: {read.status} {read.code} in {read.seconds:.2f} s")
    print(f"  /health: {health.status} {health.code} in {health.seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--lock", type=float, default=35.0)
    args = parser.parse_args()
    run(args.pg, args.workers, args.clients, args.lock)


if __name__ == "__main__":
    main()
