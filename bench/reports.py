"""The monthly report over a million cases on PostgreSQL (issue 14: under 2 s).

    .venv/bin/python -m bench.reports [--pg URL] [--cases 1000000] [--repeat 5]
                                      [--keep NAME | --reuse NAME | --drop NAME]

Loads `--cases` cases with bench/bulk.py (each a referral registered within the last day,
one in ten with a police report recorded in place: 1.1 events per case) into a scratch
database, then times the monthly report's use case (`reports.service.monthly_report`, the
same call the API makes, in one read-only snapshot) for the national scope (an auditor) and
for one ministry's supervisor, over the last twelve months; prints the load average, the
timings (first call, then the median and worst of `--repeat`), the CPU time they took, and
the plans of its aggregate queries. The load is not part of the figure.

A million cases take minutes to load: `--keep NAME` loads them into database NAME and leaves
it there, `--reuse NAME` measures an already-loaded NAME again (migrating it to the head first,
so a new migration's backfill runs on it, then vacuuming as the loader does), and `--drop NAME`
drops it when done.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bench import procfs
from bench._setup import scratch_database
from bench.measure import bench_loader
from bench.server import add_users, nrm, service_env
from schemas.auth import Role
from schemas.common import WIB
from service.bootstrap import bootstrap
from service.kit.config import generate_keys, settings_for
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.reports import service as reports

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="NAME", help="load into database NAME and keep it")
    kept.add_argument("--reuse", metavar="NAME", help="measure the loaded database NAME again")
    kept.add_argument("--drop", metavar="NAME", help="drop the kept database NAME and stop")
    args = parser.parse_args()
    if args.drop:
        _drop(args.pg, args.drop)
        return
    keys = generate_keys()
    with _database(args.pg, args.keep, args.reuse) as url:
        env = service_env(url, keys)
        nrm(env, "db", "upgrade")
        if not args.reuse:
            add_users(env)
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        context = bootstrap(settings_for(url, keys))
        try:
            if args.reuse:
                _settle(libpq)
            else:
                _load(context, libpq, args.cases)
            _measure(context, libpq, args.repeat)
        finally:
            context.database.engine.dispose()


@contextmanager
def _database(server_url: str, keep: str | None, reuse: str | None) -> Iterator[str]:
    """A scratch database dropped afterwards, or one named to keep (created) or reuse."""
    if keep is None and reuse is None:
        with scratch_database(server_url, "nrm_bench_reports") as url:
            yield url
        return
    name = keep or reuse
    if keep:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    yield make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _load(context: AppContext, libpq: str, cases: int) -> None:
    loader = bench_loader(context, libpq)
    started = time.perf_counter()
    loader.add(cases)
    with psycopg.connect(libpq) as db:
        counted = db.execute("SELECT count(*), (SELECT count(*) FROM case_event) FROM case_file")
        row = counted.fetchone()
    assert row is not None
    print(f"loaded {row[0]} cases, {row[1]} events in {time.perf_counter() - started:.0f} s")


def _settle(libpq: str) -> None:
    """After an upgrade whose migration filled a table (0019's `ministry_move`), the steady
    state the loader leaves too: statistics and the visibility map set (an index-only scan of
    a table never vacuumed fetches every row from the heap), as autovacuum would have by now."""
    with psycopg.connect(libpq, autocommit=True) as db:
        db.execute("VACUUM (ANALYZE) case_file, case_event, case_ministry, ministry_move")


def _measure(context: AppContext, libpq: str, repeat: int) -> None:
    today = datetime.now(WIB).date()
    first = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    auditor = Principal(user_id=None, username="bench.auditor", role=Role.AUDITOR, ministry=None)
    with psycopg.connect(libpq) as db:
        unit = db.execute("SELECT id FROM unit WHERE ministry = 'KEMLU' LIMIT 1").fetchone()
    assert unit is not None
    supervisor = Principal(user_id=None, username="bench.supervisor", role=Role.SUPERVISOR,
                           ministry="KEMLU", unit_id=int(unit[0]))  # fmt: skip
    for label, who in (("national (auditor)", auditor), ("KEMLU supervisor", supervisor)):
        cpu: list[float] = []

        def monthly(who: Principal = who, cpu: list[float] = cpu) -> int:
            client = time.process_time()
            with context.database.snapshot() as session:
                backend = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                server = procfs.process_cpu(backend)
                report = reports.monthly_report(session, context, who, first, today)
                cpu.append(procfs.process_cpu(backend) - server + time.process_time() - client)
            return report.totals["referrals"]

        print(f"load average {procfs.load_average()}", flush=True)
        cold, referrals = _timed(monthly)
        warm = [_timed(monthly)[0] for _ in range(repeat)]
        print(f"monthly report, {label}, {first} to {today} ({referrals} referrals): "
              f"first {cold:.3f} s, median {statistics.median(warm):.3f} s, "
              f"worst {max(warm):.3f} s of {repeat}; CPU (this process and its PostgreSQL "
              f"backend, not parallel workers) median {statistics.median(cpu[1:]):.2f} s",
              flush=True)  # fmt: skip
        print(_plan(context, libpq, monthly), flush=True)


def _timed(call: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def _plan(context: AppContext, libpq: str, monthly: Callable[[], int]) -> str:
    """The aggregate exactly as the repository sends it (captured from the engine), with the
    plan PostgreSQL runs it with."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "width_bucket" in statement and "count(*)" in statement:
            captured.append((statement, parameters))

    event.listen(context.database.engine, "before_cursor_execute", capture)
    try:
        monthly()
    finally:
        event.remove(context.database.engine, "before_cursor_execute", capture)
    plans = []
    with psycopg.connect(libpq) as db:
        for statement, parameters in captured:
            rows = db.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)  # type: ignore[arg-type]
            plans.append(statement + "\n" + "\n".join(str(row[0]) for row in rows))
    return "\n\n".join(plans)


if __name__ == "__main__":
    main()
