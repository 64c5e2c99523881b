"""Driving the service with wrk (Debian's `wrk`, C, event-driven) and reading its results.

The Lua scripts in `bench/lua/` print one `BENCH_RESULT {json}` line from `done()`, with the
percentiles wrk's `--latency` table lacks (p95). wrk's own CPU time comes from `wait4`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).with_name("lua")
MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadResult:
    """One load run: throughput of good answers and the latency of every answer."""

    connections: int
    seconds: float
    requests: int
    ok: int
    conflicts: int
    failed: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Good answers (the expected status) per second."""
        return self.ok / self.seconds if self.seconds else 0.0


def parse(output: str, connections: int) -> LoadResult:
    """The result line that `common.done` prints; raises if wrk printed none."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return LoadResult(
                connections=connections,
                seconds=data["duration_us"] / 1e6,
                requests=data["requests"],
                ok=data["ok"],
                conflicts=data["conflicts"],
                failed=data["failed"],
                socket_errors=data["socket_errors"] + data["timeouts"],
                p50_ms=data["p50_us"] / 1000,
                p90_ms=data["p90_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
            )
    raise ValueError(f"wrk printed no {MARKER.strip()} line:\n{output[-2000:]}")


def command(url: str, script: str, connections: int, seconds: float) -> list[str]:
    """One thread per connection: the scripts keep a connection's state in its thread."""
    wrk = shutil.which("wrk") or "wrk"
    return [wrk, f"-t{connections}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
            "--latency", "-s", str(LUA_DIR / script), url]  # fmt: skip


def run(
    url: str,
    script: str,
    connections: int,
    seconds: float,
    env: dict[str, str],
    log: Path | None = None,
) -> LoadResult:
    argv = command(url, script, connections, seconds)
    full_env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), **env}
    process = subprocess.Popen(argv, env=full_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        output = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
    if log is not None:
        with log.open("a") as handle:
            handle.write(f"$ {' '.join(argv)}\n{output}\n")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited {process.returncode}:\n{output[-2000:]}")
    result = parse(output, connections)
    cpu = usage.ru_utime + usage.ru_stime
    return LoadResult(**{**result.__dict__, "client_cpu_seconds": cpu})
