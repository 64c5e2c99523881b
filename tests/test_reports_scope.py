"""A ministry's monthly report on the demo: for every ministry with a supervisor, the figures
the fast path (`ministry_move`, kept by triggers) gives are those counted one event at a time,
and the rows the triggers kept through the demo's history (hand-overs between ministries,
transfers, closures) are those a rebuild recomputes from the events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.demo.service import DEMO_PASSWORD, load_demo
from service.kit.context import AppContext
from service.models import CaseMinistry, UserAccount
from service.reports.figures import MILESTONES
from tests.bulk import Clock
from tests.report_counts import counted_from_events, kept_moves, rebuilt_and_kept

NOW = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)
PERIODS = (
    {"from": "2026-04-01", "to": "2026-07-06"},  # the demo's whole history
    {"from": "2026-05-20", "to": "2026-06-17"},  # two part months
    {"from": "2026-07-06", "to": "2026-07-06"},  # today, up to now
)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


@pytest.mark.slow
def test_each_ministry_s_monthly_report_is_its_cases_events_counted_one_by_one(
    client: TestClient, context: AppContext, session: Session, clock: Clock
) -> None:
    load_demo(context)
    clock.advance(hours=1)
    scopes = session.exec(select(CaseMinistry.case_id, CaseMinistry.ministry)).all()
    ministries = sorted({ministry for _, ministry in scopes})
    cases_in = {m: sum(1 for _, other in scopes if other == m) for m in ministries}
    assert len(ministries) >= 4 and len(scopes) > len({case for case, _ in scopes})
    compared = 0
    for ministry in ministries:
        supervisors = select(UserAccount).where(
            UserAccount.role == "supervisor", UserAccount.ministry == ministry
        )
        supervisor = session.exec(supervisors).first()
        if supervisor is None:
            continue
        token = client.post("/api/v1/auth/token", data={"username": supervisor.username,
                                                         "password": DEMO_PASSWORD})  # fmt: skip
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for period in PERIODS:
            report = client.get("/api/v1/reports/monthly", params=period, headers=headers)
            assert report.status_code == 200, report.text
            assert report.json()["scope"] == ministry
            got = {m["month"]: {name: m["figures"][name] for name in MILESTONES}
                   for m in report.json()["months"]}  # fmt: skip
            assert got == counted_from_events(session, context, ministry, period, clock.now), (
                ministry, period,
            )  # fmt: skip
        compared += cases_in[ministry]
    assert compared > 10  # the supervisors' ministries hold many of the demo's cases


@pytest.mark.slow
def test_the_demo_s_ministry_moves_are_those_rebuilt_from_the_events(
    context: AppContext, session: Session, clock: Clock
) -> None:
    load_demo(context)
    kept = kept_moves(session)
    assert len(kept) > 50
    assert rebuilt_and_kept(session) == kept
    assert clock.now - NOW == timedelta(0)
