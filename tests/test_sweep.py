"""The SLA sweep: warnings, breaches and escalations, each recorded once, never on closed cases."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg import _queries as psycopg_queries
from sqlalchemy import event
from sqlmodel import Session, col, select

from schemas.case import CaseCreate
from service.cases import service as cases
from service.kit import db
from service.kit.context import AppContext
from service.kit.errors import VersionConflict
from service.kit.principal import Principal
from service.models import CaseEvent, CaseFile
from service.sla import sweep
from service.sla.sweep import SweepReport
from service.users.service import seed_account
from tests.bulk import Clock
from tests.factories import (
    Actors,
    User,
    fire,
    fire_approved,
    intake_body,
    password_hash,
    register,
    walk_to,
)

SLA_KINDS = ("sla_warning", "sla_breach", "escalated")


MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # 08:00 WIB; no holiday that week


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    """The suite's context on a clock the test moves."""
    return replace(context, clock=clock)


def _definition(context: AppContext) -> Any:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return engine.definition


def _sla_events(client: TestClient, user: User, case: dict[str, Any]) -> list[dict[str, Any]]:
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=user.headers).json()
    return [event for event in history["items"] if event["kind"] in SLA_KINDS]


def _summary(client: TestClient, user: User, ministry: str, case_id: str) -> dict[str, Any]:
    page = client.get(f"/api/v1/queues/{ministry}", headers=user.headers).json()
    [item] = [i for i in page["items"] if i["id"] == case_id]
    summary: dict[str, Any] = item
    return summary


