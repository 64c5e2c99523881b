"""The demo's figures: the same numbers in every report and download, and the same as a
count made straight from the events and, for the present, from the case rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.demo.service import DEMO_PASSWORD, load_demo
from service.kit.context import AppContext
from service.models import CaseEvent, CaseFile
from tests.bulk import Clock

NOW = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)
RANGE = {"from": "2026-04-01", "to": "2026-07-06"}  # the demo's history: the last 60 days


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _auditor(client: TestClient) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token",
                         data={"username": "auditor", "password": DEMO_PASSWORD})  # fmt: skip
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _count(session: Session, *where: Any) -> int:
    return session.exec(select(func.count()).select_from(CaseEvent).where(*where)).one()


@pytest.mark.slow
def test_the_demo_figures_agree_everywhere(
    client: TestClient, context: AppContext, session: Session, clock: Clock
) -> None:
    load_demo(context)
    clock.advance(hours=1)
    headers = _auditor(client)
    monthly = client.get("/api/v1/reports/monthly", params=RANGE, headers=headers).json()
    by_phase = client.get("/api/v1/reports/breakdown", headers=headers,
                          params={"dimension": "phase", **RANGE}).json()  # fmt: skip
    moved = col(CaseEvent.from_state) != col(CaseEvent.to_state)
    created = _count(session, col(CaseEvent.kind) == "created")
    identified = _count(session, col(CaseEvent.trigger) == "identify", moved)
    closed = _count(session, col(CaseEvent.to_state) == "closed", moved)
    assert created > 20 and identified > 5 and closed > 0  # the demo has all of these
    assert monthly["totals"]["referrals"] == by_phase["totals"]["referrals"] == created
    assert monthly["totals"]["identifications"] == by_phase["totals"]["victims"] == identified
    assert monthly["totals"]["closures"] == closed
    # as of now the history and the case rows agree on where every case stands
    rows = Counter(session.exec(select(CaseFile.phase)).all())
    assert {r["key"]["phase"]: r["referrals"] for r in by_phase["rows"]} == dict(rows)
    closed_now = session.exec(select(func.count()).where(col(CaseFile.state) == "closed")).one()
    assert by_phase["totals"]["open"] == created - closed_now  # closure's other states are open
    # the published table adds up to the victims, or hides what it must
    table = client.get("/api/v1/publication/tables", headers=headers,
                       params={"dimension": "child", **RANGE})  # fmt: skip
    if table.status_code == 200:
        total = next(m["victims"] for m in table.json()["margins"] if m["key"] == {})
        assert total in (identified, None)
        assert all(c["victims"] is None or c["victims"] >= 11 for c in table.json()["cells"])
    else:
        assert table.json()["code"] == "all_suppressed"
    assert clock.now - NOW == timedelta(hours=1)
