"""At size: queue pages at 10k, 100k and 1M cases, the queue query's plan, sealing, verify and
the SLA sweep over every case (PostgreSQL).

The server runs with `NRM_RUN_JOBS=false` here: its periodic SLA sweep would otherwise do the
work the sweep benchmark measures, and its checkpoint job would race the bulk loader.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from bench import profile, wrk
from bench.audit_verify import seal_all
from bench.bulk import Loader
from bench.server import Server
from schemas.queue import QueueQuery
from service.audit import service as audit
from service.auth.service import principal_of
from service.kit.context import AppContext
from service.kit.paging import CursorCodec, scope_of
from service.kit.principal import Principal
from service.sla.sweep import SweepReport, sweep
from service.worklists import service as queues
from service.worklists.repository import Position

MINISTRY = "KEMENPPPA"  # leads `referred`, the state every bulk case is in: the longest queue
UNIT = "KEMENPPPA-NASIONAL"  # the unit the bulk loader gives each case: its queue is as long
DUE_SHARE = 0.01
WARM_UP = 10  # requests before each measured page


@dataclass(frozen=True)
class QueuePoint:
    cases: int
    queue_length: int
    first: wrk.LoadResult
    deep: wrk.LoadResult
    deep_rank: int
    unit_first: wrk.LoadResult
    unit_deep: wrk.LoadResult


@dataclass(frozen=True)
class Timed:
    seconds: float
    detail: str
    count: int = 0


@dataclass
class Dataset:
    loads: dict[int, float] = field(default_factory=dict)  # cases reached -> seconds to load
    queues: list[QueuePoint] = field(default_factory=list)
    explain: dict[str, str] = field(default_factory=dict)
    queue_command: str = ""
    seal: Timed | None = None
    verify: Timed | None = None
    sweep_idle: Timed | None = None
    sweep_due: Timed | None = None
    verify_profile: profile.Profile | None = None
    verify_profile_command: str = ""


def case_count(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT count(*) FROM case_file").fetchone()
    return int(row[0]) if row else 0


def grow_and_measure(
    server: Server, loader: Loader, context: AppContext, sizes: list[int], seconds: float,
    out: Path, found: Dataset,
) -> None:  # fmt: skip
    """Load up to each size, then time the first page and a page from the queue's middle."""
    token = server.login("bench.kemenpppa")
    for size in sizes:
        missing = size - case_count(loader.url)
        started = time.perf_counter()
        if missing > 0:
            print(f"  loading {missing} cases (to {size})", flush=True)
            loader.add(missing)
        found.loads[size] = time.perf_counter() - started
        found.queues.append(_queue_point(server, loader.url, context, token, size, seconds, out))
        path = _queue_path(context, None)
        found.queue_command = " ".join(wrk.command(server.base_url + path, "get.lua", 1, seconds))
    found.explain = {
        "first page": explain(context, None),
        "deep page": explain(context, _middle(loader.url)[1]),
    }


def _queue_point(
    server: Server, url: str, context: AppContext, token: str, size: int, seconds: float,
    out: Path,
) -> QueuePoint:  # fmt: skip
    length, position = _middle(url)
    log = out / "wrk-queues.log"
    results = {}
    pages = [
        ("first", _queue_path(context, None)),
        ("deep", _queue_path(context, position)),
        ("unit first", _unit_queue_path(context, None)),
        ("unit deep", _unit_queue_path(context, position)),
    ]
    for name, path in pages:
        for _ in range(WARM_UP):
            started = time.perf_counter()
            page = server.request("GET", path, token=token)
            assert page["items"], "the queue page is empty"
            if time.perf_counter() - started > 0.5:
                break  # a slow page warms up in one request
        print(f"  queue page ({name}) at {size} cases", flush=True)
        env = {"BENCH_TOKEN": token, "BENCH_PATH": path}
        results[name] = wrk.run(server.base_url, "get.lua", 1, seconds, env, log)
    return QueuePoint(
        size, length, results["first"], results["deep"], length // 2, results["unit first"],
        results["unit deep"],
    )  # fmt: skip


