"""Webhooks: what the outbox row costs a transition, and how fast the worker delivers.

    .venv/bin/python -m bench.webhooks [--pg URL] [--events 5000] [--rounds 6] [--rate 200]
                                       [--processes 1 2]

1. Outbox cost: rounds of in-place transitions (`record_police_report`, POLRI, through the
   real use case, one transaction each) alternate with and without the outbox row, as
   bench/transition_hashing.py does for the hash.
2. Drain: `--events` events wait in the outbox; N worker processes (`--processes`, each
   running `delivery.deliver` as the job of each `nrm serve` worker does, sharing the work
   through the fan-out lock and the leases) fan them out and POST them, signed, to a receiver
   on loopback: `tests/webhook_receiver.py`, the standard library's ThreadingHTTPServer
   (HTTP/1.1 keep-alive, a thread per connection), in a process of its own so that it shares
   no interpreter with the workers. Once per value given to `--processes`, on the same events
   filled again. Reports events/s (target: 1,000), the wall time, the CPU seconds of the
   workers, of the receiver and of the whole machine, and the load average.
3. Latency: transitions at `--rate` per second while the worker loops as in `nrm serve`
   (every NRM_WEBHOOK_DELIVER_SECONDS, here 0.1 s); commit-to-receipt p50/p95/max.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from bench import procfs
from bench._setup import fresh_context
from bench.transition_hashing import fire_many, new_case, principal
from service.audit import log as events
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.models import CaseFile, WebhookSubscription
from service.webhooks import delivery, signing
from tests.webhook_receiver import Receiver


def rounds(
    context: AppContext, police: Principal, kemlu: Principal, n: int, each: int
) -> dict[str, float]:
    real = events.queue_for_webhooks
    off: Callable[..., None] = lambda *_args: None  # noqa: E731
    rates: dict[str, list[float]] = {"outbox": [], "no outbox": []}
    for _ in range(n):
        for mode in rates:
            events.queue_for_webhooks = real if mode == "outbox" else off
            case = new_case(context, kemlu)
            started = time.perf_counter()
            fire_many(context, police, case, each)
            rates[mode].append(each / (time.perf_counter() - started))
    events.queue_for_webhooks = real
    return {mode: statistics.median(r) for mode, r in rates.items()}


def outbox_row_us(context: AppContext, kemlu: Principal, count: int = 2000) -> float:
    """The outbox row alone: `queue_for_webhooks` and the flush of its INSERT, in one
    transaction (rolled back), per row; what it adds to a transition's flush without the
    commit's noise."""
    case_id = new_case(context, kemlu)["id"]
    with context.database.transaction() as session:
        case = session.get(CaseFile, uuid.UUID(case_id))
        assert case is not None
        started = time.perf_counter()
        for seq in range(count):
            events.queue_for_webhooks(session, case, 1000 + seq)
            session.flush()
        spent = time.perf_counter() - started
        session.rollback()
    return spent / count * 1e6


def subscribe(context: AppContext, url: str, admin_id: int) -> None:
    with context.database.transaction() as session:
        session.add(
            WebhookSubscription(
                url=url, event_kinds=[], secret_sealed=delivery.seal_secret(
                    context.cipher, signing.new_secret()
                ), created_by_id=admin_id,
            )
        )  # fmt: skip


def fill(context: AppContext, police: Principal, kemlu: Principal, count: int, spread: int) -> None:
    """About `count` events in the outbox over `spread` cases (a registration, then
    transitions), from 4 threads."""
    cases = [new_case(context, kemlu) for _ in range(spread)]
    each = max(1, (count - spread) // spread)
    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(fire_many, context, police, c, each) for c in cases]:
            future.result()


def drain_here(context: AppContext) -> int:
    """One worker: deliver until nothing waits at all (not only until nothing is claimable:
    another process may hold leases that it would give back); how many it delivered."""
    delivered = 0
    while True:
        report = delivery.deliver(context, budget_seconds=600)
        delivered += report.delivered
        if report.delivered == 0 and report.fanned_out == 0:
            with context.database.snapshot() as session:
                if delivery.backlog(session)[:2] == (0, 0):
                    return delivered
            time.sleep(0.01)


def drain(context: AppContext, processes: int, receiver_pid: int) -> dict[str, float]:
    """The outbox drained by `processes` forked workers (each with connections of its own);
    events/s, wall seconds, CPU seconds (workers, receiver, the machine's busy time)."""
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()

    def work() -> None:
        context.database.engine.dispose(close=False)  # the parent's connections stay its own
        results.put(drain_here(context))

    receiver_before = procfs.process_cpu(receiver_pid)
    machine_before = procfs.machine_cpu()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    workers = [fork.Process(target=work) for _ in range(processes)]
    for worker in workers:
        worker.start()
    delivered = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = procfs.machine_cpu()
    return {
        "delivered": delivered,
        "per_second": delivered / wall,
        "wall": wall,
        "workers_cpu": children.ru_utime + children.ru_stime
        - children_before.ru_utime - children_before.ru_stime,
        "receiver_cpu": procfs.process_cpu(receiver_pid) - receiver_before,
        "machine_busy": machine.busy - machine_before.busy,
        "machine_total": machine.total - machine_before.total,
    }  # fmt: skip


