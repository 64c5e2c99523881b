"""How fast the whole audit trail verifies, online (database) and offline (an export file).

    .venv/bin/python -m bench.audit_verify [--pg URL] [--events 100000] [--workers N]
        [--no-write]

Fills a fresh database with chained events on 2,000 streams (bulk inserts, real hashes),
seals them in checkpoints of 1,000, then times `audit.verify` (every hash recomputed, every
chain link, every Merkle root and signature, every head) three ways: the event-by-event walk
(`workers=0`), the slices in this process (`workers=1`), and the slices in N worker processes
(PostgreSQL only; default one per CPU); then the offline check of a JSON Lines export.

Beside wall time: the CPU of this process, of the worker processes and of the PostgreSQL
backends serving them (both sampled from /proc every 0.1 s, so a process's last tenth of a
second may be missed; "this process" includes the sampling thread), the peak resident size of
this process and of each worker, and the load average. The table goes to stdout and, with
--pg, between its markers in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench import procfs, profile
from bench._setup import fresh_context, write_section
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.integrity import signing
from service.audit.integrity.chain import GENESIS, event_hash
from service.audit.integrity.export_format import verify_export
from service.kit.context import AppContext
from service.models import AuditStream, CaseEvent

STREAMS = 2000
BATCH = 5000
RESULTS = Path(__file__).with_name("RESULTS.md")
OUT = Path(__file__).with_name("out")
BEGIN, END = "<!-- audit-verify: begin -->", "<!-- audit-verify: end -->"


def fill(context: AppContext, count: int) -> None:
    heads = {f"bench-{n:04d}": (0, GENESIS) for n in range(STREAMS)}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    table = CaseEvent.__table__  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = []
    for n in range(count):
        stream = f"bench-{n % STREAMS:04d}"
        stream_seq, prev = heads[stream]
        fields: dict[str, Any] = {
            "stream": stream, "stream_seq": stream_seq + 1, "prev_hash": prev, "case_id": None,
            "actor_id": None, "actor": "kemensos.worker", "actor_role": "case_worker",
            "ministry": "KEMENSOS", "at": start + timedelta(seconds=n), "kind": "transition",
            "trigger": "admit_to_shelter", "from_state": "emergency_care",
            "to_state": "sheltered", "payload": {"shelter": "RPTC Bambu Apus", "bed": n % 40},
            "note": "diterima di rumah perlindungan",
        }  # fmt: skip
        fields["hash"] = event_hash(fields)
        heads[stream] = (stream_seq + 1, fields["hash"])
        rows.append(fields)
        if len(rows) == BATCH:
            _flush(context, table, rows)
    if rows:
        _flush(context, table, rows)
    with context.database.transaction() as session:
        session.add_all(AuditStream(stream=s, event_count=c, head_hash=h)
                        for s, (c, h) in heads.items())  # fmt: skip


def _flush(context: AppContext, table: Any, rows: list[dict[str, Any]]) -> None:
    with context.database.transaction() as session:
        session.execute(insert(table), rows)
    rows.clear()


def seal_all(context: AppContext) -> int:
    sealing = replace(context, settings=context.settings.model_copy(
        update={"checkpoint_max_events": 1000}))  # fmt: skip
    made = 0
    while True:
        with context.database.transaction() as session:
            if checkpoints.checkpoint_pending(session, sealing) is None:
                return made
        made += 1


@dataclass
class Run:
    name: str
    events: int
    ok: bool
    wall: float
    own_cpu: float
    worker_cpu: float
    backend_cpu: float
    own_peak_mib: float
    worker_peak_mib: float
    load_before: str
    load_after: str

    def row(self) -> str:
        return (
            f"| {self.name} | {self.events:,} | {self.ok} | {self.wall:.2f} | "
            f"**{self.events / self.wall:,.0f}** | {self.own_cpu:.2f} | {self.worker_cpu:.2f} | "
            f"{self.backend_cpu:.2f} | {self.own_peak_mib:.0f} | {self.worker_peak_mib:.0f} | "
            f"{self.load_before} / {self.load_after} |"
        )


class Sampler(threading.Thread):
    """Every 0.1 s: the CPU of each PostgreSQL backend on the database, and the resident size
    of this process and of its children (the workers)."""

    def __init__(self, context: AppContext) -> None:
        super().__init__(daemon=True)
        self.context = context
        self.backend_cpu: dict[int, float] = {}
        self.worker_cpu: dict[int, float] = {}  # the fork server's children are not ours
        self.own_peak = procfs.rss_mib(os.getpid()) or 0.0
        self.worker_peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        postgres = self.context.database.engine.dialect.name == "postgresql"
        with self.context.database.engine.connect() as connection:
            name = connection.execute(text("SELECT current_database()")).scalar_one() \
                if postgres else None  # fmt: skip
            while not self.stop.wait(0.1):
                if postgres:
                    pids = connection.execute(
                        text("SELECT pid FROM pg_stat_activity WHERE datname = :d "
                             "AND pid <> pg_backend_pid()"), {"d": name}
                    ).scalars()  # fmt: skip
                    for pid in pids:
                        self.backend_cpu[pid] = max(
                            self.backend_cpu.get(pid, 0.0), procfs.process_cpu(pid)
                        )
                    connection.rollback()
                self.own_peak = max(self.own_peak, procfs.rss_mib(os.getpid()) or 0.0)
                for child in _descendants(os.getpid()):
                    self.worker_peak = max(self.worker_peak, procfs.rss_mib(child) or 0.0)
                    self.worker_cpu[child] = max(
                        self.worker_cpu.get(child, 0.0), procfs.process_cpu(child)
                    )


class WorkerProfile(threading.Thread):
    """py-spy on a worker process (the busiest child after 2 s) until it exits (`--gil`: Python
    CPU time only; `--nonblocking`: the worker is not paused, as its figure is measured at the
    same time)."""

    def __init__(self, output: Path) -> None:
        super().__init__(daemon=True)
        self.output = output
        self.command = ""
        self.stop = threading.Event()

    def run(self) -> None:
        tool = profile.py_spy()
        while tool is not None and not self.stop.wait(2.0):
            workers = sorted(procfs.children(os.getpid()), key=procfs.process_cpu)
            if workers:
                argv = [tool, "record", "--pid", str(workers[-1]), "--rate", "100", "--gil",
                        "--nonblocking", "--format", "raw", "--output", str(self.output),
                        "--duration", "3600"]  # fmt: skip
                self.command = " ".join(argv)
                subprocess.run(argv, check=False, capture_output=True, timeout=3700)
                return


def timed(context: AppContext, name: str, workers: int, profiled: Path | None = None) -> Run:
    before = {pid: procfs.process_cpu(pid) for pid in _backends(context)}
    before.update((pid, procfs.process_cpu(pid)) for pid in _descendants(os.getpid()))
    sampler = Sampler(context)
    load_before = procfs.load_average()
    sampler.start()
    spy = WorkerProfile(profiled) if profiled is not None and workers > 1 else None
    if spy is not None:
        spy.start()
    own = time.process_time()
    started = time.perf_counter()
    verdict = audit.verify(context, workers=workers)
    wall = time.perf_counter() - started
    own = time.process_time() - own
    sampler.stop.set()
    sampler.join()
    if spy is not None:
        spy.stop.set()
        spy.join(timeout=60)
    backend = sum(cpu - before.get(pid, 0.0) for pid, cpu in sampler.backend_cpu.items())
    children = sum(cpu - before.get(pid, 0.0) for pid, cpu in sampler.worker_cpu.items())
    assert verdict.ok, verdict.problems[:3]
    return Run(name, verdict.events_checked, verdict.ok, wall, own, children, backend,
               sampler.own_peak, sampler.worker_peak, load_before,
               procfs.load_average())  # fmt: skip


def _descendants(pid: int) -> list[int]:
    found = procfs.children(pid)
    return found + [grandchild for child in found for grandchild in _descendants(child)]


def _backends(context: AppContext) -> list[int]:
    if context.database.engine.dialect.name != "postgresql":
        return []
    with context.database.engine.connect() as connection:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return list(connection.execute(query).scalars())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument(
        "--profile", action="store_true", help="sample one worker with py-spy (into bench/out/)"
    )
    args = parser.parse_args()
    profiled = OUT / "profile-verify-worker.txt" if args.profile else None
    if profiled is not None:
        OUT.mkdir(exist_ok=True)
        profiled.unlink(missing_ok=True)
    with fresh_context(args.pg) as context:
        backend = context.database.engine.dialect.name
        started = time.perf_counter()
        fill(context, args.events)
        sealed = seal_all(context)
        print(f"{backend}: {args.events} events, {sealed} checkpoints made in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        modes = [("walk, event by event (--workers 0)", 0),
                 ("slices, in process (--workers 1)", 1)]  # fmt: skip
        if backend == "postgresql" and args.workers > 1:
            modes.append((f"slices, {args.workers} worker processes", args.workers))
        runs = []
        for name, workers in modes:
            runs.append(timed(context, name, workers, profiled))
            print(runs[-1].row(), flush=True)
        data = "".join(audit.export(context, "jsonl")).encode()
        public = signing.public_key_of(context.settings.keys.audit_signing_key)
        started = time.perf_counter()
        offline = verify_export(io.BytesIO(data), {signing.key_id(public): public})
        elapsed = time.perf_counter() - started
        assert offline.ok, offline.problems[:3]
        print(f"  offline verify: {offline.events_checked / elapsed:9.0f} events/s "
              f"({elapsed:.2f} s, {len(data) / 1e6:.1f} MB export)")  # fmt: skip
    report = _report(args, backend, sealed, runs, offline.events_checked / elapsed)
    if profiled is not None and profiled.exists():
        report += "\n\n" + _profile(profiled)
    print(report)
    if backend == "postgresql" and not args.no_write:
        _write(report)


def _report(args: Any, backend: str, sealed: int, runs: list[Run], offline: float) -> str:
    events, workers = args.events, args.workers
    command = f"python -m bench.audit_verify --pg URL --events {events} --workers {workers}"
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{command}`; {procfs.cpu_model()}, "
        f"{os.cpu_count()} cores; {backend}; {args.events:,} events on {STREAMS:,} streams, "
        f"{sealed:,} checkpoints.",
        "",
        "| how | events | ok | wall s | events/s | CPU s, this process | CPU s, workers | "
        "CPU s, PostgreSQL backends | peak MiB, this process | peak MiB, each worker | "
        "load before / after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(run.row() for run in runs),
        "",
        f"Offline check of the JSON Lines export of the same log: {offline:,.0f} events/s.",
    ]
    return "\n".join(lines)


def _profile(output: Path) -> str:
    found = profile.summarize(output.read_text(), top=12)
    lines = [
        f"Where one worker's Python CPU goes (py-spy, {found.samples} samples, self time):",
        "",
    ]
    lines += [f"- {share * 100:5.1f} %  `{name}`" for name, share in found.self_time]
    lines += ["", "By package:", ""]
    lines += [f"- {share * 100:5.1f} %  `{name}`" for name, share in found.packages]
    return "\n".join(lines)


def _write(text: str) -> None:
    write_section(RESULTS, BEGIN, END, "Audit verify: walk, slices, worker processes", text)


if __name__ == "__main__":
    main()
