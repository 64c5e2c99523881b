"""Sixteen clients fire at the same version at once: exactly one wins, one event is written."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from service.app import create_app
from service.context import AppContext
from service.models import CaseEvent
from service.repositories import cases as repo
from tests.factories import Actors, fire, race_after_reading, register

CLIENTS = 16


def test_sixteen_concurrent_transitions_at_one_version_one_succeeds(
    committed_context: Callable[[], AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    context = committed_context()
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