def _escalations(client: TestClient, user: User, **params: Any) -> list[str]:
    response = client.get("/api/v1/escalations", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_step_is_warned_breached_then_escalated_each_once(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = walk_to(client, actors, _definition(context), "identified")  # PEMDA, 72 hours
    pemda, supervisor = actors.worker("PEMDA"), actors.supervisor("PEMDA")
    task_force = actors.worker("GUGUS_TUGAS")

    clock.advance(hours=53)
    assert sweep.sweep(context).cases == 0
    assert _sla_events(client, pemda, case) == []

    clock.advance(hours=2)  # 55 h: past 75% of 72 hours
    assert sweep.sweep(context).warnings == 1
    assert sweep.sweep(context).cases == 0
    [warning] = _sla_events(client, pemda, case)
    assert warning["kind"] == "sla_warning" and warning["actor"] == "system"
    assert warning["payload"]["level"] == "warning" and warning["payload"]["state"] == "identified"
    assert _summary(client, pemda, "PEMDA", case["id"])["sla"] == "warning"
    assert _escalations(client, supervisor) == []

    clock.advance(hours=18)  # 73 h: overdue, with PEMDA's supervisors
    assert sweep.sweep(context).breaches == 1
    summary = _summary(client, pemda, "PEMDA", case["id"])
    assert summary["sla"] == "breached" and summary["overdue"] is True
    assert _escalations(client, supervisor) == [case["id"]]
    assert _escalations(client, task_force) == []
    assert client.get(f"/api/v1/cases/{case['id']}", headers=task_force.headers).status_code == 404

    clock.advance(hours=48)  # 121 h: still overdue 2 days after the breach: the Task Force
    report = sweep.sweep(context)
    assert (report.escalations, report.breaches, report.warnings) == (1, 0, 0)
    assert _escalations(client, task_force) == [case["id"]]
    assert _escalations(client, supervisor) == [case["id"]]
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=task_force.headers)
    assert seen.status_code == 200 and seen.json()["victim"]["identity_visible"] is False
    assert seen.json()["victim"]["full_name"] is None

    clock.advance(days=30)  # the province and nation rungs: a national unit leads, so the
    report = sweep.sweep(context)  # national Task Force was told at once, and not again
    assert (report.cases, report.escalations, report.breaches, report.warnings) == (1, 0, 0, 0)
    assert sweep.sweep(context).cases == 0
    events = _sla_events(client, pemda, case)
    assert [e["kind"] for e in events] == ["sla_warning", "sla_breach", "escalated"]
    assert events[1]["payload"]["notify"] == {
        "ministry": "PEMDA", "role": "supervisor", "unit": "PEMDA-NASIONAL"
    }  # fmt: skip
    assert events[2]["payload"]["notify"] == {
        "ministry": "GUGUS_TUGAS", "unit": "GUGUS_TUGAS-NASIONAL", "rung": "district"
    }  # fmt: skip


def test_a_late_sweep_records_the_breach_and_the_escalation_but_no_stale_warning(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = walk_to(client, actors, _definition(context), "identified")
    clock.advance(days=10)
    report = sweep.sweep(context)
    assert (report.cases, report.warnings, report.breaches, report.escalations) == (1, 0, 1, 1)
    kinds = [e["kind"] for e in _sla_events(client, actors.worker("PEMDA"), case)]
    assert kinds == ["sla_breach", "escalated"]


def test_entering_a_new_state_restarts_the_clock(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = register(client, actors.worker("KEMLU"))
    clock.advance(days=20)
    sweep.sweep(context)
    kemenpppa = actors.worker("KEMENPPPA")
    assert _summary(client, kemenpppa, "KEMENPPPA", case["id"])["sla"] == "escalated"
    moved = fire(client, kemenpppa, case, "begin_screening", {})
    assert moved.status_code == 200
    assert _summary(client, actors.worker("PEMDA"), "PEMDA", case["id"])["sla"] == "on_track"
    assert sweep.sweep(context).cases == 0
    assert _escalations(client, actors.worker("GUGUS_TUGAS")) == []


def test_a_terminal_case_is_never_escalated(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = register(client, actors.worker("KEMLU"))
    kemenpppa, pemda = actors.worker("KEMENPPPA"), actors.worker("PEMDA")
    case = fire(client, kemenpppa, case, "begin_screening", {}).json()
    case = fire_approved(
        client, actors, pemda, case, "decide_not_identified", {"grounds": "no indicators"}
    ).json()
    closed = fire_approved(
        client, actors, kemenpppa, case, "close_not_victim", {"reason": "not_victim"}
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    for days in (1, 10, 100, 1000):
        clock.advance(days=days)
        assert sweep.sweep(context).cases == 0
    assert _sla_events(client, kemenpppa, case) == []
    assert _escalations(client, actors.auditor()) == []


def test_escalation_lists_by_role(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    referred = register(client, actors.worker("KEMLU"))  # KEMENPPPA, 3 business days
    identified = walk_to(client, actors, _definition(context), "identified")  # PEMDA, 72 hours
    clock.advance(days=4)  # both breached, neither escalated yet (at least 1 day to go)
    sweep.sweep(context)
    auditor = actors.auditor()
    assert set(_escalations(client, auditor)) == {referred["id"], identified["id"]}
    assert _escalations(client, auditor, ministry="pemda") == [identified["id"]]
    assert _escalations(client, auditor, level="escalated") == []
    assert _escalations(client, actors.supervisor("KEMENPPPA")) == [referred["id"]]
    clock.advance(days=10)
    sweep.sweep(context)
    task_force = actors.supervisor("GUGUS_TUGAS")
    assert set(_escalations(client, task_force)) == {referred["id"], identified["id"]}
    assert _escalations(client, task_force, level="escalated", ministry="KEMENPPPA") == [
        referred["id"]
    ]
    assert _escalations(client, auditor, level="breached") == []

    for user in (actors.worker("KEMENPPPA"), actors.worker("POLRI"), actors.admin()):
        response = client.get("/api/v1/escalations", headers=user.headers)
        assert response.status_code == 403, user.username
    foreign = client.get(
        "/api/v1/escalations", params={"ministry": "PEMDA"},
        headers=actors.supervisor("KEMENPPPA").headers,
    )  # fmt: skip
    assert foreign.status_code == 403
    unknown = client.get(
        "/api/v1/escalations", params={"ministry": "NOPE"}, headers=auditor.headers
    )
    assert unknown.status_code == 422 and "ministry" in unknown.json()["detail"]


def test_a_batch_that_loses_a_race_is_retried_case_by_case_and_records_once(
    context: AppContext, session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = _worker(context)
    ids = [_register(context, worker) for _ in range(5)]
    clock.advance(days=20)
    real_flush = db.flush_or_conflict
    calls = {"n": 0}

    def lose_the_first_batch(session: Session) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise VersionConflict("another sweeper moved a case of this batch first")
        real_flush(session)

    monkeypatch.setattr(sweep, "flush_or_conflict", lose_the_first_batch)
    report = sweep.sweep(context, batch_size=10)
    assert (report.cases, report.breaches, report.escalations) == (5, 5, 5)
    monkeypatch.undo()
    again = SweepReport()
    sweep._one_by_one(context, ids, clock(), again)  # a loser retrying after the winner
    assert again.cases == 0
    assert _count_sla_events(session) == Counter({"sla_breach": 5, "escalated": 5})


def _worker(context: AppContext) -> Principal:
    with context.database.transaction() as session:
        return seed_account(
            session, f"sweep.worker.{uuid.uuid4().hex[:6]}", password_hash(), "case_worker", "KEMLU"
        )


def _register(context: AppContext, principal: Principal) -> uuid.UUID:
    with context.database.transaction() as session:
        body = CaseCreate.model_validate(intake_body())
        answer = cases.register_case(session, context, principal, body, endpoint="test")
    return uuid.UUID(str(answer.body["id"]))


def _count_sla_events(session: Session) -> Counter[str]:
    kinds = session.exec(select(CaseEvent.kind).where(col(CaseEvent.kind).in_(SLA_KINDS)))
    return Counter(kinds)


SWEEPERS = 4
CASES = 24


def test_concurrent_sweeps_record_each_escalation_once(
    committed_context: Callable[[], AppContext],
) -> None:
    base = committed_context()
    clock = Clock(MONDAY)
    context = replace(base, clock=clock)
    worker = _worker(context)
    ids = [_register(context, worker) for _ in range(CASES)]
    clock.advance(days=20)
    start = threading.Barrier(SWEEPERS, timeout=30)

    def sweeper() -> SweepReport:
        start.wait()
        return sweep.sweep(context, batch_size=3)

    with ThreadPoolExecutor(SWEEPERS) as pool:
        reports = [f.result() for f in [pool.submit(sweeper) for _ in range(SWEEPERS)]]

    assert sum(r.breaches for r in reports) == CASES
    assert sum(r.escalations for r in reports) == CASES
    with context.database.transaction() as session:
        events = session.exec(
            select(CaseEvent).where(col(CaseEvent.case_id).in_(ids)).order_by(col(CaseEvent.seq))
        ).all()
        per_case = Counter((e.case_id, e.kind) for e in events)
        assert all(per_case[(i, "sla_breach")] == 1 for i in ids)
        assert all(per_case[(i, "escalated")] == 1 for i in ids)
        assert not any(kind == "sla_warning" for _, kind in per_case)
        for case_id in ids:
            chain = [e for e in events if e.case_id == case_id]
            assert [e.stream_seq for e in chain] == [1, 2, 3]
            assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
            row = session.get(CaseFile, case_id)
            assert row is not None and row.event_count == 3 and row.sla_next_at is None


def test_a_batch_reads_what_it_consults_once_and_writes_at_its_end(
    context: AppContext, clock: Clock
) -> None:
    """Units, Task Forces and the escalations reached are read once per batch, whatever its
    number of cases, and its rows are written together at its end: nothing in the loop over
    the cases queries (a query there flushed the pending rows case by case, and made the
    sweep of 1% of a million cases take 33 s: issue 17)."""
    worker = _worker(context)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    def swept(cases: int) -> tuple[SweepReport, list[str]]:
        for _ in range(cases):
            _register(context, worker)
        clock.advance(days=20)
        statements.clear()
        event.listen(context.database.engine, "before_cursor_execute", record)
        try:
            report = sweep.sweep(context, batch_size=50)
        finally:
            event.remove(context.database.engine, "before_cursor_execute", record)
        reads = [s for s in statements if s == "SELECT"]
        # the statements in runs: reads, then writes, then the service requests' read
        runs = [kind for kind, _ in itertools.groupby(
            "write" if s in ("INSERT", "UPDATE", "DELETE") else s for s in statements
        )]  # fmt: skip
        return report, [str(len(reads)), *runs]

    two, few = swept(2)
    twenty, many = swept(20)
    assert (two.cases, two.breaches, two.escalations) == (2, 2, 2)
    assert (twenty.cases, twenty.breaches, twenty.escalations) == (20, 20, 20)
    assert many == few
    assert few.count("write") == 1, " ".join(few)


def test_on_postgresql_a_batch_s_events_are_inserted_in_pages_parsed_once(
    context: AppContext, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ORM inserts a batch's events as pages of many rows (one statement each); psycopg
    must keep each page's parsed placeholders, or it parses tens of kilobytes of SQL again for
    every page (a fifth of the sweep's CPU: issue 17)."""
    if context.database.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's statement parsing is PostgreSQL's driver; SQLite has none")
    worker = _worker(context)
    for _ in range(60):  # a breach and an escalation each: a full page and part of another
        _register(context, worker)
    clock.advance(days=20)
    parsed_again: list[int] = []
    uncached = psycopg_queries._query2pg_nocache

    def counting(query: bytes, encoding: str) -> Any:
        if query.startswith(b"INSERT INTO case_event"):
            parsed_again.append(len(query))
        return uncached(query, encoding)

    monkeypatch.setattr(psycopg_queries, "_query2pg_nocache", counting)
    report = sweep.sweep(context, batch_size=500)
    assert (report.cases, report.breaches, report.escalations) == (60, 60, 60)
    assert parsed_again == []
