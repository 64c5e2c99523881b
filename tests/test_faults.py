"""Faults under load (issue 16, item 8): a private PostgreSQL 15 cluster (`tests/pgcluster.py`)
and `nrm serve --workers 2` on it, while client threads fire transitions with Idempotency-Keys
and record every acknowledged (200) answer. Each test injects one fault mid-load: the cluster
stopped and started again, frozen (SIGSTOP) for 8 s, a case row held locked while a flood hits
that case (the pool exhausted), a worker killed with SIGKILL. Then:

- no acknowledged transition is lost or applied twice: each acknowledged key is in the case's
  history exactly once, at the version its answer gave, and the versions are contiguous;
- every answer is JSON; every 503 has a `code` and `Retry-After`; no answer waits past the
  configured timeouts (a statement already sent to a frozen server waits for it: the freeze);
- the first 2xx comes within 5 s of the database returning;
- `nrm audit verify` exits 0.

They start a cluster of their own either way, so they run once, in the PostgreSQL pass
(NRM_TEST_DATABASE_URL set); they skip without initdb or a non-root user to run it as, and fail
instead when NRM_REQUIRE_POSTGRES=1 (CI). Marker `faults` (budget: about 3 minutes in all).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from bench.server import BIN, Server, add_users, nrm, service_env
from service.kit.config import generate_keys
from tests.conftest import PG_URL, REQUIRE_PG
from tests.factories import intake_body
from tests.pgcluster import Cluster, private_cluster, unavailable_reason

pytestmark = pytest.mark.faults

CLIENTS = 6
RECOVERY_SECONDS = 5.0
PAYLOAD = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}
# small bounds, so that a fault shows in seconds: what the asserts hold the answers to
LIMITS = {
    "NRM_POOL_SIZE": "4",
    "NRM_POOL_MAX_OVERFLOW": "2",
    "NRM_POOL_TIMEOUT_SECONDS": "1",
    "NRM_DB_CONNECT_TIMEOUT_SECONDS": "2",
    "NRM_DB_STATEMENT_TIMEOUT_SECONDS": "5",
    "NRM_DB_LOCK_TIMEOUT_SECONDS": "2",
    "NRM_READY_TIMEOUT_SECONDS": "1",
}
# the longest any answer may take when nothing is frozen: a thread (1 s), a connection (2 s),
# a statement (5 s), with room for a loaded 2-core machine
BOUND_SECONDS = 15.0
POOL_BOUND = 5.0  # a refusal for want of a thread: the pool timeout (1 s), and room
BURST = 24  # more than the two workers' 12 threads


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer (connection refused or reset)
    code: str
    is_json: bool
    retry_after: str | None
    started: float
    seconds: float
    data: dict[str, Any]


def ask(server: Server, method: str, path: str, token: str, body: Any = None,
        key: str | None = None) -> Answer:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.base_url + path, data, headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, raw, retry = answer.status, answer.read(), answer.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        status, raw, retry = error.code, error.read(), error.headers.get("Retry-After")
    except (OSError, urllib.error.URLError):
        return Answer(0, "", True, None, started, time.monotonic() - started, {})
    elapsed = time.monotonic() - started
    try:
        parsed = json.loads(raw)
    except ValueError:
        return Answer(status, raw[:80].decode(errors="replace"), False, retry, started, elapsed, {})
    parsed = parsed if isinstance(parsed, dict) else {}
    return Answer(status, str(parsed.get("code", "")), True, retry, started, elapsed, parsed)


@dataclass
class Load:
    """Client threads, each firing transitions on its case with a new Idempotency-Key per
    transition and the same key again after a 503 or a lost answer."""

    server: Server
    token: str
    answers: list[Answer] = field(default_factory=list)
    acknowledged: list[tuple[str, str, int]] = field(default_factory=list)  # case, key, version
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, cases: list[dict[str, Any]]) -> None:
        for case in cases:
            thread = threading.Thread(target=self._client, args=(case["id"], case["version"]))
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)
        assert not any(t.is_alive() for t in self.threads), "a client never got an answer"

    def _record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def _client(self, case_id: str, version: int) -> None:
        path = f"/api/v1/cases/{case_id}/transitions"
        while not self.stop.is_set():
            key = str(uuid.uuid4())
            body = {"trigger": "record_police_report", "expected_version": version,
                    "payload": PAYLOAD, "note": key}  # fmt: skip
            give_up = time.monotonic() + 60
            while time.monotonic() < give_up:
                answer = ask(self.server, "POST", path, self.token, body, key)
                self._record(answer)
                if answer.status == 200:
                    version = int(answer.data["version"])
                    with self.lock:
                        self.acknowledged.append((case_id, key, version))
                    break
                if answer.status == 409:  # another client on the same case got there first
                    version = self._version(case_id, version)
                    break
                if answer.status not in (0, 503):
                    break  # unexpected: the asserts on the answers name it
                time.sleep(0.2)  # the same key again: the first attempt may have committed

    def _version(self, case_id: str, known: int) -> int:
        for _ in range(100):
            answer = ask(self.server, "GET", f"/api/v1/cases/{case_id}", self.token)
            if answer.status == 200:
                return int(answer.data["version"])
            time.sleep(0.2)
        return known

    def first_success_after(self, instant: float) -> float:
        """Seconds from `instant` to the first 2xx answer sent after it."""
        with self.lock:
            ok = [a.started + a.seconds for a in self.answers if a.started >= instant
                  and 200 <= a.status < 300]  # fmt: skip
        assert ok, "no 2xx answer after the fault"
        return min(ok) - instant


@dataclass
class Service:
    cluster: Cluster
    server: Server
    env: dict[str, str]
    kemlu: str
    polri: str

    def cases(self, count: int) -> list[dict[str, Any]]:
        return [self.server.post_json("/api/v1/cases", intake_body(), self.kemlu)
                for _ in range(count)]  # fmt: skip

    def load(self, cases: list[dict[str, Any]]) -> Load:
        load = Load(self.server, self.polri)
        load.start(cases)
        return load

    def history(self, case_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor = ""
        while True:
            path = f"/api/v1/cases/{case_id}/history?limit=500" + (
                f"&cursor={cursor}" if cursor else ""
            )
            page = self.server.request("GET", path, token=self.polri)
            events += page["items"]
            if not page["next_cursor"]:
                return events
            cursor = page["next_cursor"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    if PG_URL is None:
        pytest.skip("PostgreSQL fault tests: they run in the PostgreSQL pass "
                    "(NRM_TEST_DATABASE_URL set), on a cluster of their own")  # fmt: skip
    reason = unavailable_reason()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(f"NRM_REQUIRE_POSTGRES=1 and no private cluster: {reason}")
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    with private_cluster() as cluster:
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=nrm dbname=postgres",
                             autocommit=True) as admin:  # fmt: skip
            admin.execute("CREATE DATABASE nrm")
        env = service_env(cluster.url("nrm"), generate_keys(), **LIMITS)
        nrm(env, "db", "upgrade")
        add_users(env)
        server = Server(env, 2, tmp_path_factory.mktemp("faults") / "serve.log")
        server.start(timeout=120)
        try:
            yield Service(cluster, server, env, server.login("bench.kemlu"),
                          server.login("bench.polri"))  # fmt: skip
        finally:
            server.stop()


def assert_answers_are_honest(load: Load, bound: float = BOUND_SECONDS) -> None:
    answers = load.answers
    assert answers, "the load sent nothing"
    not_json = [a for a in answers if a.status and not a.is_json]
    assert not not_json, f"answers that are not JSON: {not_json[:3]}"
    unexpected = Counter(
        f"{a.status} {a.code}" for a in answers if a.status not in (0, 200, 409, 503)
    )
    assert not unexpected, f"unexpected answers: {unexpected}"
    refused = [a for a in answers if a.status == 503]
    assert all(a.code in ("database_busy", "database_unavailable") for a in refused), refused[:3]
    assert all(a.retry_after and int(a.retry_after) >= 1 for a in refused), refused[:3]
    slowest = max(a.seconds for a in answers)
    assert slowest < bound, f"an answer took {slowest:.1f} s (bound {bound:.0f} s)"


def assert_nothing_lost_or_doubled(service: Service, load: Load) -> None:
    """Each acknowledged key is in its case's history exactly once, at the version its answer
    gave; the state-changing events number exactly the case's version (contiguous)."""
    by_case: dict[str, list[tuple[str, int]]] = {}
    for case_id, key, version in load.acknowledged:
        by_case.setdefault(case_id, []).append((key, version))
    assert by_case, "nothing was acknowledged"
    for case_id, acked in by_case.items():
        events = service.history(case_id)
        moves = [e for e in events if e["kind"] in ("created", "transition")]
        notes = [e["note"] for e in moves[1:]]
        assert len(set(notes)) == len(notes), "a transition was applied twice"
        case = service.server.request("GET", f"/api/v1/cases/{case_id}", token=service.polri)
        assert len(moves) == case["version"], "versions are not contiguous"
        at_version = {note: n + 2 for n, note in enumerate(notes)}  # the first move makes v2
        for key, version in acked:
            assert at_version.get(key) == version, f"acknowledged {key} at v{version} is not there"


