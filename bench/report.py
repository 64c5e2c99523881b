"""RESULTS.md from one run's figures: machine, versions, targets, tables, plans, profile.

Anything written below the NOTES marker of an existing RESULTS.md (a reader's analysis of the
run) is kept when the file is written again.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bench import procfs, wrk
from bench.dataset import Dataset, QueuePoint
from bench.measure import LoadRun
from bench.profile import Profile
from bench.rawloop import RawResult
from bench.throughput import Throughput

NOTES = "<!-- notes: everything below this line is kept when make bench writes this file -->"
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "sqlalchemy",
            "sqlmodel", "psycopg", "psycopg-binary", "transitions", "py-spy")  # fmt: skip
MIB = 1.0


@dataclass
class Facts:
    started_at: datetime
    argv: list[str]
    workers: int
    sqlite_workers: int = 1
    postgres: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    load_at_start: str = field(default_factory=procfs.load_average)


@dataclass(frozen=True)
class Target:
    line: str
    goal: str
    measured: str
    ok: bool | None  # None: not measured in this run


def render(facts: Facts, pg: Throughput, data: Dataset, sqlite: Throughput | None,
           previous: Path | None = None) -> str:  # fmt: skip
    parts = [
        _header(facts), _targets(targets(pg, data, sqlite)), _transitions(pg, sqlite),
        _intake(pg, sqlite), _queues(data), _at_size(data), _memory(pg, sqlite),
        _profile(pg, data), _method(facts, pg, data),
    ]  # fmt: skip
    text = "\n".join(parts)
    kept = _kept_notes(previous)
    return f"{text}\n{NOTES}\n{kept}"


def _kept_notes(previous: Path | None) -> str:
    if previous is None or not previous.exists():
        return ""
    old = previous.read_text()
    return old.split(NOTES, 1)[1].lstrip("\n") if NOTES in old else ""


def targets(pg: Throughput, data: Dataset, sqlite: Throughput | None = None) -> list[Target]:
    found: list[Target] = _lean_targets(pg, sqlite)
    for clients, run in sorted(pg.http.items()):
        rate = run.result.rate
        found.append(Target(f"transitions/s end to end, {clients} clients", "≥ 1,500",
                            f"{rate:,.0f}", rate >= 1500))  # fmt: skip
        raw = pg.raw.get(clients)
        if raw:
            ratio = rate / raw.rate if raw.rate else 0.0
            found.append(Target(f"HTTP / raw loop, {clients} clients", "≥ 0.3",
                                f"{ratio:.2f}", ratio >= 0.3))  # fmt: skip
    sixteen = pg.http.get(16)
    if sixteen:
        p99 = sixteen.result.p99_ms
        found.append(Target("p99 at 16 clients", "< 50 ms", f"{p99:.1f} ms", p99 < 50))
    largest = max(data.queues, key=lambda q: q.cases, default=None)
    if largest:
        for name, result in (
            ("first", largest.first),
            ("deep", largest.deep),
            ("unit first", largest.unit_first),
            ("unit deep", largest.unit_deep),
        ):
            found.append(Target(f"queue {name} page p95 at {largest.cases:,} cases", "< 10 ms",
                                f"{result.p95_ms:.1f} ms", result.p95_ms < 10))  # fmt: skip
    if data.verify:
        rate = data.verify.count / data.verify.seconds
        found.append(Target(f"audit verify ({data.verify.count:,} events)", "≥ 100,000 events/s",
                            f"{rate:,.0f} events/s", rate >= 100_000))  # fmt: skip
    for label, timed in (("nothing due", data.sweep_idle), ("1% due", data.sweep_due)):
        if timed:
            found.append(Target(f"SLA sweep over the open cases, {label}", "< 10 s",
                                f"{timed.seconds:.2f} s", timed.seconds < 10))  # fmt: skip
    peaks = [v for run in _runs(pg) for v in run.rss_mib.values()]
    if peaks:
        peak_mb = max(peaks) * 1.048576  # MiB to MB
        found.append(Target("resident size per worker (peak under load)", "< 200 MB",
                            f"{peak_mb:.0f} MB", peak_mb < 200))  # fmt: skip
    return found


def _lean_targets(pg: Throughput, sqlite: Throughput | None) -> list[Target]:
    """Issue 17's: the service against the raw loop of the same run, at 16 clients."""
    found: list[Target] = []
    for backend, goal in ((pg, 0.30), (sqlite, 0.15)):
        http = backend.http.get(16) if backend else None
        raw = backend.raw.get(16) if backend else None
        if backend is None or http is None or raw is None or not raw.rate:
            continue
        ratio = http.result.rate / raw.rate
        found.append(Target(f"{backend.backend}: service / raw loop, 16 clients", f"≥ {goal:.2f}",
                            f"{ratio:.2f}", ratio >= goal))  # fmt: skip
        intake, raw_intake = backend.intake, backend.raw_intake
        if intake is not None and raw_intake is not None and raw_intake.rate:
            share = intake.result.rate / raw_intake.rate
            found.append(Target(f"{backend.backend}: intake / raw loop of its inserts, "
                                f"{intake.result.connections} clients", "≥ 0.25",
                                f"{share:.2f}", share >= 0.25))  # fmt: skip
        p99 = http.result.p99_ms
        if backend.backend == "postgresql":
            raw_p99 = raw.percentile(99)
            found.append(Target("postgresql: p99 at 16 clients, service / raw loop's", "≤ 4 x",
                                f"{p99:.1f} / {raw_p99:.1f} ms", p99 <= 4 * raw_p99))  # fmt: skip
        else:
            found.append(Target("sqlite: p99 at 16 clients", "< 250 ms", f"{p99:.1f} ms",
                                p99 < 250))  # fmt: skip
    return found


