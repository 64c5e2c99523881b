"""Figures per ministry, from the history: open, overdue, on-time rate, median and p90."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from service.cases.repository import parse_case_id
from service.kit.context import AppContext
from service.models import CaseFile
from service.sla.service import percentile
from tests.bulk import Clock
from tests.factories import Actors, User, fire, register

MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # 08:00 WIB; `referred` is due Thursday night


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _stats(client: TestClient, user: User, ministry: str, **params: str) -> Any:
    return client.get(f"/api/v1/ministries/{ministry}/stats", params=params, headers=user.headers)


@pytest.fixture
def three_referrals(client: TestClient, actors: Actors, clock: Clock) -> list[dict[str, Any]]:
    """Registered Monday: one screened an hour later, one ten days later, one still waiting."""
    kemlu, kemenpppa = actors.worker("KEMLU"), actors.worker("KEMENPPPA")
    on_time, late, waiting = (register(client, kemlu) for _ in range(3))
    clock.advance(hours=1)
    assert fire(client, kemenpppa, on_time, "begin_screening", {}).status_code == 200
    clock.advance(days=10)
    assert fire(client, kemenpppa, late, "begin_screening", {}).status_code == 200
    clock.advance(hours=1)
    return [on_time, late, waiting]


def test_figures_of_the_lead_ministry_over_a_month(
    client: TestClient, actors: Actors, three_referrals: list[dict[str, Any]]
) -> None:
    response = _stats(client, actors.supervisor("KEMENPPPA"), "KEMENPPPA",
                      **{"from": "2026-07-01", "to": "2026-07-31"})  # fmt: skip
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["ministry"] == "KEMENPPPA"
    assert (figures["from_date"], figures["to_date"]) == ("2026-07-01", "2026-07-31")
    assert (
        figures["open_cases"] == 1 and figures["overdue"] == 1
    )  # the one still waiting; the steps took 1 h and 241 h
    assert figures["completed_steps"] == 2 and figures["on_time_steps"] == 1
    assert figures["on_time_rate"] == 0.5
    assert figures["states"] == [
        {"state": "referred", "completed": 2, "on_time": 1,
         "median_hours": 121.0, "p90_hours": 217.0},
    ]  # fmt: skip
    pemda = _stats(client, actors.supervisor("PEMDA"), "PEMDA").json()
    assert pemda["open_cases"] == 2 and pemda["overdue"] == 1  # screening: 5 business days
    assert pemda["completed_steps"] == 0 and pemda["on_time_rate"] is None


def test_the_range_selects_the_steps_that_ended_within_it(
    client: TestClient, actors: Actors, three_referrals: list[dict[str, Any]]
) -> None:
    supervisor = actors.supervisor("KEMENPPPA")
    later = _stats(client, supervisor, "KEMENPPPA", **{"from": "2026-07-10"}).json()
    assert later["completed_steps"] == 1 and later["on_time_rate"] == 0.0
    first_day = _stats(
        client, supervisor, "KEMENPPPA", **{"from": "2026-07-06", "to": "2026-07-06"}
    )
    figures = first_day.json()
    assert figures["as_of"].startswith("2026-07-06T17:00:00")  # midnight WIB
    assert figures["completed_steps"] == 1 and figures["on_time_rate"] == 1.0
    assert figures["open_cases"] == 2 and figures["overdue"] == 0


def test_figures_come_from_the_history_not_from_the_case_row(
    client: TestClient,
    actors: Actors,
    session: Session,
    three_referrals: list[dict[str, Any]],
) -> None:
    supervisor = actors.supervisor("KEMENPPPA")
    before = _stats(client, supervisor, "KEMENPPPA").json()
    ids = [parse_case_id(case["id"]) for case in three_referrals]
    session.execute(
        update(CaseFile)
        .where(CaseFile.id.in_(ids))  # type: ignore[attr-defined]
        .values(state="monitoring", ministry="PEMDA", due_at=datetime(2030, 1, 1, tzinfo=UTC))
    )
    session.commit()
    assert _stats(client, supervisor, "KEMENPPPA").json() == before


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("supervisor", "KEMENSOS"), 200),
        (("case_worker", "GUGUS_TUGAS"), 200),
        (("supervisor", "GUGUS_TUGAS"), 200),
        (("auditor", None), 200),
        (("case_worker", "KEMENSOS"), 403),
        (("supervisor", "KEMLU"), 403),
        (("admin", None), 403),
    ],
)
def test_figures_are_for_the_ministrys_supervisors_the_task_force_and_auditors(
    client: TestClient, actors: Actors, who: tuple[str, str | None], status: int
) -> None:
    assert _stats(client, actors.get(*who), "KEMENSOS").status_code == status


def test_bad_stats_requests(client: TestClient, actors: Actors) -> None:
    auditor = actors.auditor()
    assert _stats(client, auditor, "NOPE").status_code == 404
    backwards = _stats(client, auditor, "KEMENSOS", **{"from": "2026-07-02", "to": "2026-07-01"})
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid"
    assert _stats(client, auditor, "KEMENSOS", **{"from": "July"}).status_code == 422


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)
    assert percentile(list(map(float, range(101))), 0.9) == pytest.approx(90.0)