def assert_audit_verifies(service: Service) -> None:
    done = subprocess.run([str(BIN / "nrm"), "audit", "verify"], env=service.env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_database_restart_mid_load_loses_nothing_and_answers_503_while_down(
    service: Service,
) -> None:
    load = service.load(service.cases(CLIENTS))
    try:
        time.sleep(2.0)
        down = time.monotonic()
        service.cluster.stop("immediate")
        time.sleep(3.0)
        during = ask(service.server, "GET", "/health/ready", "")
        service.cluster.start()
        back = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 1.0)
    finally:
        load.finish()
    assert during.status == 503 and during.is_json and during.retry_after, during
    assert_answers_are_honest(load)
    while_down = [
        a for a in load.answers if down + 0.5 < a.started and a.started + a.seconds < back
    ]
    assert while_down and all(a.status == 503 for a in while_down), Counter(
        f"{a.status} {a.code}" for a in while_down
    )
    assert load.first_success_after(back) < RECOVERY_SECONDS
    assert_nothing_lost_or_doubled(service, load)
    assert_audit_verifies(service)


def test_a_frozen_database_gets_503s_not_hangs_and_recovers_when_it_thaws(
    service: Service,
) -> None:
    freeze = 8.0
    cases = service.cases(CLIENTS)
    load = service.load(cases)
    pool = ThreadPoolExecutor(BURST)  # not inside the freeze: leaving it waits for the answers
    try:
        time.sleep(2.0)
        with service.cluster.frozen():
            frozen = time.monotonic()
            time.sleep(1.0)
            ready = ask(service.server, "GET", "/health/ready", "")
            live = ask(service.server, "GET", "/health/live", "")
            # more requests than the workers have threads: those that find none are refused
            path = f"/api/v1/cases/{cases[0]['id']}/history"
            burst = [pool.submit(ask, service.server, "GET", path, service.polri)
                     for _ in range(BURST)]  # fmt: skip
            time.sleep(max(0.0, frozen + freeze - time.monotonic()))
            thawed = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 1.0)
    finally:
        load.finish()
        pool.shutdown()
    assert ready.status == 503 and ready.is_json and ready.retry_after, ready
    assert ready.seconds < 3.0 and live.status == 200
    refused = [f.result() for f in burst if f.result().started + f.result().seconds < thawed]
    assert refused, "every request waited for the thaw"
    # no thread in time (database_busy), or no new connection in time (database_unavailable)
    assert all(a.status == 503 and a.retry_after for a in refused), refused
    assert {a.code for a in refused} <= {"database_busy", "database_unavailable"}, refused
    assert all(a.seconds < POOL_BOUND for a in refused), [a.seconds for a in refused]
    # a statement already sent when the server stopped waits for it: the freeze, no longer
    assert_answers_are_honest(load, bound=freeze + BOUND_SECONDS)
    assert load.first_success_after(thawed) < RECOVERY_SECONDS
    assert_nothing_lost_or_doubled(service, load)
    assert_audit_verifies(service)


