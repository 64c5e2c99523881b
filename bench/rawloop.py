"""The raw limit: the SQL of a transition's write, in a tight loop, at the same concurrency.

Each client is a process with one connection and one case of its own, as each wrk connection
has. Per transition it does what the service's flush does, and nothing else: hash the event
onto the case's chain (`service.audit.integrity.chain.event_hash`), the compare-and-set
UPDATE of the case row and the INSERT of the event, as the ORM writes them, then COMMIT.
Processes, not threads: the hashing and the driver's Python code hold the GIL, and 16 or 32
threads in one process would measure the GIL, not the database. The events are valid:
`nrm audit verify` accepts them.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Json

from bench import procfs
from service.audit.integrity.chain import event_hash

PAYLOAD = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}
TRIGGER = "record_police_report"

PG_UPDATE = (
    "UPDATE case_file SET version=%(version)s::INTEGER, event_count=%(event_count)s::INTEGER, "
    "head_hash=%(head_hash)s::VARCHAR, legal=%(legal)s::JSON, "
    "updated_at=%(updated_at)s::TIMESTAMP WITH TIME ZONE "
    "WHERE case_file.id = %(case_file_id)s::UUID "
    "AND case_file.event_count = %(case_file_event_count)s::INTEGER"
)
PG_INSERT = (
    "INSERT INTO case_event (stream, stream_seq, case_id, kind, trigger, from_state, to_state, "
    "actor_id, actor, actor_role, ministry, at, payload, note, prev_hash, hash) VALUES "
    "(%(stream)s::VARCHAR, %(stream_seq)s::INTEGER, %(case_id)s::UUID, %(kind)s::VARCHAR, "
    "%(trigger)s::VARCHAR, %(from_state)s::VARCHAR, %(to_state)s::VARCHAR, "
    "%(actor_id)s::INTEGER, %(actor)s::VARCHAR, %(actor_role)s::VARCHAR, "
    "%(ministry)s::VARCHAR, %(at)s::TIMESTAMP WITH TIME ZONE, %(payload)s::JSON, "
    "%(note)s::VARCHAR, %(prev_hash)s::VARCHAR, %(hash)s::VARCHAR) RETURNING case_event.seq"
)
SQLITE_UPDATE = (
    "UPDATE case_file SET version=:version, event_count=:event_count, head_hash=:head_hash, "
    "legal=:legal, updated_at=:updated_at "
    "WHERE case_file.id = :case_file_id AND case_file.event_count = :case_file_event_count"
)
SQLITE_INSERT = (
    "INSERT INTO case_event (stream, stream_seq, case_id, kind, trigger, from_state, to_state, "
    "actor_id, actor, actor_role, ministry, at, payload, note, prev_hash, hash) VALUES "
    "(:stream, :stream_seq, :case_id, :kind, :trigger, :from_state, :to_state, :actor_id, "
    ":actor, :actor_role, :ministry, :at, :payload, :note, :prev_hash, :hash) RETURNING seq"
)


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    ministry: str


@dataclass(frozen=True)
class RawResult:
    clients: int
    seconds: float
    transactions: int
    conflicts: int
    latencies_ms: list[float]
    client_cpu_seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def connect(target: str, dict_rows: bool = False) -> Any:
    """A client's own connection: SQLite as the service opens it (WAL, foreign keys; no
    transaction until BEGIN), or psycopg; rows as dicts if asked."""
    if target.startswith("postgresql"):
        if dict_rows:
            return psycopg.connect(target, row_factory=dict_row)
        return psycopg.connect(target)
    db = sqlite3.connect(target, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    if dict_rows:
        db.row_factory = sqlite3.Row
    return db


def own_signals() -> None:
    """In a client process: end on SIGTERM or SIGINT, not with the parent's handlers."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)


