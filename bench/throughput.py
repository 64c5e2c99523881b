"""Transitions per second over HTTP beside the raw loop and the lean probe, a profile, and
intake: one backend.

Three numbers per client count, side by side: the raw loop (the SQL alone), the lean probe
(`bench/lean.py`: the least a request can cost in this stack, the ceiling; PostgreSQL only) and
the service. The runs alternate (service 16, lean 16, raw 16, service 32, ...) on the same
cases, so a drift of the shared machine hurts every side of a ratio alike.

Just this part, for iterating (a scratch PostgreSQL database, dropped after; a temporary SQLite
file with --sqlite):

    .venv/bin/python -m bench.throughput [--seconds 5] [--clients 16] [--sqlite] [--profile 5]
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure, procfs, profile, rawintake, rawloop, wrk
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
    lean: dict[int, LoadRun] = field(default_factory=dict)
    raw: dict[int, rawloop.RawResult] = field(default_factory=dict)
    intake: LoadRun | None = None
    raw_intake: rawloop.RawResult | None = None
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


def run(
    server: Server, backend: str, raw_target: str, plan: Plan, lean: Server | None = None
) -> Throughput:
    """`server` (and the lean probe `lean`, if any) are started and stopped here; `raw_target`
    is their database for the raw loop."""
    found = Throughput(backend, server.workers, " ".join(server.command))
    with ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        if lean is not None:
            lean.start()
            stack.callback(lean.stop)
        _measure(server, backend, raw_target, plan, found, lean)
    return found


def _measure(
    server: Server,
    backend: str,
    raw_target: str,
    plan: Plan,
    found: Throughput,
    lean: Server | None,
) -> None:
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
    if lean is not None:
        refresh()
        wrk.run(lean.base_url, "transition.lua", max(plan.clients), 3, env, log)
    groups = {"workers": server.all_pids}
    if backend == "postgresql":
        groups["postgres"] = measure.postgres_pids
    for clients in plan.clients:
        refresh()
        print(f"  {backend}: transitions over HTTP, {clients} clients", flush=True)
        found.http[clients] = measure.load(server, "transitions", backend, "transition.lua",
                                           clients, plan.seconds, env, log)  # fmt: skip
        measure.settle()
        if lean is not None:
            refresh()
            print(f"  {backend}: lean probe, {clients} clients", flush=True)
            found.lean[clients] = measure.load(lean, "lean", backend, "transition.lua",
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
    measure.settle()
    print(f"  {backend}: raw loop of intake, {INTAKE_CLIENTS} clients", flush=True)
    worker = rawloop.Actor(measure.user_id(raw_target, "bench.kemlu"), "bench.kemlu", "KEMLU")
    template = uuid.UUID(server.post_json("/api/v1/cases", intake_body(), kemlu)["id"])
    found.raw_intake = rawloop.run(raw_target, [template] * INTAKE_CLIENTS, worker,
                                   plan.seconds, groups, client=rawintake.client)  # fmt: skip


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


def summary(found: Throughput) -> str:
    """The three numbers per client count, side by side, as the run prints them."""
    lines = [f"{found.backend}: transitions/s (p99 ms) raw loop | lean probe | service"]
    for clients in sorted(found.http):
        service, raw, lean = found.http[clients], found.raw.get(clients), found.lean.get(clients)
        raw_rate = raw.rate if raw else 0.0

        def cell(rate: float, p99: float, raw_rate: float = raw_rate) -> str:
            ratio = f" = {rate / raw_rate:.2f}x raw" if raw_rate else ""
            return f"{rate:,.0f} (p99 {p99:.1f}){ratio}"

        cells = [cell(raw_rate, raw.percentile(99)) if raw else "-"]
        cells.append(cell(lean.result.rate, lean.result.p99_ms) if lean else "-")
        cells.append(cell(service.result.rate, service.result.p99_ms))
        cpu = service.cpu.get("workers", 0.0) * service.result.seconds
        per = cpu / service.result.ok * 1000 if service.result.ok else 0.0
        lines.append(f"  {clients:>3} clients: {' | '.join(cells)}; service worker CPU "
                     f"{per:.2f} ms/transition, load {procfs.load_average()}")  # fmt: skip
    if found.intake:
        intake, raw_intake = found.intake.result, found.raw_intake
        raw_cell, ratio = "-", ""
        if raw_intake is not None and raw_intake.rate:
            raw_cell = f"{raw_intake.rate:,.0f} (p99 {raw_intake.percentile(99):.1f})"
            ratio = f" = {intake.rate / raw_intake.rate:.2f}x raw"
        lines.append(f"  intake, {INTAKE_CLIENTS} clients, cases/s (p99 ms): raw loop {raw_cell} |"
                     f" service {intake.rate:,.0f} (p99 {intake.p99_ms:.1f}){ratio}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import tempfile

    from bench import lean as lean_probe
    from bench import run as bench_run
    from bench._setup import scratch_database
    from bench.server import add_users, nrm, service_env
    from service.kit.config import generate_keys

    parser = argparse.ArgumentParser(description="transitions: raw loop, lean probe, service")
    parser.add_argument("--pg", default=bench_run.DEFAULT_PG)
    parser.add_argument("--workers", type=int, default=bench_run.DEFAULT_WORKERS)
    parser.add_argument("--lean-workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", default="16")
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy (0: none)")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    args = parser.parse_args(argv)
    out = Path(__file__).with_name("out")
    out.mkdir(exist_ok=True)
    plan = Plan(tuple(int(c) for c in args.clients.split(",")), args.seconds, args.profile, out)
    keys = generate_keys()
    print(f"load average at start {procfs.load_average()}", flush=True)
    with ExitStack() as stack:
        if args.sqlite:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nrm_bench_")))
            url, raw_target, lean = f"sqlite:///{directory / 'bench.db'}", "", None
            raw_target = str(directory / "bench.db")
        else:
            url = stack.enter_context(scratch_database(args.pg, "nrm_bench"))
            raw_target = bench_run._libpq(url)
        env = service_env(url, keys)
        nrm(env, "db", "upgrade")
        add_users(env)
        server = Server(env, 1 if args.sqlite else args.workers, out / "server-throughput.log")
        if not args.sqlite:
            lean = lean_probe.lean_server(raw_target, keys["secret_key"], args.lean_workers,
                                          out / "server-lean.log")  # fmt: skip
        found = run(server, "sqlite" if args.sqlite else "postgresql", raw_target, plan, lean)
    print(summary(found), flush=True)
    if found.profile:
        for stage, share in found.profile.stages or found.profile.inclusive[:12]:
            print(f"  {share:6.1%}  {stage}")


if __name__ == "__main__":
    main()