def _runs(found: Throughput) -> list[LoadRun]:
    return [*found.http.values(), *([found.intake] if found.intake else [])]


def _header(facts: Facts) -> str:
    cores = os.cpu_count()
    return f"""# Benchmarks: how close to the database's own limit

Written by `make bench` (`python -m bench.run`) on {facts.started_at:%Y-%m-%d %H:%M} UTC; the
whole run took **{facts.wall_seconds:.0f} s**. Figures from one run on a shared machine: read the
"other" CPU column before comparing runs.

## Machine and versions

- CPU: {procfs.cpu_model()}, {cores} cores; RAM {procfs.memory_gib():.1f} GiB; load average at
  start {facts.load_at_start}; {platform.system()} {platform.release()}
- Python {platform.python_version()}; PostgreSQL {facts.postgres.get("server_version", "?")}
  ({", ".join(f"{k}={v}" for k, v in facts.postgres.items() if k != "server_version")})
- {", ".join(f"{name} {_version(name)}" for name in PACKAGES)}; {_wrk_version()}
"""


def _targets(found: list[Target]) -> str:
    rows = "\n".join(f"| {t.line} | {t.goal} | {t.measured} | {_verdict(t.ok)} |" for t in found)
    return f"""## Targets

| line | target | measured | |
|---|---|---|---|
{rows}
"""


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**pass**" if ok else "**FAIL**")


TRANSITION_COLUMNS = (
    "backend", "clients", "HTTP tr/s", "p50", "p90", "p95", "p99", "raw tr/s", "raw p50",
    "raw p95", "raw p99", "HTTP/raw", "lean tr/s", "lean p99", "lean/raw",
)  # fmt: skip
CPU_COLUMNS = (
    "backend", "clients", "HTTP: workers / db / wrk / other", "HTTP ms/tr: app + db",
    "raw: clients / db / other", "raw ms/tr: client + db",
)  # fmt: skip


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def _transitions(pg: Throughput, sqlite: Throughput | None) -> str:
    speed: list[list[str]] = []
    cpu: list[list[str]] = []
    for found in (pg, sqlite):
        for clients, run in sorted(found.http.items()) if found else []:
            raw = found.raw.get(clients) if found else None
            backend = found.backend if found else ""
            lean = found.lean.get(clients) if found else None
            speed.append([*_speed_row(backend, clients, run, raw), *_lean_cells(lean, raw)])
            cpu.append(_cpu_row(backend, clients, run, raw))
    return f"""## 1. Transitions per second: HTTP end to end beside the raw loop

HTTP: `POST /api/v1/cases/{{id}}/transitions` (`record_police_report` by a POLRI case worker;
each client its own case, carrying the version). Raw: the same UPDATE (compare-and-set) and
INSERT (hash-chained event) with COMMIT, one process and connection per client. Lean: the
ceiling, `bench/lean.py` (FastAPI, uvicorn with 2 workers, async psycopg, JWT, pydantic, the
raw loop's SQL after one SELECT, one COMMIT; PostgreSQL only). Latencies in ms.

{_table(TRANSITION_COLUMNS, speed)}
Where the CPU went: average cores used during each run (2 = the whole machine; "other" is
what none of the measured processes used: the rest of the shared machine), and CPU
milliseconds per transition.

{_table(CPU_COLUMNS, cpu)}"""


