"""One load run against a server: wrk's figures, with the CPU and memory of everything around.

While wrk runs, a thread samples each worker's VmRSS twice a second, and a `CpuMeter` splits
the machine's CPU between the workers, PostgreSQL, wrk (its rusage) and everything else (the
machine is shared: "other" is what none of these used).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import procfs, wrk
from bench.bulk import Loader
from bench.rawloop import Actor
from bench.server import Server
from service.kit.context import AppContext


@dataclass(frozen=True)
class LoadRun:
    name: str
    backend: str
    result: wrk.LoadResult
    cpu: dict[str, float]  # cores used on average, per group
    rss_mib: dict[int, float] = field(default_factory=dict)  # peak per worker pid
    command: str = ""


class RssSampler:
    def __init__(self, pids: Callable[[], list[int]], every: float = 0.5) -> None:
        self._pids, self._every = pids, every
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._pids():
                rss = procfs.rss_mib(pid)
                if rss is not None:
                    self.peak[pid] = max(self.peak.get(pid, 0.0), rss)
            self._stop.wait(self._every)


def postgres_pids() -> list[int]:
    return procfs.pids_named("postgres")


def load(
    server: Server,
    name: str,
    backend: str,
    script: str,
    connections: int,
    seconds: float,
    env: dict[str, str],
    log: Path,
) -> LoadRun:
    groups = {"workers": server.all_pids, "postgres": postgres_pids}
    with RssSampler(server.worker_pids) as sampler:
        meter = procfs.CpuMeter(groups)
        result = wrk.run(server.base_url, script, connections, seconds, env, log)
        cpu = meter.stop({"wrk": result.client_cpu_seconds})
    if backend == "sqlite":
        cpu.pop("postgres", None)
    command = " ".join(wrk.command(server.base_url, script, connections, seconds))
    return LoadRun(name, backend, result, cpu, dict(sampler.peak), command)


def write_cases_file(path: Path, versions: dict[uuid.UUID, int]) -> None:
    path.write_text("".join(f"{case_id} {v}\n" for case_id, v in versions.items()))


def case_versions(database: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each case's current version, read from the database (libpq URL or SQLite path)."""
    if database.startswith("postgresql"):
        with psycopg.connect(database) as db:
            rows = db.execute(
                "SELECT id, version FROM case_file WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        found = {row[0]: int(row[1]) for row in rows}
    else:
        with sqlite3.connect(database) as db:
            marks = ",".join("?" * len(ids))
            rows = db.execute(
                f"SELECT id, version FROM case_file WHERE id IN ({marks})", [i.hex for i in ids]
            ).fetchall()
        found = {uuid.UUID(hex=row[0]): int(row[1]) for row in rows}
    return {case_id: found[case_id] for case_id in ids}


def drained_versions(database: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The versions once the server has finished the requests still in flight when wrk
    stopped (they commit after wrk has gone): read until two reads agree."""
    versions = case_versions(database, ids)
    for _ in range(20):
        time.sleep(0.5)
        again = case_versions(database, ids)
        if again == versions:
            break
        versions = again
    return versions


def settle(seconds: float = 1.0) -> None:
    """A pause between runs, so that one run's tail does not land in the next one's figures."""
    time.sleep(seconds)


def user_id(database: str, username: str) -> int:
    """A user's id, read from the database (libpq URL or SQLite path)."""
    query = "SELECT id FROM user_account WHERE username = "
    if database.startswith("postgresql"):
        with psycopg.connect(database) as db:
            row = db.execute(query + "%s", (username,)).fetchone()
    else:
        with sqlite3.connect(database) as db:
            row = db.execute(query + "?", (username,)).fetchone()
    assert row is not None, f"no user {username}"
    return int(row[0])


def bench_loader(context: AppContext, libpq: str) -> Loader:
    """The bulk loader of the latest national definition, its cases referred by the bench's
    KEMLU worker and their police reports recorded by its POLRI worker."""
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return Loader(
        url=libpq, definition=engine.definition, calendar=context.calendar,
        referrer=Actor(user_id(libpq, "bench.kemlu"), "bench.kemlu", "KEMLU"),
        police=Actor(user_id(libpq, "bench.polri"), "bench.polri", "POLRI"),
        now=datetime.now(UTC),
    )  # fmt: skip
