"""Figures per unit, rolled up over the units below, and per region: from the history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.kit.context import AppContext
from tests.bulk import Clock
from tests.factories import Actors, User, fire, register
from tests.test_escalation_ladder import _member, _unit

MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _handed(client: TestClient, actors: Actors, unit: str) -> dict[str, Any]:
    case = register(client, actors.worker("KEMLU"))
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, to_unit=unit)
    assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    return body


def _stats(client: TestClient, user: User, path: str, **params: str) -> Any:
    return client.get(f"/api/v1/{path}/stats", params=params, headers=user.headers)


@pytest.fixture
def history(client: TestClient, actors: Actors, context: AppContext, clock: Clock) -> None:
    """In NTT: one hand-over accepted and its step done, one declined, one still waiting."""
    for code, level, region in [
        ("PEMDA-53", "province", "53"), ("PEMDA-53.71", "district", "53.71"),
        ("PEMDA-53.01", "district", "53.01"), ("GUGUS_TUGAS-53", "province", "53"),
        ("GUGUS_TUGAS-53.01", "district", "53.01"),
    ]:  # fmt: skip
        _unit(client, actors, code, level, region)
    accepted = _handed(client, actors, "PEMDA-53.71")
    declined = _handed(client, actors, "PEMDA-53.01")
    _handed(client, actors, "PEMDA-53.71")  # waits
    clock.advance(hours=2)
    kota = _member(context, "PEMDA-53.71", "case_worker")
    taken = client.post(f"/api/v1/cases/{accepted['id']}/transfer/accept", headers=kota.headers)
    assert taken.status_code == 200, taken.text
    refusal = client.post(
        f"/api/v1/cases/{declined['id']}/transfer/decline", json={"reason": "not ours"},
        headers=_member(context, "PEMDA-53.01").headers,
    )  # fmt: skip
    assert refusal.status_code == 200, refusal.text
    clock.advance(hours=10)
    pending = fire(client, kota, taken.json(), "identify", {"indicators": ["exploitation"]})
    approval = pending.json()["approval"]["id"]
    decided = client.post(
        f"/api/v1/approvals/{approval}/approve", json={"reason": "clear indicators"},
        headers=_member(context, "PEMDA-53.71").headers,
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    clock.advance(days=3)  # the waiting hand-over is now late


def test_a_unit_counts_the_steps_it_led_and_the_hand_overs_it_accepted(
    client: TestClient, context: AppContext, history: None
) -> None:
    response = _stats(client, _member(context, "PEMDA-53.71"), "units/PEMDA-53.71")
    assert response.status_code == 200, response.text
    figures = response.json()
    assert (figures["completed_steps"], figures["on_time_steps"]) == (1, 1)
    [screening] = figures["states"]
    assert screening["state"] == "screening" and screening["median_hours"] == 10.0
    assert figures["open_cases"] == 1  # identified, still with the city's office
    assert figures["handovers"] == {
        "accepted": 1, "accepted_on_time": 1, "median_hours_to_accept": 2.0, "declined": 0,
        "waiting": 1, "waiting_overdue": 1,
    }  # fmt: skip
    assert figures["below"] == []


def test_a_province_rolls_up_its_districts_with_one_line_each(
    client: TestClient, context: AppContext, history: None
) -> None:
    figures = _stats(client, _member(context, "PEMDA-53"), "units/PEMDA-53").json()
    assert figures["completed_steps"] == 1 and figures["handovers"]["declined"] == 1
    assert figures["handovers"]["accepted"] == 1 and figures["handovers"]["waiting"] == 1
    lines = {line["code"]: line for line in figures["below"]}
    assert set(lines) == {"PEMDA-53.71", "PEMDA-53.01"}
    assert lines["PEMDA-53.71"]["completed_steps"] == 1
    assert lines["PEMDA-53.01"]["completed_steps"] == 0
    national = _stats(client, _member(context, "PEMDA-NASIONAL"), "units/PEMDA-NASIONAL").json()
    assert national["handovers"]["declined"] == 1 and national["completed_steps"] == 1


def test_a_region_shows_every_ministry_to_its_task_force_and_auditors(
    client: TestClient, actors: Actors, context: AppContext, history: None
) -> None:
    province = _stats(client, _member(context, "GUGUS_TUGAS-53"), "regions/53")
    assert province.status_code == 200, province.text
    lines = {line["code"]: line for line in province.json()["ministries"]}
    assert lines["PEMDA"]["completed_steps"] == 1 and lines["GUGUS_TUGAS"]["open_cases"] == 0
    assert province.json()["region_name"] == "Nusa Tenggara Timur"
    assert _stats(client, actors.auditor(), "regions/53.71").status_code == 200
    district_tf = _member(context, "GUGUS_TUGAS-53.01")
    assert _stats(client, district_tf, "regions/53.01").status_code == 200
    assert _stats(client, district_tf, "regions/53").json()["code"] == "forbidden"
    assert _stats(client, district_tf, "units/PEMDA-53.01").status_code == 200
    assert _stats(client, district_tf, "units/PEMDA-53.71").status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("units/NOPE-1", {}, 404),
        ("regions/99", {}, 404),
        ("units/PEMDA-53.71", {"from": "2026-07-10", "to": "2026-07-01"}, 422),
    ],
)
def test_unknown_places_and_bad_ranges_are_refused(
    client: TestClient, actors: Actors, history: None, path: str, params: dict[str, str],
    status: int,
) -> None:  # fmt: skip
    response = _stats(client, actors.auditor(), path, **params)
    assert response.status_code == status and response.json()["code"]


def test_another_districts_supervisor_may_not_read_a_units_figures(
    client: TestClient, context: AppContext, history: None
) -> None:
    response = _stats(client, _member(context, "PEMDA-53.01"), "units/PEMDA-53.71")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_hand_over_accepted_by_acting_counts_the_step_from_the_hand_over(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    _unit(client, actors, "PEMDA-53", "province", "53")
    _unit(client, actors, "PEMDA-53.71", "district", "53.71")
    case = _handed(client, actors, "PEMDA-53.71")
    clock.advance(hours=3)
    kota = _member(context, "PEMDA-53.71", "case_worker")
    pending = fire(client, kota, case, "identify", {"indicators": ["exploitation"]})
    assert pending.status_code == 202, pending.text
    clock.advance(hours=2)
    decided = client.post(
        f"/api/v1/approvals/{pending.json()['approval']['id']}/approve",
        json={"reason": "clear indicators"}, headers=_member(context, "PEMDA-53.71").headers,
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    clock.advance(minutes=1)  # the figures describe the time before now
    figures = _stats(client, _member(context, "PEMDA-53.71"), "units/PEMDA-53.71").json()
    assert figures["handovers"]["accepted"] == 1
    assert figures["handovers"]["median_hours_to_accept"] == 5.0
    [screening] = figures["states"]
    assert screening["completed"] == 1 and screening["median_hours"] == 5.0  # not 0