def test_a_flood_on_a_locked_case_is_refused_in_time_and_other_cases_go_on(
    service: Service,
) -> None:
    locked, *others = service.cases(CLIENTS + 1)
    load = service.load(others)
    flood = service.load([locked] * 12)
    try:
        time.sleep(1.0)
        dsn = f"host=127.0.0.1 port={service.cluster.port} user=nrm dbname=nrm"
        with psycopg.connect(dsn) as holder:
            holder.execute("SELECT 1 FROM case_file WHERE id = %s FOR UPDATE",
                           (uuid.UUID(locked["id"]),))  # fmt: skip
            held = time.monotonic()
            time.sleep(8.0)
            holder.rollback()
        released = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 1.0)
    finally:
        flood.finish()
        load.finish()
    for each in (load, flood):
        assert_answers_are_honest(each)
    assert any(a.status == 503 and a.code == "database_busy" for a in flood.answers)
    others_ok = [a for a in load.answers if a.status == 200 and held < a.started < released - 1]
    assert others_ok, "other cases stood still while one case was locked"
    assert flood.first_success_after(released) < RECOVERY_SECONDS
    for each in (load, flood):
        assert_nothing_lost_or_doubled(service, each)
    assert_audit_verifies(service)


def test_a_worker_killed_mid_load_loses_nothing_and_is_replaced(service: Service) -> None:
    load = service.load(service.cases(CLIENTS))
    try:
        time.sleep(2.0)
        victim = service.server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 1.0)
    finally:
        load.finish()
    assert_answers_are_honest(load)
    assert load.first_success_after(killed) < RECOVERY_SECONDS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = service.server.worker_pids()
        if len(workers) == 2 and victim not in workers:
            break
        time.sleep(0.5)
    assert len(workers) == 2 and victim not in workers, f"workers now: {workers}"
    assert_nothing_lost_or_doubled(service, load)
    assert_audit_verifies(service)
