"""The log checked in worker processes (PostgreSQL), in one snapshot, results in order: first
its slices of events (integrity/slices.py), then each range of case ids' cases, each on its own:
its stream's links, its row's head, its grants (integrity/case_streams.py).

Each worker process holds one connection. For each slice or range it opens a REPEATABLE READ
READ ONLY transaction on the snapshot the parent exported (`pg_export_snapshot`), so every
worker reads exactly the log the parent reads its checkpoints and named heads from; it streams
the rows through server-side cursors and checks them. Workers are spawned: no state is copied
from the parent (no connection, no lock). Each imports this module and, as `spawn` would, the
parent's main module: that is hidden while they start (`_main_module_hidden`), so a worker
imports only what it uses (0.14 s, against 1.5 s for `nrm`'s whole service).

At most twice `workers` slices are in flight; the parent takes their results in slice order,
so memory stays a few slices' worth whatever the length of the log. The ranges are handed out
once the last slice is, so the workers check the cases while the parent joins the slices; a
range answers only its problems, so what the parent holds does not grow with the cases.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from service.audit.integrity import case_streams, grants
from service.audit.integrity.slices import SliceResult, check_slice

FETCH = 5000
RANGES_PER_WORKER = 4  # ranges of case ids per worker: an uneven range delays the others less
Slice = tuple[int, int, Sequence[int]]  # after, upto, checkpoint positions in (after, upto]


@dataclass(frozen=True)
class SliceReader:
    """How a worker reads a slice: the server, the snapshot, the statement (pyformat, with
    `after` and `upto` to fill in). Plain data: it crosses to spawned processes."""

    conninfo: str
    connect_args: dict[str, Any]
    snapshot: str
    statement: str
    params: dict[str, Any]


@dataclass(frozen=True)
class CasesReader:
    """How a worker reads a range of cases: the four statements (events, case rows' heads,
    `case_ministry`, `case_unit`; pyformat, with `low` and `high` to fill in) and each
    published state's lead ministry."""

    statements: tuple[str, str, str, str]
    params: tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]
    leads: dict[tuple[str, int, str], str | None]


_connection: psycopg.Connection[Any] | None = None
_MAIN_SWAP = threading.Lock()


class WorkersFailed(Exception):
    """A worker process could not check its slice (it died, or its database work failed)."""


def _start(reader: SliceReader) -> None:
    global _connection
    _connection = psycopg.connect(reader.conninfo, **reader.connect_args)
    _connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    _connection.read_only = True


def _check(reader: SliceReader, after: int, upto: int, positions: Sequence[int]) -> SliceResult:
    connection = _connection
    assert connection is not None, "the worker's initializer opens the connection"
    with connection.transaction():
        _in_snapshot(connection, reader)
        with connection.cursor(name="audit_verify_slice") as cursor:
            cursor.itersize = FETCH
            cursor.execute(reader.statement, {**reader.params, "after": after, "upto": upto})
            return check_slice(after, upto, positions, cursor)


def _cases(reader: SliceReader, read: CasesReader, low: str, high: str) -> case_streams.CasesResult:
    """The cases whose id lies in [low, high], each checked on its own."""
    connection = _connection
    assert connection is not None, "the worker's initializer opens the connection"
    with connection.transaction():
        _in_snapshot(connection, reader)
        cursors = []
        for n, (statement, params) in enumerate(zip(read.statements, read.params, strict=True)):
            cursor = connection.cursor(name=f"audit_verify_cases_{n}")
            cursor.itersize = FETCH
            cursor.execute(statement, {**params, "low": low, "high": high})
            cursors.append(cursor)
        events, heads, ministries, units = cursors
        try:
            return case_streams.check_cases(
                events, map(case_streams.head_of, heads), map(grants.ministry_item, ministries),
                map(grants.unit_item, units), grants.lead_from(read.leads),
            )  # fmt: skip
        finally:
            for cursor in cursors:
                cursor.close()


def _ready() -> bool:
    return _connection is not None


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """`spawn` runs the parent's main module again in each new process, before its task: for
    `nrm` the whole service (1.5 s of CPU per worker, per verification; a fifth of the CPU of
    verifying 300,000 events). The workers need only this module, so while they start the
    parent's `__main__` is a bare module, which spawn skips (no file, no spec). One swap at a
    time: two verifications starting together in one server process (two auditors' pages)
    must not leave the bare module in place."""
    with _MAIN_SWAP:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _in_snapshot(connection: psycopg.Connection[Any], reader: SliceReader) -> None:
    connection.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(reader.snapshot)))


def case_ranges(count: int) -> list[tuple[str, str]]:
    """The case ids split in `count` ranges of equal width, in order, both ends included (ids
    are random: about as many cases in each)."""
    space = 1 << 128
    bounds = [space * n // count for n in range(count + 1)]
    return [(str(uuid.UUID(int=bounds[n])), str(uuid.UUID(int=bounds[n + 1] - 1)))
            for n in range(count)]  # fmt: skip


class Workers:
    """`workers` processes on one snapshot: `checked` the slices, then `cases`."""

    def __init__(self, reader: SliceReader, workers: int, cases: CasesReader) -> None:
        self.reader, self.workers, self.read_cases = reader, workers, cases
        self._pool: ProcessPoolExecutor | None = None
        self._cases: list[Future[case_streams.CasesResult]] = []

    def __enter__(self) -> Workers:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start,
                                         initargs=(self.reader,))  # fmt: skip
        try:
            with _main_module_hidden():  # the pool starts a process per submit until it has all
                started = [self._pool.submit(_ready) for _ in range(self.workers)]
            for future in started:
                _result(future)
        except BaseException:
            self._pool.shutdown(wait=True, cancel_futures=True)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._pool is not None
        for future in self._cases:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def checked(self, slices: Iterable[Slice]) -> Iterator[SliceResult]:
        """Each slice's result, in the order of `slices`; the ranges of cases are handed out
        after the last slice."""
        pool = self._pool
        assert pool is not None, "use Workers in a with block"
        in_flight: deque[Future[SliceResult]] = deque()
        try:
            for after, upto, positions in slices:
                in_flight.append(pool.submit(_check, self.reader, after, upto, list(positions)))
                if len(in_flight) >= 2 * self.workers:
                    yield _result(in_flight.popleft())
            ranges = case_ranges(RANGES_PER_WORKER * self.workers)
            self._cases = [pool.submit(_cases, self.reader, self.read_cases, low, high)
                           for low, high in ranges]  # fmt: skip
            while in_flight:
                yield _result(in_flight.popleft())
        finally:
            for future in in_flight:
                future.cancel()

    def cases(self) -> Iterator[case_streams.CasesResult]:
        """Each range's cases, in case order (after `checked`)."""
        for future in self._cases:
            yield _result(future)


def _result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except Exception as exc:  # whatever went wrong over there, the parent can do it itself
        raise WorkersFailed(f"a worker process failed: {type(exc).__name__}: {exc}") from exc