def _lean_cells(lean: LoadRun | None, raw: RawResult | None) -> list[str]:
    if lean is None:
        return ["-", "-", "-"]
    ratio = lean.result.rate / raw.rate if raw and raw.rate else 0.0
    return [f"{lean.result.rate:,.0f}", f"{lean.result.p99_ms:.1f}", f"{ratio:.2f}"]


def _split(cpu: dict[str, float], keys: tuple[str, ...]) -> str:
    return " / ".join(f"{cpu.get(k, 0):.2f}" for k in keys)


def _speed_row(backend: str, clients: int, run: LoadRun, raw: RawResult | None) -> list[str]:
    r = run.result
    rate = f"{r.rate:,.0f}"
    if r.conflicts or r.failed or r.socket_errors:
        rate += f" ({r.conflicts} conflicts, {r.failed} failed, {r.socket_errors} errors)"
    cells = [backend, str(clients), rate, f"{r.p50_ms:.1f}", f"{r.p90_ms:.1f}",
             f"{r.p95_ms:.1f}", f"{r.p99_ms:.1f}"]  # fmt: skip
    if raw is None:
        return [*cells, "-", "-", "-", "-", "-"]
    ratio = r.rate / raw.rate if raw.rate else 0.0
    latencies = [f"{raw.percentile(p):.1f}" for p in (50, 95, 99)]
    return [*cells, f"{raw.rate:,.0f}", *latencies, f"**{ratio:.2f}**"]


def _cpu_row(backend: str, clients: int, run: LoadRun, raw: RawResult | None) -> list[str]:
    cpu, rate = run.cpu, run.result.rate
    cells = [backend, str(clients), _split(cpu, ("workers", "postgres", "wrk", "other")),
             _per_tr(cpu.get("workers", 0), cpu.get("postgres", 0), rate)]  # fmt: skip
    if raw is None:
        return [*cells, "-", "-"]
    per_tr = _per_tr(raw.cpu.get("clients", 0), raw.cpu.get("postgres", 0), raw.rate)
    return [*cells, _split(raw.cpu, ("clients", "postgres", "other")), per_tr]


def _per_tr(app: float, db: float, rate: float) -> str:
    if not rate:
        return "-"
    return f"{1000 * app / rate:.2f} + {1000 * db / rate:.2f}"


def _intake(pg: Throughput, sqlite: Throughput | None) -> str:
    text = """## Intake (cases per second over HTTP, beside the raw loop of its inserts)

`POST /api/v1/cases` as a KEMLU case worker, each request another person (`bench/lua/intake.lua`:
names, sex, birth date, province drawn at random). Raw: the rows the service wrote for one
intake (case, victim with its sealed identity, ministries, units, blocking keys, the `created`
event hash-chained anew, outbox, identity look) and the duplicate check's candidate query, in
one transaction, one process and connection per client (`bench/rawintake.py`). Latencies in ms.

| backend | clients | cases/s | p50 | p95 | p99 | raw/s | raw p99 | ÷ raw | CPU app/db/wrk/other |
|---|---|---|---|---|---|---|---|---|---|
"""
    for found in (pg, sqlite):
        if found is None or found.intake is None:
            continue
        r, cpu, raw = found.intake.result, found.intake.cpu, found.raw_intake
        split = _split(cpu, ("workers", "postgres", "wrk", "other"))
        raw_cells = "- | - | -"
        if raw is not None and raw.rate:
            raw_cells = f"{raw.rate:,.0f} | {raw.percentile(99):.1f} | **{r.rate / raw.rate:.2f}**"
        text += (f"| {found.backend} | {r.connections} | {r.rate:,.0f} | {r.p50_ms:.1f} | "
                 f"{r.p95_ms:.1f} | {r.p99_ms:.1f} | {raw_cells} | {split} |\n")  # fmt: skip
    return text


