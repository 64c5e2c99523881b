"""Sixteen clients fire at the same version at once: exactly one wins, one event is written."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, func, select

from service.app import create_app
from service.audit import repository as audit_repository
from service.cases import firing, transition_core
from service.cases import repository as repo
from service.kit.context import AppContext
from service.models import CaseEvent, CaseFile
from tests.factories import Actors, fire, intake_body, race_after_reading, register

CLIENTS = 16


def test_sixteen_concurrent_transitions_at_one_version_one_succeeds(
    committed_context: Callable[..., AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    context = committed_context(pool_size=CLIENTS)  # a thread for each, as 16 workers would
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker = actors.worker("KEMENPPPA")
        case = register(client, actors.worker("KEMLU"))
        race_after_reading(monkeypatch, context, CLIENTS)
        with ThreadPoolExecutor(CLIENTS) as pool:
            started = time.monotonic()
            futures = [
                pool.submit(fire, client, worker, case, "begin_screening", {})
                for _ in range(CLIENTS)
            ]
            responses = [f.result() for f in futures]
        assert time.monotonic() - started < 60
        outcomes = Counter(r.status_code for r in responses)
        assert outcomes == {200: 1, 409: CLIENTS - 1}, [r.text for r in responses]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"version_conflict"}
        with context.database.transaction() as session:
            events = session.exec(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == repo.parse_case_id(case["id"]))
            ).one()
        assert events == 2  # the creation and the one transition that won


def test_a_change_between_read_and_write_is_refused_by_the_compare_and_set(
    client: TestClient, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On either database: another writer commits after this transition read the case (here
    simulated on the same connection, since SQLite serialises writers before they read). The
    pre-check on `expected_version` has passed; the row's compare-and-set must catch it, and
    nothing of the transition may be written."""
    worker = actors.worker("KEMENPPPA")
    case = register(client, actors.worker("KEMLU"))
    real_check = transition_core.check

    def check_then_race(context: AppContext, principal: Any, loaded: Any, command: Any) -> Any:
        result = real_check(context, principal, loaded, command)
        with context.database.transaction() as other:
            other.connection().execute(
                update(CaseFile)
                .where(col(CaseFile.id) == loaded.case.id)
                .values(event_count=CaseFile.event_count + 1)
            )
        return result

    monkeypatch.setattr(firing, "check", check_then_race)
    moved = fire(client, worker, case, "begin_screening", {})
    assert moved.status_code == 409 and moved.json()["code"] == "version_conflict", moved.text
    assert "changed while" in moved.json()["detail"]
    monkeypatch.undo()
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=worker.headers).json()
    assert [event["kind"] for event in history["items"]] == ["created"]


def test_a_transition_commits_while_a_verify_is_reading(
    committed_context: Callable[..., AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET is a read-only snapshot: a long verify holds no write lock (on SQLite a write
    transaction would keep every writer waiting until it ends, then 503)."""
    context = committed_context()
    reading, release = threading.Event(), threading.Event()
    real_heads = audit_repository.stream_heads  # the named streams' heads: read by every path

    def heads_after_a_pause(session: Any) -> Any:
        reading.set()
        assert release.wait(30)
        yield from real_heads(session)

    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker, auditor = actors.worker("KEMENPPPA"), actors.auditor()
        case = register(client, actors.worker("KEMLU"))
        monkeypatch.setattr(audit_repository, "stream_heads", heads_after_a_pause)
        with ThreadPoolExecutor(2) as pool:
            verifying = pool.submit(client.get, "/api/v1/audit/verify", headers=auditor.headers)
            assert reading.wait(30), "the verify never started reading"
            moving = pool.submit(fire, client, worker, case, "begin_screening", {})
            try:
                moved = moving.result(timeout=5)
            finally:
                release.set()
            verdict = verifying.result(timeout=30)
        assert moved.status_code == 200, moved.text
        assert verdict.status_code == 200 and verdict.json()["ok"] is True, verdict.text


def test_concurrent_retries_with_one_key_get_the_first_answer(
    committed_context: Callable[..., AppContext],
) -> None:
    """Eight clients retry one keyed intake and one keyed transition at once: one case, one
    transition, every answer the first one (never a 500, never a version conflict)."""
    context = committed_context()
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        kemlu, kemenpppa = actors.worker("KEMLU"), actors.worker("KEMENPPPA")
        headers = {**kemlu.headers, "Idempotency-Key": "manifest-row-7"}
        with ThreadPoolExecutor(8) as pool:
            intakes = list(
                pool.map(
                    lambda _: client.post("/api/v1/cases", json=intake_body(), headers=headers),
                    range(8),
                )
            )
        assert {r.status_code for r in intakes} == {201}, [r.text for r in intakes]
        assert len({r.json()["id"] for r in intakes}) == 1
        case = intakes[0].json()
        with ThreadPoolExecutor(8) as pool:
            moves = list(
                pool.map(
                    lambda _: fire(client, kemenpppa, case, "begin_screening", {}, key="move-1"),
                    range(8),
                )
            )
        assert {r.status_code for r in moves} == {200}, [r.text for r in moves]
        assert {r.json()["version"] for r in moves} == {case["version"] + 1}
        with context.database.snapshot() as session:
            cases = session.exec(select(func.count()).select_from(CaseFile)).one()
            events = session.exec(
                select(func.count()).where(CaseEvent.case_id == repo.parse_case_id(case["id"]))
            ).one()
        assert (cases, events) == (1, 2)
