"""Units: offices by level and region; a step belongs to a unit; hand-overs are accepted;
identity is need-to-know by unit."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from service.auth.service import principal_of
from service.cases import service as cases
from service.kit.context import AppContext
from service.models import CaseEvent, UserAccount
from service.users.service import seed_account
from tests.factories import Actors, User, fire, intake_body, password_hash, register

_codes = count(1)


def _unit(client: TestClient, actors: Actors, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/units", json=fields, headers=actors.admin().headers)
    assert response.status_code == 201, response.text
    unit: dict[str, Any] = response.json()
    return unit


def _member(context: AppContext, role: str, unit: str) -> User:
    """A case worker or supervisor of `unit`, logged in."""
    from service.auth.service import open_session
    from service.models import utcnow

    name = f"{role}.{unit.lower()}.{next(_codes)}"
    with context.database.transaction() as session:
        principal = seed_account(session, name, password_hash(), role, None, unit)
        assert principal.user_id is not None
        tokens = open_session(session, context, principal.user_id, utcnow())
    return User(principal.user_id, name, role, principal.ministry, tokens.access_token)


@pytest.fixture
def ntt(client: TestClient, actors: Actors) -> dict[str, dict[str, Any]]:
    """PEMDA's offices on a victim's way home to Nusa Tenggara Timur, and one in Kepri."""
    return {
        "province": _unit(client, actors, code="PEMDA-53", name="UPTD PPA Provinsi NTT",
                          ministry="PEMDA", level="province", region_code="53"),
        "kota": _unit(client, actors, code="PEMDA-53.71", name="UPTD PPA Kota Kupang",
                      ministry="PEMDA", level="district", region_code="53.71"),
        "kabupaten": _unit(client, actors, code="PEMDA-53.01", name="UPTD PPA Kab. Kupang",
                           ministry="PEMDA", level="district", region_code="53.01"),
        "kepri": _unit(client, actors, code="PEMDA-21", name="UPTD PPA Provinsi Kepri",
                       ministry="PEMDA", level="province", region_code="21"),
    }  # fmt: skip


def test_units_are_placed_by_region_code_under_their_province_and_national_unit(
    ntt: dict[str, dict[str, Any]],
) -> None:
    assert ntt["province"]["parent"] == "PEMDA-NASIONAL"
    assert ntt["province"]["region_name"] == "Nusa Tenggara Timur"
    assert ntt["kota"]["parent"] == "PEMDA-53" and ntt["kota"]["region_name"] == "Kota Kupang"
    assert ntt["kepri"]["region_name"] == "Kepulauan Riau"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"level": "district", "region_code": "53"}, "region_code"),  # a province's code
        ({"level": "province", "region_code": "99"}, "region_code"),  # no such province
        ({"level": "mission"}, "country"),
        ({"level": "national", "region_code": "53"}, "region_code"),
        ({"level": "province", "region_code": "53", "ministry": "NOPE"}, "ministry"),
    ],
)
def test_bad_units_are_refused_naming_the_field(
    client: TestClient, actors: Actors, fields: dict[str, Any], field: str
) -> None:
    body = {"code": "X-1", "name": "a unit", "ministry": "PEMDA", **fields}
    response = client.post("/api/v1/units", json=body, headers=actors.admin().headers)
    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"])


def test_only_admins_open_units_each_change_is_an_audit_event_and_codes_are_unique(
    client: TestClient, actors: Actors, session: Session
) -> None:
    body = {"code": "KEMLU-KL", "name": "KBRI Kuala Lumpur", "ministry": "KEMLU",
            "level": "mission", "country": "MY"}  # fmt: skip
    kemlu = actors.supervisor("KEMLU")
    refused = client.post("/api/v1/units", json=body, headers=kemlu.headers)
    assert refused.status_code == 403
    assert (
        client.post("/api/v1/units", json=body, headers=actors.admin().headers).status_code == 201
    )
    again = client.post("/api/v1/units", json=body, headers=actors.admin().headers)
    assert again.status_code == 409
    renamed = client.patch(
        "/api/v1/units/KEMLU-KL", json={"name": "KBRI KL"}, headers=actors.admin().headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "KBRI KL"
    kinds = session.exec(
        select(CaseEvent.kind).where(col(CaseEvent.stream) == "units").order_by(col(CaseEvent.seq))
    ).all()
    assert kinds[-2:] == ["unit_created", "unit_updated"]


def test_a_user_belongs_to_one_unit_and_their_ministry_follows_from_it(
    client: TestClient, actors: Actors, ntt: dict[str, dict[str, Any]]
) -> None:
    body = {"username": "maria.kupang", "role": "case_worker", "unit": "PEMDA-53.71",
            "password": "kupang kota 2026 aman"}  # fmt: skip
    made = client.post("/api/v1/users", json=body, headers=actors.admin().headers)
    assert made.status_code == 201, made.text
    assert made.json()["ministry"] == "PEMDA" and made.json()["unit"] == "PEMDA-53.71"
    wrong = {**body, "username": "maria.two", "ministry": "KEMENSOS"}
    response = client.post("/api/v1/users", json=wrong, headers=actors.admin().headers)
    assert response.status_code == 422 and "unit" in response.json()["detail"]
    unknown = {**body, "username": "maria.three", "unit": "NOWHERE"}
    assert (
        client.post("/api/v1/users", json=unknown, headers=actors.admin().headers).status_code
        == 422
    )


def _screened_to(client: TestClient, actors: Actors, unit: str) -> dict[str, Any]:
    """A referral screened by KEMENPPPA and handed to `unit` (a PEMDA unit) to identify."""
    case = register(client, actors.worker("KEMLU"), intake_body())
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, to_unit=unit)
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def test_a_hand_over_waits_in_the_receivers_incoming_list_until_it_accepts(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    assert case["ministry"] == "PEMDA" and case["unit"] == "KEMENPPPA-NASIONAL"
    assert case["transfer_to"] == "PEMDA-53.71"
    kota = _member(context, "case_worker", "PEMDA-53.71")
    incoming = client.get("/api/v1/units/PEMDA-53.71/incoming", headers=kota.headers).json()
    assert [item["id"] for item in incoming["items"]] == [case["id"]]
    accepted = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["unit"] == "PEMDA-53.71" and body["transfer_to"] is None
    assert body["state_entered_at"] > case["state_entered_at"]  # the step's clock starts now
    queue = client.get("/api/v1/units/PEMDA-53.71/queue", headers=kota.headers).json()
    assert [item["id"] for item in queue["items"]] == [case["id"]]
    assert (
        client.get("/api/v1/units/PEMDA-53.71/incoming", headers=kota.headers).json()["items"] == []
    )
    again = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers)
    assert again.status_code == 409 and again.json()["code"] == "no_transfer"


def test_a_declined_hand_over_returns_to_the_sender_who_names_another_unit(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.01")
    kabupaten = _member(context, "supervisor", "PEMDA-53.01")
    before = client.get(f"/api/v1/cases/{case['id']}", headers=kabupaten.headers).json()
    assert before["victim"]["identity_visible"] is True  # it must know whom it would receive
    declined = client.post(
        f"/api/v1/cases/{case['id']}/transfer/decline",
        json={"reason": "the victim lives in the city, not the regency"},
        headers=kabupaten.headers,
    )
    assert declined.status_code == 200, declined.text
    after = client.get(f"/api/v1/cases/{case['id']}", headers=kabupaten.headers).json()
    assert after["transfer_to"] is None and after["unit"] == "KEMENPPPA-NASIONAL"
    assert after["victim"]["identity_visible"] is False and after["victim"]["full_name"] is None
    acting = fire(client, kabupaten, after, "identify", {"indicators": ["exploitation"]})
    assert acting.status_code == 403  # not its step any more
    rerouted = client.put(
        f"/api/v1/cases/{case['id']}/transfer",
        json={"to_unit": "PEMDA-53.71"},
        headers=actors.worker("KEMENPPPA").headers,
    )
    assert rerouted.status_code == 200 and rerouted.json()["transfer_to"] == "PEMDA-53.71"
    history = client.get(  # a reader of the case: the reason opens (auditors see it sealed)
        f"/api/v1/cases/{case['id']}/history", headers=actors.worker("KEMENPPPA").headers
    ).json()["items"]
    assert [e["kind"] for e in history][-2:] == ["transfer_declined", "transfer_rerouted"]
    assert history[-2]["note"] == "the victim lives in the city, not the regency"


def test_the_receiving_unit_accepts_by_acting_and_the_event_says_so(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    kota = _member(context, "case_worker", "PEMDA-53.71")
    pending = fire(client, kota, case, "identify", {"indicators": ["exploitation"]})
    assert pending.status_code == 202, pending.text  # four eyes: the unit's supervisor decides
    supervisor = _member(context, "supervisor", "PEMDA-53.71")
    approval = pending.json()["approval"]["id"]
    approved = client.post(
        f"/api/v1/approvals/{approval}/approve", json={"reason": "indicators are clear"},
        headers=supervisor.headers,
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    assert approved.json()["unit"] != "KEMENPPPA-NASIONAL"
    history = client.get(
        f"/api/v1/cases/{case['id']}/history", headers=actors.auditor().headers
    ).json()["items"]
    moved_event = history[-1]
    assert moved_event["payload"]["_accepted_handover"] == {
        "from_unit": "KEMENPPPA-NASIONAL", "to_unit": "PEMDA-53.71",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("relation", "unit", "sees_name", "acts"),
    [
        ("same unit", "PEMDA-53.71", True, True),
        ("parent unit", "PEMDA-53", False, True),  # supervises it, but never handled the case
        ("sibling unit", "PEMDA-53.01", False, False),
        ("other province", "PEMDA-21", False, False),
    ],
)
def test_identity_and_acting_follow_the_unit(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    ntt: dict[str, dict[str, Any]],
    relation: str,
    unit: str,
    sees_name: bool,
    acts: bool,
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    kota = _member(context, "case_worker", "PEMDA-53.71")
    case = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers).json()
    user = _member(context, "case_worker", unit)
    read = client.get(f"/api/v1/cases/{case['id']}", headers=user.headers)
    assert read.status_code == 200, relation  # the whole ministry sees the pseudonym
    victim = read.json()["victim"]
    assert victim["pseudonym"] == case["reference"]
    assert victim["identity_visible"] is sees_name, relation
    assert ("Siti Rahayu" in read.text) is sees_name, relation
    attempt = fire(client, user, case, "decide_not_identified", {"grounds": "no indicators"})
    assert (attempt.status_code == 202) is acts, (relation, attempt.text)
    if not acts:
        assert attempt.status_code == 403 and "unit" in attempt.json()["detail"]


def test_a_unit_with_open_cases_cannot_be_closed_and_says_how_many(
    client: TestClient, actors: Actors, ntt: dict[str, dict[str, Any]]
) -> None:
    _screened_to(client, actors, "PEMDA-53.71")
    _screened_to(client, actors, "PEMDA-53.71")
    refused = client.patch(
        "/api/v1/units/PEMDA-53.71", json={"is_active": False}, headers=actors.admin().headers
    )
    assert refused.status_code == 409 and "2 open cases" in refused.json()["detail"]
    closed = client.patch(
        "/api/v1/units/PEMDA-21", json={"is_active": False}, headers=actors.admin().headers
    )
    assert closed.status_code == 200 and closed.json()["is_active"] is False


def test_moving_a_user_to_another_unit_ends_their_sessions_and_assignments(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    kota = _member(context, "case_worker", "PEMDA-53.71")
    client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers)
    assert client.post(f"/api/v1/cases/{case['id']}/claim", headers=kota.headers).status_code == 200
    moved = client.patch(
        f"/api/v1/users/{kota.id}", json={"unit": "PEMDA-53.01"}, headers=actors.admin().headers
    )
    assert moved.status_code == 200 and moved.json()["unit"] == "PEMDA-53.01"
    assert client.get("/api/v1/me/cases", headers=kota.headers).status_code == 401
    read = client.get(f"/api/v1/cases/{case['id']}", headers=actors.auditor().headers).json()
    assert read["assigned_to"] is None


def test_a_user_without_a_unit_cannot_work_cases(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    worker = actors.worker("KEMLU")
    with context.database.transaction() as writer:
        writer.execute(text("UPDATE unit SET is_active = :no WHERE code = 'KEMLU-NASIONAL'"),
                       {"no": False})  # fmt: skip
    response = client.post("/api/v1/cases", json=intake_body(), headers=worker.headers)
    assert response.status_code == 403
    assert session.exec(select(UserAccount).where(col(UserAccount.id) == worker.id)).one()


def test_the_regions_list_gives_provinces_and_their_regencies(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("PEMDA")
    provinces = client.get("/api/v1/regions", headers=user.headers).json()
    assert len(provinces) == 38
    ntt = client.get("/api/v1/regions", params={"province": "53"}, headers=user.headers).json()
    assert {"code": "53.71", "name": "Kota Kupang", "level": "regency"} in ntt
    unknown = client.get("/api/v1/regions", params={"province": "99"}, headers=user.headers)
    assert unknown.status_code == 404


def test_only_the_steps_unit_claims_assigns_and_is_offered_actions(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    kota = _member(context, "case_worker", "PEMDA-53.71")
    case = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers).json()
    sibling = _member(context, "case_worker", "PEMDA-53.01")
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=sibling.headers).json()
    assert seen["actions"] == []
    assert client.get(f"/api/v1/cases/{case['id']}", headers=kota.headers).json()["actions"]
    claim = client.post(f"/api/v1/cases/{case['id']}/claim", headers=sibling.headers)
    assert claim.status_code == 403 and "unit" in claim.json()["detail"]
    supervisor = _member(context, "supervisor", "PEMDA-53")  # the province, above the city
    wrong = client.put(
        f"/api/v1/cases/{case['id']}/assignee",
        json={"assignee": sibling.username},
        headers=supervisor.headers,
    )
    assert wrong.status_code == 422 and "PEMDA-53.71" in wrong.json()["detail"]
    right = client.put(
        f"/api/v1/cases/{case['id']}/assignee",
        json={"assignee": kota.username},
        headers=supervisor.headers,
    )
    assert right.status_code == 200 and right.json()["assigned_to"] == kota.username


def test_the_case_page_offers_claiming_only_to_the_steps_unit(
    client: TestClient, actors: Actors, context: AppContext, ntt: dict[str, dict[str, Any]]
) -> None:
    case = _screened_to(client, actors, "PEMDA-53.71")
    kota = _member(context, "case_worker", "PEMDA-53.71")
    client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers)
    with context.database.sessions() as session:
        for unit, works in (("PEMDA-53.71", True), ("PEMDA-53", True), ("PEMDA-53.01", False)):
            who = _member(context, "case_worker", unit)
            me = principal_of(session, who.id)
            assert cases.view_case(session, context, me, case["id"]).works_step is works, unit
