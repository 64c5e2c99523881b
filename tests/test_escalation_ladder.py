"""The Task Force ladder (district, province, nation) and the hand-over's own clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.auth.service import open_session
from service.kit.context import AppContext
from service.models import utcnow
from service.sla import sweep
from service.users.service import seed_account
from tests.bulk import Clock
from tests.factories import Actors, User, fire, password_hash, register
from tests.web import get, visible_text, web_login

MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # 08:00 WIB; no holiday for three weeks
_names = count(1)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _unit(client: TestClient, actors: Actors, code: str, level: str, region: str) -> None:
    ministry = code.split("-")[0]
    body = {"code": code, "name": code, "ministry": ministry, "level": level,
            "region_code": region}  # fmt: skip
    response = client.post("/api/v1/units", json=body, headers=actors.admin().headers)
    assert response.status_code == 201, response.text


def _member(context: AppContext, unit: str, role: str = "supervisor") -> User:
    name = f"{role}.{unit.lower()}.{next(_names)}"
    with context.database.transaction() as session:
        principal = seed_account(session, name, password_hash(), role, None, unit)
        assert principal.user_id is not None
        tokens = open_session(session, context, principal.user_id, utcnow())
    return User(principal.user_id, name, role, principal.ministry, tokens.access_token)


@pytest.fixture
def places(client: TestClient, actors: Actors) -> None:
    """PEMDA's offices in NTT, and Task Forces in Kota Kupang, another district and NTT."""
    _unit(client, actors, "PEMDA-53", "province", "53")
    _unit(client, actors, "PEMDA-53.71", "district", "53.71")
    _unit(client, actors, "GUGUS_TUGAS-53", "province", "53")
    _unit(client, actors, "GUGUS_TUGAS-53.71", "district", "53.71")
    _unit(client, actors, "GUGUS_TUGAS-53.01", "district", "53.01")


def _led_by(client: TestClient, actors: Actors, context: AppContext, unit: str) -> dict[str, Any]:
    """A case in screening, handed to `unit` and accepted by it on MONDAY."""
    case = register(client, actors.worker("KEMLU"))
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, to_unit=unit)
    assert moved.status_code == 200, moved.text
    receiver = _member(context, unit, "case_worker")
    accepted = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=receiver.headers)
    assert accepted.status_code == 200, accepted.text
    body: dict[str, Any] = accepted.json()
    return body


def _sees(client: TestClient, user: User, case: dict[str, Any]) -> bool:
    read = client.get(f"/api/v1/cases/{case['id']}", headers=user.headers)
    assert read.status_code in (200, 404), read.text
    if read.status_code == 200:
        assert read.json()["victim"]["identity_visible"] is False  # a Task Force never does
        assert "Siti Rahayu" not in read.text
        listed = client.get("/api/v1/escalations", headers=user.headers).json()["items"]
        assert case["id"] in [item["id"] for item in listed]
    return read.status_code == 200


def _escalations(client: TestClient, actors: Actors, case: dict[str, Any]) -> list[Any]:
    history = client.get(
        f"/api/v1/cases/{case['id']}/history", headers=actors.auditor().headers
    ).json()["items"]
    return [e["payload"]["notify"] for e in history if e["kind"] == "escalated"]


