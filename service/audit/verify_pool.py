"""Slices of the log checked in worker processes (PostgreSQL), in one snapshot, results in order.

Each worker process holds one connection. For each slice it opens a REPEATABLE READ READ ONLY
transaction on the snapshot the parent exported (`pg_export_snapshot`), so every worker reads
exactly the log the parent reads its checkpoints and heads from; it streams the slice's rows
through a server-side cursor and checks them (integrity/slices.py). Workers are spawned: no
state is copied from the parent (no connection, no lock). Each imports this module and, as
`spawn` does, the parent's main module (for `nrm`, the whole service: about 1.5 s of CPU per
worker, once per verification).

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
    context = multiprocessing.get_context("spawn")
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


def _result(future: Future[SliceResult]) -> SliceResult:
    try:
        return future.result()
    except Exception as exc:  # whatever went wrong over there, the parent can do it itself
        raise WorkersFailed(f"a worker process failed: {type(exc).__name__}: {exc}") from exc