def latency(context: AppContext, police: Principal, kemlu: Principal, url: str,
            rate: float, seconds: float) -> list[float]:  # fmt: skip
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            delivery.deliver(context)
            stop.wait(context.settings.webhook_deliver_seconds)

    worker = threading.Thread(target=loop)
    worker.start()
    case = new_case(context, kemlu)
    fired, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fire_many(context, police, case, 1)
        case["version"] += 1
        fired += 1
        ahead = fired / rate - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
    deadline = time.time() + 60
    while time.time() < deadline:  # until the worker has nothing left (asking the database)
        with context.database.snapshot() as session:
            if delivery.backlog(session)[:2] == (0, 0):
                break
        time.sleep(0.2)
    mine = _accepted(url, case["id"])
    stop.set()
    worker.join()
    return [r["at"] - datetime.fromisoformat(r["message"]["data"]["at"]).timestamp() for r in mine]


def _accepted(url: str, case_id: str) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = httpx.get(url, timeout=30).json()
    return [r for r in kept if r["message"]["data"]["case_id"] == case_id]


def receiver_process() -> tuple[str, int]:
    """A receiver in a process of its own (so that it takes no CPU from the worker's
    interpreter); its URL and process id. It dies with this process."""
    parent, child = multiprocessing.get_context("fork").Pipe()

    def serve(conn: Any) -> None:
        conn.send(Receiver().start().url)
        threading.Event().wait()

    process = multiprocessing.get_context("fork").Process(target=serve, args=(child,), daemon=True)
    process.start()
    url: str = parent.recv()
    return url, process.pid or 0


def machine() -> str:
    return (f"{procfs.cpu_model()}, {os.cpu_count()} cores, load average "
            f"{procfs.load_average()}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--cases", type=int, default=100, help="the events' spread")
    parser.add_argument("--rounds", type=int, default=6, help="outbox cost: rounds per mode")
    parser.add_argument("--transitions", type=int, default=200, help="outbox cost: per round")
    parser.add_argument("--rate", type=float, default=200.0, help="latency: transitions/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency: for how long")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="drain: worker processes (one drain per value)")  # fmt: skip
    args = parser.parse_args()
    url, receiver_pid = receiver_process()  # forked before any thread or connection
    print(f"machine: {machine()}")
    started_cpu = time.process_time()
    with fresh_context(args.pg) as base:
        settings = base.settings.model_copy(update={"webhook_deliver_seconds": 0.1})
        context = replace(base, settings=settings)
        backend = context.database.engine.dialect.name
        kemlu = principal(context, "kemlu.bench", "KEMLU")
        police = principal(context, "polri.bench", "POLRI")
        rounds(context, police, kemlu, 1, 100)  # warm up
        cost = rounds(context, police, kemlu, args.rounds, args.transitions)
        print(f"{backend}: outbox cost, {args.transitions} transitions x {args.rounds} rounds "
              f"per mode, one thread (median):")  # fmt: skip
        for mode, rate in cost.items():
            print(f"  {mode:10} {rate:8.0f} transitions/s  ({1e3 / rate:.2f} ms each)")
        on, off = cost["outbox"], cost["no outbox"]
        print(f"  difference {1e3 / on - 1e3 / off:+8.3f} ms per transition "
              f"({100 * (off - on) / off:+.1f} %, noise included)")  # fmt: skip
        alone = statistics.median(outbox_row_us(context, kemlu) for _ in range(5))
        print(f"  the outbox row alone (add + flush its INSERT, no commit): {alone:.0f} us, "
              f"{100 * alone * 1e-6 * on:.1f} % of a transition at {on:.0f}/s")  # fmt: skip

        subscribe(context, url, police.user_id or 0)
        delivery.deliver(context)  # the warm-up rounds' events: fanned out and sent
        for processes in args.processes:
            fill(context, police, kemlu, args.events, args.cases)
            with context.database.snapshot() as session:
                waiting = delivery.backlog(session)[0]
            load = procfs.load_average()
            figures = drain(context, processes, receiver_pid)
            busy = 100 * figures["machine_busy"] / max(figures["machine_total"], 1e-9)
            print(f"{backend}: drain {waiting} outbox events of {args.cases} cases, "
                  f"{processes} worker process(es) -> {figures['delivered']:.0f} deliveries: "
                  f"{figures['per_second']:.0f} events/s in {figures['wall']:.2f} s wall "
                  f"(concurrency {settings.webhook_concurrency}, batch {settings.webhook_batch}); "
                  f"CPU: workers {figures['workers_cpu']:.2f} s, receiver "
                  f"{figures['receiver_cpu']:.2f} s, machine {busy:.0f} % busy; load average "
                  f"before {load}, after {procfs.load_average()}")  # fmt: skip
        lags = latency(context, police, kemlu, url, args.rate, args.seconds)
        lags.sort()
        p50, p95 = 1e3 * lags[len(lags) // 2], 1e3 * lags[int(len(lags) * 0.95)]
        print(f"{backend}: latency commit -> receipt at {args.rate:.0f} transitions/s, worker "
              f"every {settings.webhook_deliver_seconds} s ({len(lags)} events): "
              f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {1e3 * lags[-1]:.0f} ms")  # fmt: skip
    print(f"machine: load average {procfs.load_average()} at the end; this process's CPU "
          f"{time.process_time() - started_cpu:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