def test_an_overdue_step_climbs_from_the_district_task_force_to_the_province_and_the_nation(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = _led_by(client, actors, context, "PEMDA-53.71")  # screening: 5 business days
    district = _member(context, "GUGUS_TUGAS-53.71")
    province = _member(context, "GUGUS_TUGAS-53")
    nation = actors.supervisor("GUGUS_TUGAS")
    other_district = _member(context, "GUGUS_TUGAS-53.01")

    clock.advance(days=8, hours=12)  # due at the end of Monday 13 July: breached
    assert sweep.sweep(context).breaches == 1
    assert not any(_sees(client, tf, case) for tf in (district, province, nation))

    clock.advance(days=1, hours=12)  # 2 days past the breach: the district's Task Force
    assert sweep.sweep(context).escalations == 1
    assert [_sees(client, tf, case) for tf in (district, province, nation)] == [True, False, False]

    clock.advance(days=5)  # 2 business days more: the province's
    assert sweep.sweep(context).escalations == 1
    assert [_sees(client, tf, case) for tf in (district, province, nation)] == [True, True, False]

    clock.advance(days=4)  # 3 business days more (to the end of Friday 24 July): the nation's
    assert sweep.sweep(context).escalations == 1
    assert [_sees(client, tf, case) for tf in (district, province, nation)] == [True, True, True]
    assert not _sees(client, other_district, case)
    assert _escalations(client, actors, case) == [
        {"ministry": "GUGUS_TUGAS", "unit": unit, "rung": rung}
        for unit, rung in [("GUGUS_TUGAS-53.71", "district"), ("GUGUS_TUGAS-53", "province"),
                           ("GUGUS_TUGAS-NASIONAL", "national")]
    ]  # fmt: skip
    clock.advance(days=30)
    assert sweep.sweep(context).cases == 0  # nothing above the nation

    worker = _member(context, "PEMDA-53.71", "case_worker")
    moved = fire(client, worker, case, "identify", {"indicators": ["exploitation"]})
    assert moved.status_code in (200, 202), moved.text
    if moved.status_code == 202:  # four eyes: the unit's supervisor decides
        supervisor = _member(context, "PEMDA-53.71")
        approval = moved.json()["approval"]["id"]
        decided = client.post(
            f"/api/v1/approvals/{approval}/approve", json={"reason": "clear indicators"},
            headers=supervisor.headers,
        )  # fmt: skip
        assert decided.status_code == 200, decided.text
    assert not any(_sees(client, tf, case) for tf in (district, province, nation))  # new step


def test_a_rung_without_a_task_force_passes_to_the_next_one_up_and_tells_it_once(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = _led_by(client, actors, context, "PEMDA-53")  # a province unit: no district rung
    province = _member(context, "GUGUS_TUGAS-53")
    clock.advance(days=10)
    report = sweep.sweep(context)
    assert (report.breaches, report.escalations) == (1, 1)
    assert _sees(client, province, case)
    clock.advance(days=5)  # the province rung: that Task Force already has it
    assert sweep.sweep(context).escalations == 0
    clock.advance(days=4)
    assert sweep.sweep(context).escalations == 1
    assert [n["unit"] for n in _escalations(client, actors, case)] == [
        "GUGUS_TUGAS-53", "GUGUS_TUGAS-NASIONAL"
    ]  # fmt: skip


def test_a_hand_over_not_accepted_within_a_business_day_breaches_and_escalates_itself(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = register(client, actors.worker("KEMLU"))
    moved = fire(
        client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, to_unit="PEMDA-53.71"
    ).json()
    step_due = moved["due_at"]
    clock.advance(hours=31)  # past 75% of its time: due at the end of Tuesday, WIB
    assert sweep.sweep(context).warnings == 1
    clock.advance(hours=10)  # Tuesday 18:00 UTC: the hand-over is late
    assert sweep.sweep(context).breaches == 1
    clock.advance(days=2)  # one business day more: the sender's Task Force (a national unit)
    assert sweep.sweep(context).escalations == 1
    history = client.get(
        f"/api/v1/cases/{case['id']}/history", headers=actors.auditor().headers
    ).json()["items"]
    late = [e for e in history if e["kind"] in ("sla_warning", "sla_breach", "escalated")]
    assert {e["payload"]["transfer_to"] for e in late} == {"PEMDA-53.71"}
    assert late[0]["payload"]["notify"] == {"ministry": "PEMDA", "unit": "PEMDA-53.71"}
    receiver = _member(context, "PEMDA-53.71", "case_worker")
    read = client.get(f"/api/v1/cases/{case['id']}", headers=receiver.headers).json()
    assert read["due_at"] == step_due and read["sla"] == "escalated"  # the step's own due
    accepted = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=receiver.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["sla"] == "on_track" and accepted.json()["due_at"] > step_due
    assert sweep.sweep(context).cases == 0  # the step's clock starts again from acceptance


def test_a_declined_hand_over_starts_the_steps_clock_again_for_the_sender(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = register(client, actors.worker("KEMLU"))
    fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, to_unit="PEMDA-53.71")
    clock.advance(days=2)
    assert sweep.sweep(context).breaches == 1
    receiver = _member(context, "PEMDA-53.71")
    declined = client.post(
        f"/api/v1/cases/{case['id']}/transfer/decline", json={"reason": "not ours"},
        headers=receiver.headers,
    )  # fmt: skip
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["sla"] == "on_track" and body["transfer_to"] is None
    assert datetime.fromisoformat(body["due_at"]) > clock.now + timedelta(days=4)


def test_the_escalations_page_shows_a_task_force_the_rung_and_the_unit_it_reached(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = _led_by(client, actors, context, "PEMDA-53.71")
    district = _member(context, "GUGUS_TUGAS-53.71", "case_worker")
    clock.advance(days=8, hours=12)
    sweep.sweep(context)
    clock.advance(days=1, hours=12)
    assert sweep.sweep(context).escalations == 1
    page = get(client, web_login(context, district.username), "/escalations")
    assert page.status_code == 200 and case["reference"] in page.text
    text = visible_text(page.text)
    assert "Jenjang Gugus Tugas kabupaten/kota" in text
    assert "Gugus Tugas yang dicapai GUGUS_TUGAS-53.71" in text
    assert "Siti Rahayu" not in page.text


def test_a_late_sweep_that_climbs_two_rungs_at_once_shows_the_higher_one(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock, places: None
) -> None:
    case = _led_by(client, actors, context, "PEMDA-53.71")
    province = _member(context, "GUGUS_TUGAS-53", "case_worker")
    clock.advance(days=15)  # breach, district and province all fall due before this sweep
    report = sweep.sweep(context)
    assert (report.breaches, report.escalations) == (1, 2)
    text = visible_text(get(client, web_login(context, province.username), "/escalations").text)
    assert case["reference"] in text
    assert "Gugus Tugas yang dicapai GUGUS_TUGAS-53 " in text + " "


def test_a_task_force_member_s_figures_link_their_unit_and_region(
    client: TestClient, actors: Actors, context: AppContext, places: None
) -> None:
    member = web_login(context, _member(context, "GUGUS_TUGAS-53", "case_worker").username)
    chooser = get(client, member, "/figures")
    assert 'href="/figures/units/GUGUS_TUGAS-53"' in chooser.text
    assert 'href="/figures/regions/53"' in chooser.text
    region = get(client, member, "/figures/regions/53")
    assert region.status_code == 200 and 'href="/figures/units/' not in region.text
    assert "PEMDA" in visible_text(region.text)
    assert get(client, member, "/figures/regions/21").status_code == 403  # not their region
