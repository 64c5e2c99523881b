"""What the machine and its processes are doing, read from /proc (Linux only, no dependency)."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass(frozen=True)
class MachineCpu:
    """Cumulative CPU time of the whole machine, in seconds: busy and total."""

    busy: float
    total: float


def machine_cpu() -> MachineCpu:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return MachineCpu(busy=(total - idle) / CLOCK_TICKS, total=total / CLOCK_TICKS)


def process_cpu(pid: int) -> float:
    """User + system seconds of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float | None:
    """VmRSS of a process, in MiB (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Direct children of `pid`, from every thread's children list."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return sorted(set(found))


def pids_named(name: str) -> list[int]:
    """Processes whose command name is `name` (for accounting only, never for killing)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class CpuMeter:
    """CPU used between creation and `stop` by the machine and by groups of processes.

    Each group is a function that lists its processes; it is asked at both ends, so a process
    that started in between counts whole, and one that ended in between is lost (stop the
    meter before the measured processes exit).
    """

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self._start = machine_cpu()
        self._members = {name: set(find()) for name, find in groups.items()}
        self._before = {pid: process_cpu(pid) for pids in self._members.values() for pid in pids}

    def stop(self, extra_seconds: dict[str, float] | None = None) -> dict[str, float]:
        """Average cores used per group, plus `machine` (all of it) and `other` (the rest).

        `extra_seconds`: CPU seconds measured otherwise (a child's rusage), per group name.
        """
        end = machine_cpu()
        wall = max((end.total - self._start.total) / (os.cpu_count() or 1), 1e-9)
        used: dict[str, float] = {}
        for name, find in self.groups.items():
            pids = self._members[name] | set(find())
            seconds = sum(max(process_cpu(p) - self._before.get(p, 0.0), 0.0) for p in pids)
            used[name] = seconds / wall
        for name, seconds in (extra_seconds or {}).items():
            used[name] = used.get(name, 0.0) + seconds / wall
        accounted = sum(used.values())
        used["machine"] = (end.busy - self._start.busy) / wall
        used["other"] = max(used["machine"] - accounted, 0.0)
        return used
