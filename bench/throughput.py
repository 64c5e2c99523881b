"""Transitions per second over HTTP beside the raw loop, a profile, and intake: one backend.

The HTTP and raw runs alternate (HTTP 16, raw 16, HTTP 32, raw 32) on the same cases, so a
drift of the shared machine hurts both sides of a ratio alike.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure, procfs, profile, rawloop, wrk
from bench.measure import LoadRun
from bench.server import Server
from tests.factories import intake_body

INTAKE_CLIENTS = 16


@dataclass
class Throughput:
    backend: str
    workers: int
    server_command: str = ""
    http: dict[int, LoadRun] = field(default_factory=dict)
    raw: dict[int, rawloop.RawResult] = field(default_factory=dict)
    intake: LoadRun | None = None
    idle_rss_mib: dict[int, float] = field(default_factory=dict)
    profile: profile.Profile | None = None
    profile_command: str = ""
    profile_error: str = ""


@dataclass(frozen=True)
class Plan:
    clients: tuple[int, ...]
    seconds: float
    profile_seconds: int  # 0: no profile
    out: Path


def run(server: Server, backend: str, raw_target: str, plan: Plan) -> Throughput:
    """`server` is started and stopped here; `raw_target` is its database for the raw loop."""
    found = Throughput(backend, server.workers, " ".join(server.command))
    server.start()
    try:
        _measure(server, backend, raw_target, plan, found)
    finally:
        server.stop()
    return found


def _measure(server: Server, backend: str, raw_target: str, plan: Plan, found: Throughput) -> None:
    kemlu, polri = server.login("bench.kemlu"), server.login("bench.polri")
    ids = [
        uuid.UUID(server.post_json("/api/v1/cases", intake_body(), kemlu)["id"])
        for _ in range(max(plan.clients))
    ]
    actor = rawloop.Actor(measure.user_id(raw_target, "bench.polri"), "bench.polri", "POLRI")
    found.idle_rss_mib = {pid: procfs.rss_mib(pid) or 0.0 for pid in server.worker_pids()}
    cases = plan.out / f"cases-{backend}.txt"
    env = {"BENCH_CASES": str(cases), "BENCH_TOKEN": polri}
    log = plan.out / f"wrk-{backend}.log"

    def refresh() -> None:
        measure.write_cases_file(cases, measure.drained_versions(raw_target, ids))

    refresh()
    wrk.run(server.base_url, "transition.lua", max(plan.clients), 3, env, log)  # warm-up
    groups = {"workers": server.all_pids}
    if backend == "postgresql":
        groups["postgres"] = measure.postgres_pids
    for clients in plan.clients:
        refresh()
        print(f"  {backend}: transitions over HTTP, {clients} clients", flush=True)
        found.http[clients] = measure.load(server, "transitions", backend, "transition.lua",
                                           clients, plan.seconds, env, log)  # fmt: skip
        measure.settle()
        print(f"  {backend}: raw loop, {clients} clients", flush=True)
        found.raw[clients] = rawloop.run(raw_target, ids[:clients], actor, plan.seconds, groups)
        measure.settle()
    if plan.profile_seconds:
        refresh()
        _profile(server, backend, plan, env, found)
        measure.settle()
    print(f"  {backend}: intake over HTTP, {INTAKE_CLIENTS} clients", flush=True)
    found.intake = measure.load(server, "intake", backend, "intake.lua", INTAKE_CLIENTS,
                                plan.seconds, {"BENCH_TOKEN": kemlu}, log)  # fmt: skip


def _profile(
    server: Server, backend: str, plan: Plan, env: dict[str, str], found: Throughput
) -> None:
    """py-spy on the busiest worker while 16 clients fire transitions (a run of its own: the
    sampling costs the worker a little, so it is kept out of the reported figures)."""
    clients = min(plan.clients)
    print(f"  {backend}: profile of one worker, {clients} clients", flush=True)
    log = plan.out / f"wrk-{backend}.log"
    load = threading.Thread(
        target=wrk.run,
        args=(server.base_url, "transition.lua", clients, plan.profile_seconds + 4, env, log),
    )
    load.start()
    try:
        time.sleep(1.0)
        before = {pid: procfs.process_cpu(pid) for pid in server.worker_pids()}
        time.sleep(1.0)
        busiest = max(before, key=lambda pid: procfs.process_cpu(pid) - before[pid])
        output = plan.out / f"profile-{backend}.txt"
        found.profile_command = profile.record(busiest, plan.profile_seconds, output)
        found.profile = profile.summarize(output.read_text())
    except (OSError, ValueError, RuntimeError, subprocess.SubprocessError) as exc:
        found.profile_error = f"{type(exc).__name__}: {exc}"
    finally:
        load.join()
