"""How long `nrm serve --workers N` takes to answer, on a machine kept busy, and whether uvicorn's
supervisor killed workers that were still starting (issue 16, item 4).

Each round starts `nrm serve` on a fresh SQLite file, polls `/health/ready` until every worker
has logged "Application startup complete" (and one 200), then stops it by its process id.
`--load N` keeps N busy loops running meanwhile (one per core: the loaded 2-core machine).

    .venv/bin/python -m bench.serve_startup [--workers 4] [--rounds 3] [--load 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.server import BIN, free_port, nrm, service_env
from service.kit.config import generate_keys


def _spin() -> None:
    while True:
        pass


def one_round(workers: int, directory: Path) -> tuple[float, float, int]:
    """(seconds to the first 200, seconds until every worker is up, workers that died)."""
    env = service_env(f"sqlite:///{directory / 'nrm.db'}", generate_keys())
    nrm(env, "db", "upgrade")
    port = free_port()
    log_path = directory / f"serve-{port}.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "nrm"), "serve", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    first = every = float("nan")
    try:
        while time.monotonic() - started < 300:
            if first != first and _ready(port):
                first = time.monotonic() - started
            text = log_path.read_text(errors="replace")
            if text.count("Application startup complete") >= workers and first == first:
                every = time.monotonic() - started
                break
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    died = log_path.read_text(errors="replace").count(" died")
    return first, every, died


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=int, default=2, help="busy loops meanwhile")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for spinner in spinners:
        spinner.start()
    try:
        for number in range(args.rounds):
            with tempfile.TemporaryDirectory() as scratch:
                first, every, died = one_round(args.workers, Path(scratch))
            print(
                f"round {number + 1}: first 200 after {first:.1f} s, all {args.workers} workers "
                f"up after {every:.1f} s, {died} worker(s) killed while starting"
            )
    finally:
        for spinner in spinners:
            spinner.terminate()


if __name__ == "__main__":
    main()
