"""A py-spy profile of one worker under load, reduced to where its CPU goes.

py-spy samples a process from outside (no change to the service, no restart); `--gil` keeps
only the thread holding the GIL: Python CPU time, not threads waiting on the database or for
work (py-spy's own idle detection does not work on this machine: without `--gil`, threads
blocked in `Condition.wait` show as busy). A worker is paused for each sample, which keeps its
stacks exact (its profile is a load run of its own); verify is sampled `--nonblocking`, as its
figure is measured at the same time. The samples come as
collapsed stacks ("frame;frame;... count"), which `summarize` reduces to the functions that
run (self time), the functions under which the time is spent (inclusive, once per stack), and
the packages that run.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OWN_CODE = ("service/", "workflows/", "schemas/")
_PACKAGE = re.compile(r"(?:site|dist)-packages/(?P<package>[A-Za-z0-9_]+)")


# Steps of a transition in a uvicorn worker, by the frames on its stack (the first rule that
# matches names the step: the more specific first). The use case runs on a pool thread
# (`Run.now`, kit/capacity.py), the rest on the event loop.
_POOL = "WorkerThread.run"
STAGES = (
    ("pool thread: the caller (principal_for, one statement)",
     (_POOL, "Run.principal")),
    ("pool thread: loading the case (one statement, ORM entities)",
     (_POOL, "load_readable (")),
    ("pool thread: checking the command (workflow engine, payload schema)",
     (_POOL, "check (service/cases/transition_core.py")),
    ("pool thread: event and compare-and-set (hash, flush, two INSERTs)",
     (_POOL, "append_case_event_now (")),
    ("pool thread: the rest of the move (routing, sealing the payload, consent)",
     (_POOL, "apply (service/cases/transition_core.py")),
    ("pool thread: the answer (present, identity look)",
     (_POOL, "present (service/cases/service.py")),
    ("pool thread: session, BEGIN and COMMIT", (_POOL, "Database.transaction")),
    ("pool thread: the rest of the use case", (_POOL, "Run.now")),
    ("pool thread: hand-over machinery", (_POOL,)),
    ("event loop: the turn and the thread (kit/capacity.py)",
     ("in_thread (service/kit/capacity.py",)),
    ("event loop: FastAPI solving dependencies, reading the body", ("solve_dependencies",)),
    ("event loop: ASGI app (middlewares, routing, response)", ("FastAPI.__call__",)),
    ("event loop: the rest (uvicorn protocol, the loop itself)", ()),
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    samples: int
    self_time: list[tuple[str, float]]  # (function, share of samples)
    inclusive: list[tuple[str, float]]
    packages: list[tuple[str, float]]
    stages: list[tuple[str, float]] = field(default_factory=list)


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, output: Path) -> str:
    """Sample `pid` for `seconds` into `output` (collapsed stacks); returns the command run."""
    tool = py_spy()
    if tool is None:
        raise FileNotFoundError("py-spy is not installed (make install brings it)")
    argv = [tool, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
            "--gil", "--format", "raw", "--output", str(output)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, timeout=seconds + 30)
    return " ".join(argv)


def function_of(frame: str) -> str:
    """`name (file:line)` as `name (file)`, the file shortened to its package path."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    return f"{match['name']} ({_short(match['file'])})"


def package_of(frame: str) -> str:
    """The top-level package of a frame's file (py-spy names files from their import root)."""
    match = _FRAME.match(frame.strip())
    path = _short(match["file"]) if match else frame
    if "/" not in path or path.startswith("<"):
        return "python (stdlib)"
    return path.split("/", 1)[0]


def summarize(collapsed: str, top: int = 20) -> Profile:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if _FRAME.match(f.strip())]
        if not frames:
            continue
        total += count
        stages[stage_of(stack)] += count
        self_time[function_of(frames[-1])] += count
        packages[package_of(frames[-1])] += count
        for function in {function_of(f) for f in frames}:
            if function.split(" (", 1)[-1].startswith(OWN_CODE):  # the frames one can change
                inclusive[function] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, n / total) for name, n in counter.most_common(top)] if total else []

    found_stages = shares(stages) if "WorkerThread.run" in collapsed else []
    return Profile(total, shares(self_time), shares(inclusive), shares(packages), found_stages)


def stage_of(stack: str) -> str:
    for name, needles in STAGES:
        if all(needle in stack for needle in needles):
            return name
    return STAGES[-1][0]


def _short(path: str) -> str:
    """A file as imported (`sqlalchemy/orm/session.py`), whether py-spy gave it so or in full."""
    found = _PACKAGE.search(path)
    if found:
        return path[found.start("package") :]
    return path


@contextmanager
def sampling(pid: int, output: Path) -> Iterator[str]:
    """py-spy on `pid` (this process, say) for as long as the block runs; yields the command.

    py-spy runs in a process of its own and reads the target's memory without pausing it; it
    takes CPU on the other core meanwhile (reported beside the figure it accompanies).
    """
    tool = py_spy()
    if tool is None:
        raise FileNotFoundError("py-spy is not installed (make install brings it)")
    argv = [tool, "record", "--pid", str(pid), "--rate", "100", "--gil", "--format", "raw",
            "--nonblocking", "--output", str(output)]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # attached before the work starts
        yield " ".join(argv)
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its output and exits
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
