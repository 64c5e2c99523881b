"""Slices of the log checked in worker processes (PostgreSQL), in one snapshot, results in order.

Each worker process holds one connection. For each slice it opens a REPEATABLE READ READ ONLY
transaction on the snapshot the parent exported (`pg_export_snapshot`), so every worker reads
exactly the log the parent reads its checkpoints and heads from; it streams the slice's rows
through a server-side cursor and checks them (integrity/slices.py). Workers start from a
fork server (or are spawned): no state is copied from the parent, and they import only psycopg
and the pure checker.

At most twice `workers` slices are in flight; the parent takes their results in slice order, so
memory stays a few slices' worth whatever the length of the log.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from service.audit.integrity.slices import SliceResult, check_slice

FETCH = 5000
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


_connection: psycopg.Connection[Any] | None = None


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
        connection.execute(
            sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(reader.snapshot))
        )
        with connection.cursor(name="audit_verify_slice") as cursor:
            cursor.itersize = FETCH
            cursor.execute(reader.statement, {**reader.params, "after": after, "upto": upto})
            return check_slice(after, upto, positions, cursor)


def checked_in_workers(
    reader: SliceReader, slices: Iterable[Slice], workers: int
) -> Iterator[SliceResult]:
    """Each slice's result, in the order of `slices`, checked by `workers` processes."""
    context = _process_context()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                             initargs=(reader,)) as pool:  # fmt: skip
        in_flight: deque[Future[SliceResult]] = deque()
        try:
            for after, upto, positions in slices:
                in_flight.append(pool.submit(_check, reader, after, upto, list(positions)))
                if len(in_flight) >= 2 * workers:
                    yield _result(in_flight.popleft())
            while in_flight:
                yield _result(in_flight.popleft())
        finally:
            for future in in_flight:
                future.cancel()


def _process_context() -> multiprocessing.context.BaseContext:
    """`forkserver` where there is one: its server imports this module alone, once per parent
    process, and forks each worker from it (spawning would import the parent's main module,
    the whole service, in every worker); else `spawn`. Neither copies the parent's state."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _result(future: Future[SliceResult]) -> SliceResult:
    try:
        return future.result()
    except Exception as exc:  # whatever went wrong over there, the parent can do it itself
        raise WorkersFailed(f"a worker process failed: {type(exc).__name__}: {exc}") from exc
