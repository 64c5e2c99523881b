"""A soak (issue 16, item 8): `nrm serve --workers 2` on PostgreSQL under a mixed load at half
the peak rate for `--minutes`, reporting each minute's p50/p99, answers by status and every
worker's resident memory, and ending with `nrm audit verify`.

The mix: half transitions (`record_police_report` on one of 32 cases, each case fired by one
request at a time), a tenth intakes, a quarter case histories, the rest queue pages. The peak
is measured first: the same mix from `--clients` closed-loop clients for 20 s; the soak then
sends requests at half that rate on a fixed schedule (open loop: a slow answer does not slow the
schedule; a request waits for a free client thread if all are busy, and counts from then).

    .venv/bin/python -m bench.soak [--minutes 10] [--pg URL] [--clients 16]
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench import procfs
from bench._setup import scratch_database
from bench.degradations import DEFAULT_PG, PAYLOAD, Answer, ask
from bench.server import BIN, Server, add_users, nrm, service_env
from service.kit.config import generate_keys
from tests.factories import intake_body

CASES = 32
PEAK_SECONDS = 20.0


@dataclass
class Mix:
    server: Server
    tokens: dict[str, str]
    cases: queue.Queue[tuple[str, int]] = field(default_factory=queue.Queue)

    def one(self) -> tuple[str, Answer]:
        draw = random.random()
        if draw < 0.5:
            return "transition", self._transition()
        if draw < 0.6:
            return "intake", ask(self.server, "POST", "/api/v1/cases", self.tokens["kemlu"],
                                 intake_body())  # fmt: skip
        if draw < 0.85:
            case_id, version = self.cases.get()
            self.cases.put((case_id, version))
            path = f"/api/v1/cases/{case_id}/history?limit=50"
            return "history", ask(self.server, "GET", path, self.tokens["polri"])
        path = "/api/v1/queues/KEMENPPPA?limit=25"
        return "queue", ask(self.server, "GET", path, self.tokens["kemenpppa"])

    def _transition(self) -> Answer:
        case_id, version = self.cases.get()
        try:
            body = {"trigger": "record_police_report", "expected_version": version,
                    "payload": PAYLOAD, "note": "soak"}  # fmt: skip
            path = f"/api/v1/cases/{case_id}/transitions"
            answer = ask(self.server, "POST", path, self.tokens["polri"], body)
            if answer.status == 200:
                version += 1
            return answer
        finally:
            self.cases.put((case_id, version))


@dataclass
class Minute:
    answers: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.answers[f"{kind} {answer.status}"] += 1
            self.seconds.append(answer.seconds)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def peak(mix: Mix, clients: int) -> float:
    """Requests per second of the mix from `clients` closed-loop clients."""
    done = Minute()
    until = time.monotonic() + PEAK_SECONDS

    def client() -> None:
        while time.monotonic() < until:
            done.add(*mix.one())

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(done.seconds) / PEAK_SECONDS
    p99 = percentile(done.seconds, 0.99) * 1000
    print(f"peak: {rate:.0f} requests/s from {clients} clients (p99 {p99:.0f} ms); "
          f"{dict(done.answers)}")  # fmt: skip
    return rate


def soak(mix: Mix, rate: float, minutes: int, clients: int) -> list[Minute]:
    print(f"soak: {rate:.1f} requests/s for {minutes} min")
    print("| minute | requests | non-2xx | p50 ms | p99 ms | worker RSS MiB | load |")
    print("|---|---|---|---|---|---|---|")
    found: list[Minute] = []
    start = time.monotonic()
    with ThreadPoolExecutor(clients * 2) as pool:
        for minute in range(minutes):
            current = Minute()
            found.append(current)
            n = 0
            while (due := start + minute * 60 + n / rate) < start + (minute + 1) * 60:
                time.sleep(max(0.0, due - time.monotonic()))
                pool.submit(lambda m=current: m.add(*mix.one()))
                n += 1
            time.sleep(2.0)  # the minute's last answers
            _print_minute(minute + 1, current, mix.server)
    return found


def _print_minute(number: int, minute: Minute, server: Server) -> None:
    with minute.lock:
        seconds = list(minute.seconds)
        failed = sum(c for k, c in minute.answers.items() if not k.split()[1].startswith("2"))
    rss = ", ".join(f"{procfs.rss_mib(p) or 0:.0f}" for p in server.worker_pids())
    print(f"| {number} | {len(seconds)} | {failed} | {statistics.median(seconds) * 1000:.0f} | "
          f"{percentile(seconds, 0.99) * 1000:.0f} | {rss} | {procfs.load_average()} |",
          flush=True)  # fmt: skip


def run(pg: str, minutes: int, clients: int) -> None:
    with scratch_database(pg, "nrm_soak") as url, tempfile.TemporaryDirectory() as tmp:
        env = service_env(url, generate_keys())
        nrm(env, "db", "upgrade")
        add_users(env)
        server = Server(env, 2, Path(tmp) / "server.log")
        server.start(timeout=180)
        try:
            tokens = {name.split(".")[1]: server.login(name)
                      for name in ("bench.kemlu", "bench.polri", "bench.kemenpppa")}  # fmt: skip
            mix = Mix(server, tokens)
            for _ in range(CASES):
                case = server.post_json("/api/v1/cases", intake_body(), tokens["kemlu"])
                mix.cases.put((case["id"], case["version"]))
            print(f"machine: {procfs.cpu_model()}, load {procfs.load_average()}")
            print(f"workers' RSS at start: {[procfs.rss_mib(p) for p in server.worker_pids()]}")
            rate = peak(mix, clients) / 2
            soak(mix, rate, minutes, clients)
        finally:
            server.stop()
        started = time.monotonic()
        verify = subprocess.run([str(BIN / "nrm"), "audit", "verify"], env=env,
                                capture_output=True, text=True)  # fmt: skip
        print(f"nrm audit verify: exit {verify.returncode} in {time.monotonic() - started:.1f} s:"
              f" {verify.stdout.strip()[-200:]}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    run(args.pg, args.minutes, args.clients)


if __name__ == "__main__":
    main()