def _queues(data: Dataset) -> str:
    text = """## 2. Queue pages (PostgreSQL)

`GET /api/v1/queues/KEMENPPPA?limit=25` as a KEMENPPPA case worker, one client, requests back to
back; "deep": with a cursor at the middle of the queue (made with the service's own cursor
codec, as `next_cursor` would be). Every case of the data set is in `referred`, which KEMENPPPA
leads: its queue is the whole table, the worst case for one ministry. Latencies in ms.

| cases | queue length | first page p50 | p95 | p99 | deep page p50 | p95 | p99 | requests |
|---|---|---|---|---|---|---|---|---|
"""
    for q in data.queues:
        text += _queue_row(q, q.first, q.deep) + "\n"
    text += """
The unit's queue, `GET /api/v1/units/KEMENPPPA-NASIONAL/queue?limit=25` by the same user: the bulk
loader gives every case its ministry's national unit, so this queue too is the whole table.

| cases | queue length | first page p50 | p95 | p99 | deep page p50 | p95 | p99 | requests |
|---|---|---|---|---|---|---|---|---|
"""
    for q in data.queues:
        text += _queue_row(q, q.unit_first, q.unit_deep) + "\n"
    for name, plan in data.explain.items():
        text += f"\n`EXPLAIN (ANALYZE, BUFFERS)` of the queue query, {name}, at the largest size "
        text += (
            f"(the SQL the service sends, captured from the use case; warm):\n\n```\n{plan}\n```\n"
        )
    return text


def _queue_row(q: QueuePoint, f: wrk.LoadResult, d: wrk.LoadResult) -> str:
    return (f"| {q.cases:,} | {q.queue_length:,} | {f.p50_ms:.2f} | {f.p95_ms:.2f} | "
            f"{f.p99_ms:.2f} | {d.p50_ms:.2f} | {d.p95_ms:.2f} | {d.p99_ms:.2f} | "
            f"{f.requests} + {d.requests} |")  # fmt: skip


def _at_size(data: Dataset) -> str:
    loads = ", ".join(f"to {size:,} in {s:.0f} s" for size, s in data.loads.items())
    lines = [f"- Loading (COPY): {loads}."]
    if data.seal:
        lines.append(f"- Sealing the log into checkpoints: {data.seal.seconds:.1f} s "
                     f"({data.seal.detail}).")  # fmt: skip
    if data.verify:
        rate = data.verify.count / data.verify.seconds
        lines.append(f"- **Audit verify**: {data.verify.seconds:.1f} s, **{rate:,.0f} events/s** "
                     f"({data.verify.detail}).")  # fmt: skip
    if data.sweep_idle:
        lines.append(f"- **SLA sweep, nothing due**: {data.sweep_idle.seconds * 1000:.1f} ms "
                     f"({data.sweep_idle.detail}).")  # fmt: skip
    if data.sweep_due:
        rate = data.sweep_due.count / data.sweep_due.seconds if data.sweep_due.seconds else 0
        lines.append(f"- **SLA sweep, 1% due**: {data.sweep_due.seconds:.2f} s, {rate:,.0f} "
                     f"cases/s ({data.sweep_due.detail}).")  # fmt: skip
    body = "\n".join(lines)
    return f"""## 3. At size: sweep and verify (PostgreSQL, the data set of section 2)

{body}

The sweep reads its candidates by one index range (`sla_next_at <= now`), so "over 1M open
cases" costs what is due, not what is open: with nothing due it is one index probe; with 1%
due it appends one or more events to each of those cases, in batches of 500 per transaction.
"< 10 s" therefore holds for any number of open cases when little is due, and bounds how many
due cases one pass may handle (the rate above).
"""