def _middle(url: str) -> tuple[int, Position]:
    """The queue's length and the position of its middle case (a cursor deep in the queue)."""
    with psycopg.connect(url) as db:
        length = db.execute(
            "SELECT count(*) FROM case_file WHERE ministry = %s AND due_at IS NOT NULL",
            (MINISTRY,),
        ).fetchone()
        assert length is not None
        row = db.execute(
            "SELECT due_at, id FROM case_file WHERE ministry = %s AND due_at IS NOT NULL "
            "ORDER BY due_at, id OFFSET %s LIMIT 1",
            (MINISTRY, int(length[0]) // 2),
        ).fetchone()
    assert row is not None
    return int(length[0]), Position(row[0], row[1])


def _queue_path(context: AppContext, after: Position | None) -> str:
    """The queue's URL, with a cursor made as the service makes it (its signing key is ours)."""
    query = QueueQuery()
    params: dict[str, Any] = {"limit": query.limit}
    if after is not None:
        filters = query.model_dump(mode="json", exclude={"limit", "cursor"})
        scope = scope_of(list="queue", ministry=MINISTRY, filters=filters, me=None)
        codec = CursorCodec(context.settings.keys.secret_key)
        params["cursor"] = codec.encode(scope, [after.due_at.isoformat(), after.id.hex])
    return f"/api/v1/queues/{MINISTRY}?{urllib.parse.urlencode(params)}"


def _unit_queue_path(context: AppContext, after: Position | None) -> str:
    """The unit's queue (`/units/{code}/queue`), with a cursor made as the service makes it."""
    params: dict[str, Any] = {"limit": QueueQuery().limit}
    if after is not None:
        scope = scope_of(list="unit_queue", unit=UNIT)
        codec = CursorCodec(context.settings.keys.secret_key)
        params["cursor"] = codec.encode(scope, [after.due_at.isoformat(), after.id.hex])
    return f"/api/v1/units/{UNIT}/queue?{urllib.parse.urlencode(params)}"


def explain(context: AppContext, after: Position | None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the very SQL the queue use case sends (run twice: warm)."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM case_file" in statement:
            captured.append((statement, parameters))

    engine = context.database.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        principal = _queue_reader(context)
        query = QueueQuery(cursor=_queue_cursor(context, after))
        with context.database.transaction() as session:
            queues.list_queue(session, context, principal, MINISTRY, query)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    with context.database.transaction() as session:
        connection = session.connection()
        for _ in range(2):
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def _queue_cursor(context: AppContext, after: Position | None) -> str | None:
    if after is None:
        return None
    return urllib.parse.parse_qs(_queue_path(context, after).split("?", 1)[1])["cursor"][0]


def _queue_reader(context: AppContext) -> Principal:
    with context.database.transaction() as session:
        row = (
            session.connection()
            .exec_driver_sql("SELECT id FROM user_account WHERE username = 'bench.kemenpppa'")
            .first()
        )
        assert row is not None
        return principal_of(session, int(row[0]))


def seal_and_verify(context: AppContext, found: Dataset, out: Path) -> None:
    print("  sealing checkpoints", flush=True)
    started = time.perf_counter()
    made = seal_all(context)
    found.seal = Timed(time.perf_counter() - started, f"{made} checkpoints", made)
    print("  audit verify", flush=True)
    output = out / "profile-verify.txt"
    try:
        with profile.sampling(os.getpid(), output) as command:
            started = time.perf_counter()
            verdict = audit.verify(context)
            seconds = time.perf_counter() - started
        found.verify_profile = profile.summarize(output.read_text())
        found.verify_profile_command = command
    except (OSError, subprocess.SubprocessError):  # no py-spy: time it alone
        started = time.perf_counter()
        verdict = audit.verify(context)
        seconds = time.perf_counter() - started
    detail = (f"ok={verdict.ok}, {verdict.events_checked} events, {verdict.streams_checked} "
              f"streams, {verdict.checkpoints_checked} checkpoints")  # fmt: skip
    if not verdict.ok:
        detail += f"; first broken: {verdict.first_broken}"
    found.verify = Timed(seconds, detail, verdict.events_checked)


def sweeps(context: AppContext, url: str, found: Dataset) -> None:
    """The sweep when nothing is due, then with 1% of the open cases past their warning."""
    print("  SLA sweep, nothing due", flush=True)
    found.sweep_idle = _timed_sweep(context)
    with psycopg.connect(url) as db:
        row = db.execute("SELECT count(*) FROM case_file WHERE sla_next_at IS NOT NULL").fetchone()
        due = int((row[0] if row else 0) * DUE_SHARE)
        # as if these cases had entered their step five days earlier: warned, most breached
        db.execute(
            "UPDATE case_file SET state_entered_at = state_entered_at - %(shift)s, "
            "due_at = due_at - %(shift)s, sla_next_at = sla_next_at - %(shift)s "
            "WHERE id IN (SELECT id FROM case_file WHERE sla_next_at IS NOT NULL "
            "ORDER BY id LIMIT %(due)s)",
            {"shift": timedelta(days=5), "due": due},
        )
    print(f"  SLA sweep, {due} cases due", flush=True)
    found.sweep_due = _timed_sweep(context)


def _timed_sweep(context: AppContext) -> Timed:
    started = time.perf_counter()
    report: SweepReport = sweep(context)
    return Timed(time.perf_counter() - started, str(report), report.cases)
