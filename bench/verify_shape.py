"""Audit verify over the same number of events, in logs of different shapes (PostgreSQL).

    .venv/bin/python -m bench.verify_shape [--pg URL] [--events 1000000] [--per-case 1,10,25]
        [--workers N] [--no-write]

`make bench`'s data set is a million cases with one event each (one in ten has two): for the
verifier the worst case, since besides each event's hash, link and Merkle leaf it checks each
case once (its row's head against its stream, its ministries and units against its events:
four reads by case id, integrity/case_streams.py). A real case gathers tens of events over
its life. Each shape here is a fresh database of `--events` events in
cases of N events each (`bench/bulk.py`'s loader: a referral and N - 1 police reports, hashed
and chained, the case rows agreeing), sealed into checkpoints of 1,000, then verified with
`--workers` processes (default one per CPU) and timed.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import procfs
from bench._setup import fresh_context, write_section
from bench.audit_verify import seal_all
from bench.measure import bench_loader
from bench.run import DEFAULT_PG, _libpq
from service.audit import service as audit
from service.auth.security import hash_password
from service.users.service import seed_account

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- verify-shape: begin -->", "<!-- verify-shape: end -->"


def one_shape(server: str, events: int, per_case: int, workers: int) -> str:
    """Load, seal and verify one shape; its table row."""
    with fresh_context(server) as context:
        with context.database.transaction() as session:
            for name, ministry in (("bench.kemlu", "KEMLU"), ("bench.polri", "POLRI")):
                seed_account(session, name, hash_password("x" * 16), "case_worker", ministry)
        loader = bench_loader(context, _libpq(context.settings.database_url))
        loader.reports = per_case - 1
        cases = max(1, events // per_case)
        started = time.perf_counter()
        loader.add(cases)
        sealed = seal_all(context)
        loaded = time.perf_counter() - started
        load = procfs.load_average()
        started = time.perf_counter()
        verdict = audit.verify(context, workers=workers)
        wall = time.perf_counter() - started
        assert verdict.ok, verdict.problems[:3]
    rate = verdict.events_checked / wall
    row = (f"| {per_case} | {cases:,} | {verdict.events_checked:,} | {sealed:,} | {wall:.1f} | "
           f"**{rate:,.0f}** | {loaded:.0f} | {load} |")  # fmt: skip
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-case", default="1,10,25", help="events per case, each a shape")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    header = ("| events per case | cases | events verified | checkpoints | verify s | events/s | "
              "load + seal s | load average before verify |\n"
              "|---|---|---|---|---|---|---|---|")  # fmt: skip
    print(header, flush=True)
    rows = [one_shape(args.pg, args.events, int(n), args.workers)
            for n in args.per_case.split(",")]  # fmt: skip
    text = "\n".join([
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.verify_shape "
        f"--events {args.events} --per-case {args.per_case} --workers {args.workers}`; "
        f"{procfs.cpu_model()}, {os.cpu_count()} cores; PostgreSQL on the same machine.",
        "", header, *rows,
    ])  # fmt: skip
    if not args.no_write:
        write_section(RESULTS, BEGIN, END, "Audit verify by the shape of the log", text)


if __name__ == "__main__":
    main()
