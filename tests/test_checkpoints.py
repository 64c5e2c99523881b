"""Checkpoints: sealed every N events or T seconds, one unforked chain, nothing ever skipped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from service.app import create_app
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.principal import SYSTEM
from service.models import AuditCheckpoint, CaseEvent, utcnow
from tests.factories import Actors, fire, register

START = datetime(2026, 3, 1, 8, 0, tzinfo=utcnow().tzinfo)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def at(context: AppContext, clock: Clock, **settings: object) -> AppContext:
    return replace(context, clock=clock, settings=context.settings.model_copy(update=settings))


def add_events(session: Session, count: int) -> None:
    for n in range(count):
        append_stream_event(session, "users", actor=SYSTEM, at=utcnow(), kind="test",
                            payload={"n": n})  # fmt: skip
    session.flush()


def test_nothing_pending_seals_nothing(session: Session, context: AppContext) -> None:
    assert checkpoints.checkpoint_pending(session, context) is None


def test_the_first_events_are_sealed_at_once_then_every_n_events(
    session: Session, context: AppContext
) -> None:
    clock = Clock()
    ctx = at(context, clock, checkpoint_every=3, checkpoint_seconds=60)
    add_events(session, 1)
    first = checkpoints.checkpoint_if_due(session, ctx)
    assert first is not None and first.event_count == 1
    add_events(session, 2)
    assert checkpoints.checkpoint_if_due(session, ctx) is None  # 2 waiting, checkpoint 0 s old
    add_events(session, 1)
    second = checkpoints.checkpoint_if_due(session, ctx)
    assert second is not None and second.event_count == 3
    assert (second.number, second.prev_hash) == (2, first.hash)


def test_a_few_waiting_events_are_sealed_after_t_seconds(
    session: Session, context: AppContext
) -> None:
    clock = Clock()
    ctx = at(context, clock, checkpoint_every=100, checkpoint_seconds=60)
    add_events(session, 1)
    assert checkpoints.checkpoint_if_due(session, ctx) is not None
    add_events(session, 1)
    clock.now += timedelta(seconds=59)
    assert checkpoints.checkpoint_if_due(session, ctx) is None
    clock.now += timedelta(seconds=1)
    late = checkpoints.checkpoint_if_due(session, ctx)
    assert late is not None and late.event_count == 1
    clock.now += timedelta(hours=1)
    assert (
        checkpoints.checkpoint_if_due(session, ctx) is None
    )  # nothing waits: no empty checkpoints


def test_the_job_seals_a_backlog_in_bounded_checkpoints(
    session: Session, context: AppContext
) -> None:
    add_events(session, 7)
    session.commit()  # ends the savepoint: the job works in transactions of its own
    clock = Clock()
    ctx = at(context, clock, checkpoint_every=2, checkpoint_max_events=3, checkpoint_seconds=60)
    assert checkpoints.run_job(ctx) == 2  # 3 + 3; the last one waits for company or time
    assert audit.verify(context).unsealed_events == 1
    clock.now += timedelta(seconds=60)
    assert checkpoints.run_job(ctx) == 1
    with context.database.sessions() as reader:
        counts = reader.scalars(
            select(col(AuditCheckpoint.event_count)).order_by(col(AuditCheckpoint.number))
        ).all()
    assert counts == [3, 3, 1]
    verdict = audit.verify(context)
    assert verdict.ok and verdict.unsealed_events == 0


@pytest.mark.parametrize("sealers", [1, 2, 6])
def test_concurrent_writers_and_sealers_never_fork_or_skip(
    committed_context: Callable[[], AppContext], sealers: int
) -> None:
    """Writers commit out of seq order while sealers race: every event lands in exactly one
    checkpoint, the chain has no fork, and the whole log verifies."""
    context = committed_context()
    done = threading.Event()
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker, screener = actors.worker("KEMLU"), actors.worker("KEMENPPPA")

        def write(n: int) -> int:
            for _ in range(n):
                case = register(client, worker)
                assert fire(client, screener, case, "begin_screening", {}).status_code == 200
            return n

        def seal() -> int:
            made = 0
            while not done.is_set():
                with context.database.transaction() as session:
                    made += checkpoints.checkpoint_pending(session, context) is not None
            return made

        with ThreadPoolExecutor(4 + sealers) as pool:
            sealing = [pool.submit(seal) for _ in range(sealers)]
            writing = [pool.submit(write, 6) for _ in range(4)]
            assert sum(f.result() for f in writing) == 24
            done.set()
            assert sum(f.result() for f in sealing) >= 1
        with context.database.transaction() as session:
            checkpoints.checkpoint_pending(session, context)
        with context.database.sessions() as session:
            total = session.scalar(select(func.count()).select_from(CaseEvent))
            chain = session.scalars(
                select(AuditCheckpoint).order_by(col(AuditCheckpoint.number))
            ).all()
    assert total == 48
    assert [c.number for c in chain] == list(range(1, len(chain) + 1))
    assert sum(c.event_count for c in chain) == total
    verdict = audit.verify(context)
    assert verdict.ok, verdict.problems
    assert verdict.unsealed_events == 0


def test_verifying_while_writers_write_never_raises_a_false_alarm(
    committed_context: Callable[[], AppContext],
) -> None:
    """Verify reads events and case rows from one snapshot: a transition committing between
    the two reads must not look like a deleted or forged event."""
    context = committed_context()
    done = threading.Event()
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker, screener = actors.worker("KEMLU"), actors.worker("KEMENPPPA")

        def write() -> None:
            for _ in range(3):
                case = register(client, worker)
                assert fire(client, screener, case, "begin_screening", {}).status_code == 200

        def check() -> list[str]:
            alarms = []
            while not done.is_set():
                verdict = audit.verify(context)
                alarms += [p.describe() for p in verdict.problems]
            return alarms

        with ThreadPoolExecutor(6) as pool:
            checking = [pool.submit(check) for _ in range(2)]
            for future in [pool.submit(write) for _ in range(4)]:
                future.result()
            done.set()
            assert [alarm for f in checking for alarm in f.result()] == []
