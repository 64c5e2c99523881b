"""`make bench`: the whole benchmark in one run, written to bench/RESULTS.md.

    .venv/bin/python -m bench.run [--quick] [--workers N] [--pg URL] [--sizes 10000,100000,...]

PostgreSQL (a database `nrm_bench_*` made and dropped on the server of `--pg`): transitions
over HTTP at 16 and 32 clients beside the raw loop, a profile, intake; then the data set grown
to each size for the queue pages, the plan of the queue query, sealing, verify and the sweep.
The lean probe (`bench/lean.py`, the ceiling) runs beside the service and the raw loop on
PostgreSQL. SQLite (a file in a temporary directory): transitions, raw loop and intake. Just the
transitions: `python -m bench.throughput`. Logs, wrk output
and the raw profile go to bench/out/. Servers are stopped and databases dropped on the way
out, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import psycopg
from sqlalchemy.engine import make_url

from bench import dataset, report, throughput
from bench._setup import scratch_database
from bench.lean import lean_server
from bench.measure import bench_loader
from bench.server import Server, add_users, nrm, service_env
from service.bootstrap import bootstrap
from service.kit.config import generate_keys, settings_for
from service.kit.context import AppContext

HERE = Path(__file__).parent
DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
# 2 cores, 4 workers (as compose.yaml runs it): a worker is one GIL, so it needs at least one
# per core; and uvicorn's workers share one listening socket without balancing wrk's long-lived
# connections, so with only 2 one worker often holds most of them while the other core idles.
DEFAULT_WORKERS = 4
LEAN_WORKERS = 2  # the lean probe as issue 17 measured it
FULL = {"seconds": 10, "queue_seconds": 4, "profile_seconds": 8, "sizes": "10000,100000,1000000"}
QUICK = {"seconds": 4, "queue_seconds": 2, "profile_seconds": 3, "sizes": "10000,20000"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (SQLAlchemy URL)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--sqlite-workers", type=int, default=1,
                        help="SQLite takes one writer at a time: see RESULTS.md")  # fmt: skip
    parser.add_argument("--seconds", type=float, help="per load run (default 10)")
    parser.add_argument("--queue-seconds", type=float, help="per queue page (default 4)")
    parser.add_argument("--profile-seconds", type=int, help="0: no profile (default 8)")
    parser.add_argument("--sizes", help="case counts (default 10000,100000,1000000)")
    parser.add_argument("--clients", default="16,32")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 4 s loads, 10k and 20k cases")  # fmt: skip
    parser.add_argument("--output", type=Path, help="default bench/RESULTS.md (bench/out/ quick)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.output is None:
        args.output = HERE / ("out/RESULTS-quick.md" if args.quick else "RESULTS.md")
    return args


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (nohup, &)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    facts = report.Facts(started_at=datetime.now(UTC), argv=sys.argv, workers=args.workers,
                         sqlite_workers=args.sqlite_workers)  # fmt: skip
    plan = throughput.Plan(
        clients=tuple(int(c) for c in args.clients.split(",")),
        seconds=args.seconds,
        profile_seconds=args.profile_seconds,
        out=out,
    )
    keys = generate_keys()
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database(args.pg, "nrm_bench"))
        libpq = _libpq(url)
        facts.postgres = _postgres_facts(libpq)
        env = service_env(url, keys)
        nrm(env, "db", "upgrade")
        add_users(env)
        print("PostgreSQL: throughput", flush=True)
        lean = lean_server(libpq, keys["secret_key"], LEAN_WORKERS, out / "server-lean.log")
        pg = throughput.run(Server(env, args.workers, out / "server-postgresql.log"),
                            "postgresql", libpq, plan, lean)  # fmt: skip
        print(throughput.summary(pg), flush=True)
        sqlite = None
        if not args.no_sqlite:  # before the bulk load: its autovacuum would share the machine
            print("SQLite: throughput", flush=True)
            sqlite = _sqlite(stack, keys, args.sqlite_workers, plan, out)
        print("PostgreSQL: at size", flush=True)
        context = bootstrap(settings_for(url, keys))
        stack.callback(context.database.engine.dispose)
        data = _at_size(args, env, libpq, context, out)
    facts.wall_seconds = time.perf_counter() - started
    args.output.write_text(report.render(facts, pg, data, sqlite, previous=args.output))
    print(f"wrote {args.output} in {facts.wall_seconds:.0f} s", flush=True)


def _at_size(
    args: argparse.Namespace, env: dict[str, str], libpq: str, context: AppContext, out: Path
) -> dataset.Dataset:
    found = dataset.Dataset()
    loader = bench_loader(context, libpq)
    server = Server({**env, "NRM_RUN_JOBS": "false"}, args.workers, out / "server-queues.log")
    server.start()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        dataset.grow_and_measure(server, loader, context, sizes, args.queue_seconds, out, found)
    finally:
        server.stop()
    dataset.seal_and_verify(context, found, out)
    dataset.sweeps(context, libpq, found)
    return found


def _sqlite(
    stack: ExitStack, keys: dict[str, str], workers: int, plan: throughput.Plan, out: Path
) -> throughput.Throughput:
    directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nrm_bench_")))
    path = directory / "bench.db"
    env = service_env(f"sqlite:///{path}", keys)
    nrm(env, "db", "upgrade")
    add_users(env)
    server = Server(env, workers, out / "server-sqlite.log")
    no_profile = dataclasses.replace(plan, profile_seconds=0)  # the PostgreSQL one is reported
    found = throughput.run(server, "sqlite", str(path), no_profile)
    print(throughput.summary(found), flush=True)
    return found


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_facts(libpq: str) -> dict[str, str]:
    names = ("server_version", "shared_buffers", "synchronous_commit", "fsync", "max_connections",
             "work_mem", "max_wal_size")  # fmt: skip
    with psycopg.connect(libpq) as db:
        return {n: str(db.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: servers stopped, databases dropped", file=sys.stderr)
        sys.exit(130)
