"""What operators see in Prometheus: requests, errors, the pool, transitions, the jobs, queues.

Labels are bounded sets: a route is its TEMPLATE (`/api/v1/cases/{case_id}`), never the path
(a case id is not a label), a method outside the HTTP verbs is `other`, an error its `code`.

Several uvicorn workers each count in files under `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's
multiprocess mode; the variable must be set before the workers start, `nrm serve` checks), and
a scrape served by any worker sums them. Gauges say how they combine: the pool's `livesum` (the
live workers' connections), the queues' `mostrecent` (the last refresh by any worker).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"
_ON_COMMIT = "nrm_metrics_on_commit"
ACCESS_LOG = logging.getLogger("nrm.access")
_WATCHED: weakref.WeakSet[Any] = weakref.WeakSet()

if os.environ.get(MULTIPROC_DIR):  # an unlabelled gauge opens its file right here
    Path(os.environ[MULTIPROC_DIR]).mkdir(mode=0o700, parents=True, exist_ok=True)

REQUESTS = Counter(
    "nrm_http_requests", "HTTP requests answered", ("method", "route", "status")
)  # fmt: skip
LATENCY = Histogram(
    "nrm_http_request_duration_seconds",
    "Time to answer, from the request's arrival to the end of its answer",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter("nrm_http_errors", "Error answers by their JSON `code`", ("status", "code"))
POOL_IN_USE = Gauge(
    "nrm_db_pool_connections_in_use",
    "Pooled database connections checked out",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "nrm_db_pool_connections_open", "Pooled database connections open", multiprocess_mode="livesum"
)
TRANSITIONS = Counter(
    "nrm_transitions", "Case transitions committed, by trigger", ("trigger", "outcome")
)
JOB_RUNS = Counter("nrm_job_runs", "Periodic job runs by outcome", ("job", "outcome"))
JOB_SECONDS = Histogram(
    "nrm_job_duration_seconds",
    "Periodic job run time",
    ("job",),
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)
JOB_LAST_SUCCESS = Gauge(
    "nrm_job_last_success_timestamp_seconds",
    "When a periodic job last succeeded (Unix time)",
    ("job",),
    multiprocess_mode="max",
)
JOB_RESULTS = Counter(
    "nrm_job_results", "What the periodic jobs recorded (sweep warnings, checkpoints, ...)",
    ("job", "result"),
)  # fmt: skip
QUEUE_CASES = Gauge(
    "nrm_queue_open_cases",
    "Open cases by lead ministry, as of the last refresh (a periodic job)",
    ("ministry", "overdue"),
    multiprocess_mode="mostrecent",
)
WEBHOOK_BACKLOG = Gauge(
    "nrm_webhook_backlog",
    "Webhook events waiting: in the outbox, in deliveries (dead included), dead letters",
    ("state",),
    multiprocess_mode="mostrecent",
)


def route_label(scope: dict[str, Any] | Any) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", UNMATCHED))


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def count_error(status: int, code: str) -> None:
    ERRORS.labels(str(status), code).inc()


def count_on_commit(session: Session, counter: Counter, *labels: str) -> None:
    """Count once the session's transaction commits (a rolled-back transition never happened)."""
    session.info.setdefault(_ON_COMMIT, []).append((counter, labels))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for counter, labels in session.info.pop(_ON_COMMIT, ()):
        counter.labels(*labels).inc()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges true on every checkout and checkin (a scrape counts nothing)."""
    pool = engine.pool
    if pool in _WATCHED:
        return
    _WATCHED.add(pool)

    def refresh(*_args: Any) -> None:
        in_use = int(getattr(pool, "checkedout", lambda: 0)())
        POOL_IN_USE.set(in_use)
        POOL_OPEN.set(in_use + int(getattr(pool, "checkedin", lambda: 0)()))

    for name in ("checkout", "checkin", "connect", "close"):
        event.listen(pool, name, refresh)


def timed_job(name: str, run: Callable[[], object]) -> object:
    """Run one periodic job, counting its outcome and time; re-raises its failure."""
    started = time.monotonic()
    try:
        result = run()
    except Exception:
        JOB_RUNS.labels(name, "failed").inc()
        raise
    finally:
        JOB_SECONDS.labels(name).observe(time.monotonic() - started)
    JOB_RUNS.labels(name, "ok").inc()
    JOB_LAST_SUCCESS.labels(name).set(time.time())
    return result


def count_results(job: str, result: object) -> None:
    """What a job reports: a count (rows pruned, checkpoints sealed) or a dataclass of counts
    (the SLA sweep's cases, warnings, breaches, escalations, skipped)."""
    if isinstance(result, bool):
        return
    if isinstance(result, int):
        JOB_RESULTS.labels(job, "count").inc(result)
    elif dataclasses.is_dataclass(result) and not isinstance(result, type):
        for field in dataclasses.fields(result):
            value = getattr(result, field.name)
            if isinstance(value, int) and not isinstance(value, bool):
                JOB_RESULTS.labels(job, field.name).inc(value)


def exposition() -> tuple[bytes, str]:
    """The text a scrape reads: every worker's files in multiprocess mode, else this process."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir() -> None:
    """Before the workers start: the directory holds no earlier run's files (their counters
    would be added to this run's); this process's own stay."""
    path = os.environ.get(MULTIPROC_DIR)
    if not path:
        return
    ours = f"_{os.getpid()}.db"
    for stale in Path(path).glob("*.db"):
        if not stale.name.endswith(ours):
            stale.unlink()


def forget_this_process() -> None:
    """At a worker's graceful exit: its live gauges (pool) stop counting."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class RequestMetrics:
    """Counts and times every HTTP answer by its route template, and logs it as one line
    (`nrm.access`: method, route template, status, milliseconds; the request id comes with the
    formatter). Inside RequestIdMiddleware, so that its 500 is counted too."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500

        async def send_counting(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            elapsed = time.monotonic() - started
            method, route = method_label(scope["method"]), route_label(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            ACCESS_LOG.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={"method": method, "route": route, "status": status,
                       "duration_ms": round(elapsed * 1000, 1)},
            )  # fmt: skip
