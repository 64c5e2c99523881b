"""Service requests beside the pathway: who may ask, start and end them, their lawful basis,
their start clock in the SLA sweep, and the owning unit's queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from service.kit.context import AppContext
from service.sla import sweep
from tests.bulk import Clock
from tests.factories import Actors, User, fire, pin_workflow, register, walk_to
from tests.web import get, post, visible_text, web_login

MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # 08:00 WIB; no holiday that week
GROUNDS = {"grounds": "bleeding injuries; the victim is not able to consent"}


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _walk(
    client: TestClient, actors: Actors, context: AppContext, state: str = "in_services"
) -> dict[str, Any]:
    """A version-3 case in `state`; a hand-over to a unit that leads the stay is accepted."""
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None and engine.definition.version == 3
    case = walk_to(client, actors, engine.definition, state)
    if case["transfer_to"] is not None:
        url = f"/api/v1/cases/{case['id']}/transfer/accept"
        accepted = client.post(url, headers=actors.worker(case["ministry"]).headers)
        assert accepted.status_code == 200, accepted.text
        case = accepted.json()
    return case


def _without_consent(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    case = _walk(client, actors, context, "identified")
    moved = fire(client, actors.worker("PEMDA"), case, "begin_emergency_care", GROUNDS)
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def _ask(client: TestClient, user: User, case: dict[str, Any], kind: str, **body: Any) -> Response:
    url = f"/api/v1/cases/{case['id']}/services"
    return client.post(url, json={"kind": kind, **body}, headers=user.headers)


def _asked(client: TestClient, user: User, case: dict[str, Any], kind: str, **body: Any) -> Any:
    response = _ask(client, user, case, kind, **body)
    assert response.status_code == 201, response.text
    return response.json()


def _act(
    client: TestClient, user: User, request: dict[str, Any], action: str, version: int | None = None
) -> Response:
    url = f"/api/v1/cases/{request['case_id']}/services/{request['id']}/{action}"
    body = {"expected_version": version or request["version"]}
    return client.post(url, json=body, headers=user.headers)


def _services(client: TestClient, user: User, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case['id']}/services", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _kinds(client: TestClient, actors: Actors, case: dict[str, Any]) -> list[str]:
    url = f"/api/v1/cases/{case['id']}/history"
    items = client.get(url, headers=actors.auditor().headers).json()["items"]
    return [e["kind"] for e in items]


def test_a_victim_is_in_a_shelter_in_treatment_and_protected_by_lpsk_at_once(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _walk(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    shelter = _asked(client, kemensos, case, "shelter", note="RPTC Bambu Apus")
    health = _asked(client, kemensos, case, "health")
    lpsk = _asked(client, actors.worker("LPSK"), case, "lpsk_protection")
    assert [r["ministry"] for r in (shelter, health, lpsk)] == ["KEMENSOS", "KEMENKES", "LPSK"]
    assert all(
        r["lawful_basis"] == "consent" and r["status"] == "requested"
        for r in (shelter, health, lpsk)
    )
    assert datetime.fromisoformat(shelter["start_due_at"]) == MONDAY + timedelta(days=1)
    assert datetime.fromisoformat(health["start_due_at"]) == MONDAY + timedelta(days=7)
    assert "Art. 52(1)" in health["legal_basis"] and "Art. 29" in lpsk["legal_basis"]
    clock.advance(hours=3)
    started = _act(client, kemensos, shelter, "start")
    assert started.status_code == 200 and started.json()["status"] == "started"
    assert started.json()["version"] == 2 and started.json()["late_start"] is False
    treated = _act(client, actors.worker("KEMENKES"), health, "start")
    assert treated.status_code == 200, treated.text
    listed = _services(client, actors.worker("LPSK"), case)
    assert {r["kind"]: r["status"] for r in listed} == {
        "shelter": "started", "health": "started", "lpsk_protection": "requested"
    }  # fmt: skip
    kinds = _kinds(client, actors, case)
    assert kinds.count("service_requested") == 3 and kinds.count("service_started") == 2
    read = client.get(f"/api/v1/cases/{case['id']}", headers=kemensos.headers).json()
    assert read["state"] == "in_services" and read["version"] == case["version"]


def test_only_the_owning_ministry_starts_completes_or_declines_and_the_lead_may_withdraw(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _walk(client, actors, context)
    health = _asked(client, actors.worker("KEMENSOS"), case, "health")
    assert _act(client, actors.worker("KEMENSOS"), health, "start").status_code == 403
    assert _act(client, actors.worker("POLRI"), health, "decline").status_code == 403
    assert _act(client, actors.worker("KEMENDAGRI"), health, "start").status_code == 404
    assert _act(client, actors.auditor(), health, "start").status_code == 403
    assert _ask(client, actors.worker("POLRI"), case, "shelter").status_code == 403
    withdrawn = _act(client, actors.worker("KEMENSOS"), health, "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["ended_at"] is not None


def test_a_stale_version_or_an_action_the_status_does_not_allow_is_409_and_writes_nothing(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _walk(client, actors, context)
    kemenkes = actors.worker("KEMENKES")
    health = _asked(client, actors.worker("KEMENSOS"), case, "health")
    before = _kinds(client, actors, case)
    stale = _act(client, kemenkes, health, "start", version=7)
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    early = _act(client, kemenkes, health, "complete")
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
    assert "action" in early.json()["detail"]
    missing = {**health, "id": "00000000-0000-0000-0000-000000000000"}
    assert _act(client, kemenkes, missing, "start").status_code == 404
    assert _act(client, kemenkes, {**health, "id": "nope"}, "start").status_code == 404
    assert _kinds(client, actors, case) == before
    assert _services(client, kemenkes, case)[0]["version"] == 1


def test_without_consent_a_request_names_a_lawful_basis_its_service_admits(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _without_consent(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    bare = _ask(client, kemensos, case, "shelter")
    assert bare.status_code == 422 and bare.json()["code"] == "lawful_basis_required"
    assert bare.json()["detail"].startswith("lawful_basis:")
    lpsk = _ask(
        client, actors.worker("LPSK"), case, "lpsk_protection", lawful_basis="vital_interest"
    )
    assert lpsk.status_code == 422 and "lawful_basis" in lpsk.json()["detail"]
    shelter = _asked(client, kemensos, case, "shelter", lawful_basis="vital_interest")
    assert shelter["lawful_basis"] == "vital_interest"
    urgent = _asked(client, kemensos, case, "health", emergency=True, lawful_basis="vital_interest")
    assert urgent["emergency"] is True and "Art. 53" in urgent["legal_basis"]
    assert datetime.fromisoformat(urgent["start_due_at"]) == MONDAY + timedelta(hours=24)
    no_urgent = _ask(client, kemensos, case, "legal_aid", emergency=True)
    assert no_urgent.status_code == 422 and no_urgent.json()["detail"].startswith("emergency:")
    url = f"/api/v1/cases/{case['id']}/history"
    events = client.get(url, headers=kemensos.headers).json()["items"]
    asked = [e for e in events if e["kind"] == "service_requested"]
    assert [e["payload"]["_lawful_basis"] for e in asked] == ["vital_interest", "vital_interest"]


def test_one_open_request_per_kind_and_a_new_one_once_it_ends(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _walk(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    shelter = _asked(client, kemensos, case, "shelter")
    again = _ask(client, kemensos, case, "shelter")
    assert again.status_code == 409 and again.json()["code"] == "service_already_open"
    started = _act(client, kemensos, shelter, "start").json()
    assert _act(client, kemensos, started, "complete").status_code == 200
    assert _ask(client, kemensos, case, "shelter").status_code == 201


def test_a_version_2_case_and_a_case_not_yet_identified_have_no_service_requests(
    client: TestClient, actors: Actors, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    screening = _walk(client, actors, context, "screening")
    early = _ask(client, actors.worker("PEMDA"), screening, "psychosocial")
    assert early.status_code == 409 and early.json()["code"] == "service_not_offered"
    pin_workflow(monkeypatch, context, 2)
    old = register(client, actors.worker("KEMENPPPA"))
    assert old["workflow_version"] == 2
    refused = _ask(client, actors.worker("KEMENPPPA"), old, "psychosocial")
    assert refused.status_code == 409 and refused.json()["code"] == "service_not_offered"
    assert _services(client, actors.worker("KEMENPPPA"), old) == []


def test_the_owning_unit_sees_its_open_requests_in_its_queue(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _walk(client, actors, context)
    kemensos, kemenkes = actors.worker("KEMENSOS"), actors.worker("KEMENKES")
    shelter = _asked(client, kemensos, case, "shelter")
    health = _asked(client, kemensos, case, "health")

    def queue(user: User) -> list[str]:
        response = client.get("/api/v1/services/queue", headers=user.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert queue(kemenkes) == [health["id"]] and queue(kemensos) == [shelter["id"]]
    assert queue(actors.worker("LPSK")) == []
    declined = _act(client, kemenkes, health, "decline")
    assert declined.status_code == 200 and queue(kemenkes) == []
    assert client.get("/api/v1/services/queue", headers=actors.auditor().headers).status_code == 403
    paged = client.get("/api/v1/services/queue?limit=1&cursor=bogus", headers=kemensos.headers)
    assert paged.status_code == 422 and paged.json()["code"] == "invalid_cursor"


def test_a_sixty_day_shelter_stay_with_services_started_on_time_has_no_breach(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _walk(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    shelter = _asked(client, kemensos, case, "shelter")
    health = _asked(client, kemensos, case, "health")
    clock.advance(hours=5)
    assert _act(client, kemensos, shelter, "start").status_code == 200
    clock.advance(days=2)
    assert _act(client, actors.worker("KEMENKES"), health, "start").status_code == 200
    review = {"reviewed_on": "2026-08-04", "summary": "shelter and treatment go on"}
    for day in range(1, 61):
        clock.now = MONDAY + timedelta(days=day)
        if day in (29, 58):
            case = client.get(f"/api/v1/cases/{case['id']}", headers=kemensos.headers).json()
            assert fire(client, kemensos, case, "review_care_plan", review).status_code == 200
        report = sweep.sweep(context)
        assert (report.breaches, report.escalations, report.warnings) == (0, 0, 0), day
    kinds = _kinds(client, actors, case)
    assert not [k for k in kinds if "sla" in k or "escalated" in k]
    read = client.get(f"/api/v1/cases/{case['id']}", headers=kemensos.headers).json()
    assert read["state"] == "in_services" and read["sla"] == "on_track"


def test_a_service_not_started_in_seven_days_breaches_and_climbs_the_task_force_ladder(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _walk(client, actors, context)
    kemensos, task_force = actors.worker("KEMENSOS"), actors.worker("GUGUS_TUGAS")
    _asked(client, kemensos, case, "social_rehabilitation")
    clock.advance(days=6)
    report = sweep.sweep(context)
    assert (report.services, report.warnings, report.breaches) == (1, 1, 0)
    clock.advance(days=1, hours=1)  # 7 days and an hour: not started
    report = sweep.sweep(context)
    assert (report.services, report.breaches, report.escalations) == (1, 1, 0)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=task_force.headers).status_code == 404
    [late] = _services(client, kemensos, case)
    assert late["sla"] == "breached" and late["late_start"] is True
    clock.advance(days=3)  # two days past the breach: the Task Force is told
    report = sweep.sweep(context)
    assert report.escalations == 1
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=task_force.headers)
    assert seen.status_code == 200 and seen.json()["victim"]["identity_visible"] is False
    clock.advance(days=30)  # the province and nation rungs reach the same national Task Force
    assert sweep.sweep(context).escalations == 0
    kinds = [k for k in _kinds(client, actors, case) if k.startswith("service_")]
    assert kinds == [
        "service_requested", "service_sla_warning", "service_sla_breach", "service_escalated"
    ]  # fmt: skip
    url = f"/api/v1/cases/{case['id']}/history"
    events = client.get(url, headers=kemensos.headers).json()["items"]
    breach = next(e for e in events if e["kind"] == "service_sla_breach")
    assert breach["payload"]["notify"]["role"] == "supervisor"
    assert breach["payload"]["kind"] == "social_rehabilitation"
    started = _act(client, kemensos, late, "start")
    assert started.status_code == 200 and started.json()["late_start"] is True
    assert client.get(f"/api/v1/cases/{case['id']}", headers=task_force.headers).status_code == 404
    clock.advance(days=30)
    assert sweep.sweep(context).services == 0
    read = client.get(f"/api/v1/cases/{case['id']}", headers=kemensos.headers).json()
    assert read["sla"] == "warning"  # the care plan's review is missed; the stay is not late
    assert "sla_breach" not in _kinds(client, actors, case)


def test_the_audit_trail_still_verifies_with_service_owners_granted_sight(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _walk(client, actors, context)
    lpsk = _asked(client, actors.worker("KEMENSOS"), case, "lpsk_protection")  # LPSK joins
    assert lpsk["unit"] == "LPSK-NASIONAL"
    verified = client.get("/api/v1/audit/verify", headers=actors.auditor().headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text


def test_the_case_page_links_its_services_page_with_each_clock_in_the_callers_language(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _without_consent(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    _asked(client, kemensos, case, "health", emergency=True, lawful_basis="vital_interest")
    viewer = web_login(context, kemensos)
    page = get(client, viewer, f"/cases/{case['id']}")
    assert page.status_code == 200 and f"/cases/{case['id']}/services" in page.text
    listed = get(client, viewer, f"/cases/{case['id']}/services")
    assert listed.status_code == 200, listed.text
    text = visible_text(listed.text)
    assert "KEMENKES" in text and "darurat" in text and "Kepentingan vital" in text
    assert "Siti" not in listed.text  # no identity on this page
    outsider = web_login(context, actors.worker("KEMENDAGRI"))
    assert get(client, outsider, f"/cases/{case['id']}/services").status_code == 404


def test_a_request_left_open_when_the_case_closes_is_not_chased_afterwards(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _walk(client, actors, context)
    kemensos = actors.worker("KEMENSOS")
    _asked(client, kemensos, case, "family_tracing")
    died = {"reason": "deceased", "date_of_death": "2026-07-06"}
    pending = fire(client, kemensos, case, "record_death", died)
    assert pending.status_code == 202
    closed = client.post(
        f"/api/v1/approvals/{pending.json()['approval']['id']}/approve",
        json={"reason": "death certificate seen"},
        headers=actors.supervisor("KEMENSOS").headers,
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    clock.advance(days=30)
    report = sweep.sweep(context)
    assert (report.warnings, report.breaches, report.escalations) == (0, 0, 0)
    assert not [k for k in _kinds(client, actors, case) if k.startswith("service_sla")]
    assert sweep.sweep(context).skipped == 0  # its clock stopped once


def test_the_services_page_asks_for_a_service_and_its_provider_starts_it(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    """In the browser, as for the API: the lead asks for a shelter on the case's services page,
    KEMENSOS sees the request with a start button and starts it; an unknown kind is a clear
    refusal, not a 500."""
    case = _walk(client, actors, context)
    lead = web_login(context, actors.worker(case["ministry"]))
    page = get(client, lead, f"/cases/{case['id']}/services")
    assert page.status_code == 200 and 'name="kind"' in page.text
    asked = post(client, lead, f"/cases/{case['id']}/services", {"kind": "shelter"})
    assert asked.status_code == 303, asked.text
    assert asked.headers["location"].endswith("/services?notice=requested")
    bad = post(client, lead, f"/cases/{case['id']}/services", {"kind": "spa"})
    assert bad.status_code == 422  # a tampered form: the error page, nothing written
    twice = post(client, lead, f"/cases/{case['id']}/services", {"kind": "shelter"})
    assert twice.status_code == 409
    assert "sudah memiliki permintaan terbuka" in visible_text(twice.text)
    [request] = _services(client, actors.worker("KEMENSOS"), case)
    provider = web_login(context, actors.worker("KEMENSOS"))
    shown = get(client, provider, f"/cases/{case['id']}/services")
    start = f"/cases/{case['id']}/services/{request['id']}/start"
    assert f'action="{start}"' in shown.text
    clock.advance(hours=1)
    started = post(client, provider, start, {"expected_version": str(request["version"])})
    assert started.status_code == 303, started.text
    again = post(client, provider, start, {"expected_version": str(request["version"])})
    assert again.status_code == 409  # the version moved on: nothing written twice
    [after] = _services(client, actors.worker("KEMENSOS"), case)
    assert (after["status"], after["late_start"]) == ("started", False)
