"""Bulk intake and group decisions, measured: `python -m bench.bulk_intake [--pg URL]`.

On a new PostgreSQL database (dropped after), with the application served by uvicorn on a
loopback socket (one worker), over real HTTP:

1. the 699 returnees of February-March 2025 in two waves (130, then 569), each a CSV manifest
   uploaded to its arrival: upload to cases, end to end (target: 699 in under 10 s);
2. 10,000 rows streamed by `nrm cases import`'s own path (`intake.import_manifest` from a file
   on disk), with this process's resident size sampled after every batch (flat memory);
3. the 569 of the second wave taken through screening abroad by one group transition, then
   `identify` (sensitive) as one group approval, approved once by a KEMLU supervisor who did
   not ask (target: under 5 s for the approval).

The figures go to stdout and, between their markers, into bench/RESULTS.md (below its NOTES
marker, which `make bench` keeps).
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import procfs
from bench._setup import fresh_context, live_server, write_section
from bench.returnees import manifest_csv, returnees
from service.arrivals import intake
from service.arrivals.cli import runner
from service.kit.context import AppContext
from service.users.service import seed_account

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- bulk-intake: begin -->", "<!-- bulk-intake: end -->"
PASSWORD = "a bench passphrase that is long"
ARRIVAL = {"place": "Bandara Soekarno-Hatta", "source_country": "MM"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (SQLAlchemy URL)")
    parser.add_argument("--big", type=int, default=10_000, help="rows of the streamed import")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.bulk_intake`; "
        f"{procfs.cpu_model()}, {_cores()} cores, load {procfs.load_average()}; "
        f"Python {platform.python_version()}; PostgreSQL at {args.pg.split('@')[-1]}.",
        "",
    ]
    with fresh_context(args.pg) as context:
        _users(context)
        with live_server(context) as base, httpx.Client(base_url=base, timeout=600) as http:
            worker = _login(http, "petugas.kemlu")
            supervisor = _login(http, "supervisor.kemlu")
            lines += _waves(http, worker)
            lines += _group(http, worker, supervisor)
        lines += _streamed(context, args.big)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        _write(text)


def _users(context: AppContext) -> None:
    from service.auth.security import hash_password

    with context.database.transaction() as session:
        for name, role in (("petugas.kemlu", "case_worker"), ("supervisor.kemlu", "supervisor")):
            seed_account(session, name, hash_password(PASSWORD), role, "KEMLU")


def _login(http: httpx.Client, name: str) -> dict[str, str]:
    answer = http.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _arrival(http: httpx.Client, who: dict[str, str], day: str, name: str) -> str:
    body = {**ARRIVAL, "arrival_date": day, "operation_name": name}
    answer = http.post("/api/v1/arrivals", json=body, headers=who)
    answer.raise_for_status()
    arrival_id: str = answer.json()["id"]
    return arrival_id


def _waves(http: httpx.Client, worker: dict[str, str]) -> list[str]:
    people = list(returnees(699))
    rows = [
        "| wave | rows | created | already imported | refused | seconds | rows/s | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total = total_cpu = 0.0
    for wave, (day, chosen) in enumerate(
        (("2025-02-27", people[:130]), ("2025-03-18", people[130:])), start=1
    ):
        arrival_id = _arrival(http, worker, day, f"Myawaddy gelombang {wave}")
        content = manifest_csv(chosen)
        started, cpu = time.perf_counter(), time.process_time()
        answer = http.post(
            f"/api/v1/arrivals/{arrival_id}/manifest",
            files={"file": (f"wave{wave}.csv", content)},
            headers=worker,
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        answer.raise_for_status()
        report = answer.json()
        total += seconds
        total_cpu += cpu
        rows.append(
            f"| {wave} | {len(chosen)} | {report['created']} | "
            f"{report['already_imported']} | {report['refused']} | {seconds:.2f} | "
            f"{len(chosen) / seconds:.0f} | {cpu:.2f} |"
        )
        if wave == 2:
            _waves.arrival = arrival_id  # type: ignore[attr-defined]
    verdict = "**pass**" if total < 10 else "**FAIL**"
    return [
        "### The 699 returnees, uploaded as two CSV manifests over HTTP",
        "",
        *rows,
        "",
        f"699 rows upload to cases: **{total:.2f} s** (target < 10 s: {verdict}); the "
        f"service's CPU time (uvicorn runs in this process) {total_cpu:.2f} s.",
        "",
    ]


def _group(http: httpx.Client, worker: dict[str, str], supervisor: dict[str, str]) -> list[str]:
    arrival_id = _waves.arrival  # type: ignore[attr-defined]
    timings = ["| step | cases | outcome | seconds | CPU s |", "|---|---|---|---|---|"]

    def timed(step: str, url: str, body: dict[str, Any], who: dict[str, str], key: str) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        answer = http.post(url, json=body, headers=who)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        answer.raise_for_status()
        result = answer.json()
        timings.append(
            f"| {step} | {len(result['results'])} | {result[key]} {key} | {seconds:.2f} | "
            f"{cpu:.2f} |"
        )
        return result, seconds

    timed(
        "group transition `begin_screening_abroad` (arrival)",
        "/api/v1/group-transitions",
        {
            "arrival_id": arrival_id,
            "trigger": "begin_screening_abroad",
            "payload": {"mission": "KBRI Yangon"},
        },
        worker,
        "moved",
    )
    asked, _ = timed(
        "group transition `identify` (sensitive: one group approval)",
        "/api/v1/group-transitions",
        {
            "arrival_id": arrival_id,
            "trigger": "identify",
            "payload": {"indicators": ["deceptive_recruitment", "exploitation"]},
        },
        worker,
        "pending",
    )
    _, seconds = timed(
        "group approval, approved once",
        f"/api/v1/group-approvals/{asked['id']}/approve",
        {"reason": "screening records checked"},
        supervisor,
        "approved",
    )
    verdict = "**pass**" if seconds < 5 else "**FAIL**"
    return [
        "### The second wave's 569 cases through identification by group decisions",
        "",
        *timings,
        "",
        f"569 cases approved in one decision: **{seconds:.2f} s** (target < 5 s: {verdict}).",
        "",
    ]


def _streamed(context: AppContext, count: int) -> list[str]:
    from schemas.arrival import ArrivalCreate
    from service.arrivals import service as arrivals

    run = runner(context, "petugas.kemlu")
    data = ArrivalCreate(
        arrival_date="2025-03-19",
        place="Pelabuhan Tanjung Priok",
        source_country="KH",
        operation_name="streamed",
    )  # type: ignore[arg-type]
    made = run(lambda s, c, p: arrivals.create_arrival(s, c, p, data))
    samples: list[tuple[int, float]] = []
    with tempfile.NamedTemporaryFile(suffix=".csv") as file:
        file.write(manifest_csv(returnees(count, seed=10_000)))
        file.flush()
        size = Path(file.name).stat().st_size
        before = _rss()
        started = time.perf_counter()
        with open(file.name, "rb") as stream:
            report = intake.import_manifest(
                run,
                made.id,
                stream,
                size,
                max_bytes=context.settings.max_manifest_bytes,
                endpoint="bench",
                progress=lambda done: samples.append((done, _rss())),
            )
        seconds = time.perf_counter() - started
    first = next((rss for done, rss in samples if done >= 1000), samples[0][1])
    peak = max(rss for _, rss in samples)
    return [
        "### 10,000 rows streamed (`nrm cases import`'s path, one process)",
        "",
        f"{count} rows ({size / 1e6:.1f} MB CSV): {report.created} created, "
        f"{report.already_imported} already imported, {report.refused} refused in "
        f"{seconds:.1f} s ({count / seconds:.0f} rows/s).",
        "",
        f"Resident size: {before:.0f} MiB before, {first:.0f} MiB after 1,000 rows, "
        f"{peak:.0f} MiB at the peak over {count:,} rows (growth after the first 1,000: "
        f"{peak - first:+.0f} MiB); ru_maxrss {_maxrss():.0f} MiB.",
        "",
    ]


def _rss() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _maxrss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _write(text: str) -> None:
    write_section(RESULTS, BEGIN, END, "Bulk intake and group decisions", text)


if __name__ == "__main__":
    main()