class _Backend:
    """One client's connection: the dialect differences, nothing else."""

    def __init__(self, target: str) -> None:
        self.sqlite = not target.startswith("postgresql")
        self.db: Any = connect(target)

    def head(self, case_id: uuid.UUID) -> tuple[int, int, str, dict[str, Any]]:
        key: Any = case_id.hex if self.sqlite else case_id
        mark = "?" if self.sqlite else "%s"
        row = self.db.execute(
            f"SELECT version, event_count, head_hash, legal FROM case_file WHERE id = {mark}",
            (key,),
        ).fetchone()
        if not self.sqlite:
            self.db.commit()
        legal = json.loads(row[3]) if isinstance(row[3], str) else row[3]
        return int(row[0]), int(row[1]), str(row[2]), legal

    def write(self, update: dict[str, Any], insert: dict[str, Any]) -> bool:
        """One transaction; False if the compare-and-set found the row changed."""
        if self.sqlite:
            return self._write_sqlite(update, insert)
        cursor = self.db.cursor()
        cursor.execute(PG_UPDATE, {**update, "legal": Json(update["legal"])})
        if cursor.rowcount != 1:
            self.db.rollback()
            return False
        cursor.execute(PG_INSERT, {**insert, "payload": Json(insert["payload"])})
        cursor.fetchone()
        self.db.commit()
        return True

    def _write_sqlite(self, update: dict[str, Any], insert: dict[str, Any]) -> bool:
        def instant(at: datetime) -> str:
            return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        self.db.execute("BEGIN IMMEDIATE")
        changed = self.db.execute(SQLITE_UPDATE, {
            **update, "legal": json.dumps(update["legal"]),
            "updated_at": instant(update["updated_at"]), "case_file_id": update["case_file_id"].hex,
        }).rowcount  # fmt: skip
        if changed != 1:
            self.db.execute("ROLLBACK")
            return False
        self.db.execute(SQLITE_INSERT, {
            **insert, "payload": json.dumps(insert["payload"]), "at": instant(insert["at"]),
            "case_id": insert["case_id"].hex,
        }).fetchone()  # fmt: skip
        self.db.execute("COMMIT")
        return True


def _client(
    target: str,
    case_id: uuid.UUID,
    actor: Actor,
    seconds: float,
    go: Any,
    release: Any,
    out: Connection,
) -> None:
    own_signals()
    backend = _Backend(target)
    version, count, head, legal = backend.head(case_id)
    legal = {**legal, TRIGGER: PAYLOAD}
    out.send("ready")
    go.wait()
    latencies: list[float] = []
    conflicts = 0
    end = time.perf_counter() + seconds
    while (started := time.perf_counter()) < end:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "stream": case_id.hex, "stream_seq": count + 1, "prev_hash": head,
            "case_id": case_id, "actor_id": actor.user_id, "actor": actor.username,
            "actor_role": "case_worker", "ministry": actor.ministry, "at": now,
            "kind": "transition", "trigger": TRIGGER, "from_state": "referred",
            "to_state": "referred", "payload": PAYLOAD, "note": None,
        }  # fmt: skip
        fields["hash"] = event_hash(fields)
        update = {"version": version + 1, "event_count": count + 1, "head_hash": fields["hash"],
                  "legal": legal, "updated_at": now, "case_file_id": case_id,
                  "case_file_event_count": count}  # fmt: skip
        if backend.write(update, fields):
            version, count, head = version + 1, count + 1, fields["hash"]
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            conflicts += 1
            version, count, head, _legal = backend.head(case_id)
    out.send((latencies, conflicts, time.process_time()))
    release.wait(30)  # the connection (and its backend) stays until the parent measured its CPU
    backend.db.close()


def run(
    target: str,
    cases: list[uuid.UUID],
    actor: Actor,
    seconds: float,
    cpu_groups: dict[str, Callable[[], list[int]]],
    client: Callable[..., None] | None = None,
) -> RawResult:
    """One process per case; all start together and stop after `seconds`.

    `target`: a libpq URL (postgresql://...) or a SQLite file path. `cpu_groups` are measured
    while the clients run (`procfs.CpuMeter`); the clients' own CPU is added as "clients".
    `client`: what each process runs (a transition's write by default; `bench/rawintake.py`
    passes an intake's).
    """
    context = multiprocessing.get_context("fork")
    go, release = context.Event(), context.Event()
    pipes, processes = [], []
    try:
        for case_id in cases:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=client or _client,
                args=(target, case_id, actor, seconds, go, release, send),
                daemon=True,
            )
            process.start()
            pipes.append(receive)
            processes.append(process)
        for pipe in pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a raw-loop client failed to start")
        meter = procfs.CpuMeter(cpu_groups)
        go.set()
        results = [pipe.recv() for pipe in pipes]
        cpu = meter.stop()  # before the clients close their connections (and backends exit)
        release.set()
    finally:
        release.set()
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(5)
    latencies = [ms for lat, _c, _cpu in results for ms in lat]
    client_cpu = sum(cpu for _lat, _c, cpu in results)
    return RawResult(
        clients=len(cases),
        seconds=seconds,
        transactions=len(latencies),
        conflicts=sum(c for _lat, c, _cpu in results),
        latencies_ms=latencies,
        client_cpu_seconds=client_cpu,
        cpu={
            **cpu,
            "clients": client_cpu / seconds,
            "other": max(cpu["other"] - client_cpu / seconds, 0),
        },
    )