def _memory(pg: Throughput, sqlite: Throughput | None) -> str:
    text = """## 4. Memory: resident size of each worker (VmRSS, MiB)

| backend | worker | idle after start | peak under load (transitions and intake) |
|---|---|---|---|
"""
    for found in (pg, sqlite):
        if found is None:
            continue
        peaks: dict[int, float] = {}
        for run in _runs(found):
            for pid, rss in run.rss_mib.items():
                peaks[pid] = max(peaks.get(pid, 0.0), rss)
        for pid in sorted(set(peaks) | set(found.idle_rss_mib)):
            idle = found.idle_rss_mib.get(pid)
            text += (f"| {found.backend} | pid {pid} | {idle or 0:.0f} | "
                     f"{peaks.get(pid, 0):.0f} |\n")  # fmt: skip
    return text


def _profile(pg: Throughput, data: Dataset) -> str:
    worker = _profile_section(
        "one PostgreSQL worker under 16 clients of transitions",
        pg.profile_command, pg.profile, pg.profile_error or "not asked for",
        "of the busiest worker, in a load run of its own",
    )  # fmt: skip
    verify = _profile_section(
        "audit verify (the measured run above)", data.verify_profile_command,
        data.verify_profile, "py-spy not installed", "of the harness process while it verified",
    )  # fmt: skip
    return worker + "\n" + verify


def _profile_section(
    title: str, command: str, found: Profile | None, missing: str, whose: str
) -> str:
    if found is None:
        return f"## Profile: {title}\n\nNo profile: {missing}.\n"
    return f"""## Profile: {title}

`{command}`

{found.samples} samples {whose}; only the thread holding the GIL is sampled, so shares are of
Python CPU time, not of time waiting on the database.

{_stages(found)}Leaf frames by package:

{_shares(found.packages)}

The project's functions (service, workflows, schemas) by inclusive time (on the stack):

{_shares(found.inclusive)}

Self time (the function itself runs):

{_shares(found.self_time)}
"""


def _stages(found: Profile) -> str:
    if not found.stages:
        return ""
    return f"Stages of a request (by the frames on the stack):\n\n{_shares(found.stages)}\n\n"


def _shares(rows: list[tuple[str, float]]) -> str:
    return "\n".join(f"- {100 * share:5.1f} %  `{name}`" for name, share in rows)


def _method(facts: Facts, pg: Throughput, data: Dataset) -> str:
    wrk_commands = sorted({run.command for run in _runs(pg)})
    commands = "\n".join(f"    {c}" for c in [pg.server_command, *wrk_commands, data.queue_command])
    run = " ".join(["python -m bench.run", *facts.argv[1:]])
    return f"""## How this was measured

    {run}
{commands}

- Server: `nrm serve --workers {facts.workers}` (uvicorn, as in production) with periodic jobs
  on for the throughput runs (the checkpoint job seals every 1,000 events while they run, as it
  would in production), and `NRM_RUN_JOBS=false` for section 2 and 3 (the periodic sweep would
  do the work the sweep benchmark measures, and the checkpoint job would race the bulk loader).
- SQLite: `nrm serve --workers {facts.sqlite_workers}` (embedded mode, as `make run` serves
  it). SQLite takes one writer at a time; a connection that finds the database locked sleeps
  in SQLite's busy handler and polls again, so the pool's threads (and, with more workers,
  processes) queue unfairly: the tail is seconds with 1 worker as with 2 (a trial run with 2
  workers, 16 clients: p90 1.1 s, p99 2.4 s), for no more throughput.
- Load generator: wrk 4.1 (C, epoll), one thread per connection so that each connection's Lua
  state carries its case's version; p95 from the Lua `done()` callback. It is not pinned: on 2
  cores, pinning it would take a whole core from the server; its CPU is in the "wrk" column.
- Raw loop: one process per client (the GIL would serialise threads: the hashing and the
  driver's Python code hold it), each with its own connection and case, psycopg 3 for
  PostgreSQL, sqlite3 for SQLite, the same statements the ORM sends.
- Data set: every case a referral as intake makes it, with its `created` event hash-chained;
  one in ten with a police report recorded (2 events); case rows agree with their streams
  (the verifier passes). Loaded by COPY from two processes, then `VACUUM (ANALYZE)` (the
  steady state of a table that grew over months: statistics, visibility map, hint bits).
"""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _wrk_version() -> str:
    try:
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
    except OSError:
        return "wrk (not found)"
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0]
