"""The legal track: criminal cases (perkara), suspects sealed at rest, linked victims, counts by
period and region, each victim's legal track, and the witness hold (guard and integration)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from schemas.common import WIB
from service.app import create_app
from service.kit.context import AppContext
from service.legal import deadlines
from service.workflow.publishing import publish
from tests.factories import (
    Actors,
    User,
    fire,
    fire_approved,
    intake_body,
    register,
    sample_payload,
    walk_to,
)
from tests.web import get, visible_text, web_login
from workflows import Actor, CaseFacts, parse
from workflows.guards import GuardContext, no_witness_hold
from workflows.loader import DEFINITIONS_DIR

SUSPECT = "Hendra Wijaya Kusuma"
CC = "/api/v1/criminal-cases"


def open_criminal_case(
    client: TestClient, user: User, number: str = "LP/B/1/III/2025", **extra: Any
) -> dict[str, Any]:
    body = {"police_report_number": number, "reported_on": "2025-03-20", "region_code": "53.71"}
    response = client.post(CC, json={**body, **extra}, headers=user.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def screened_case(client: TestClient, actors: Actors) -> dict[str, Any]:
    """A case in `screening`, which POLRI supports (it sees the case, read-only)."""
    case = register(client, actors.worker("KEMLU"), intake_body())
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def stage(client: TestClient, user: User, cc: dict[str, Any], to: str, **extra: Any) -> Any:
    body = {"stage": to, "on": "2025-06-01", "expected_version": cc["version"], **extra}
    return client.post(f"{CC}/{cc['id']}/stage", json=body, headers=user.headers)


def record(client: TestClient, user: User, case_id: str, **fact: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/legal", json={"record": fact}, headers=user.headers
    )


def identified_case(client: TestClient, actors: Actors) -> dict[str, Any]:
    """A case in `identified`, which POLRI and LPSK support."""
    case = screened_case(client, actors)
    body = {"indicators": ["exploitation"]}
    moved = fire_approved(client, actors, actors.worker("PEMDA"), case, "identify", body)
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json().get("case", moved.json())
    assert result["state"] == "identified"
    return result


# --- the guard, pure --------------------------------------------------------------------------


def _ctx(witness_status: str | None, agreed: bool) -> GuardContext:
    definition = parse(yaml.safe_load((DEFINITIONS_DIR / "nrm-indonesia-v1.yaml").read_text()))
    state = definition.states["social_rehabilitation"]
    facts = CaseFacts(
        is_child=False, nationality="ID", referring_ministry="POLRI",
        ministries_involved=frozenset(), consent_recipients=frozenset(),
        objects_to_country_notification=False, witness_status=witness_status,
        agreed_to_testify=agreed,
    )  # fmt: skip
    return GuardContext(
        case=facts, actor=Actor("KEMENSOS", "case_worker"), payload={}, source=state, dest=state
    )


@pytest.mark.parametrize(
    ("status", "agreed", "held"),
    [
        ("summoned", True, True),
        ("summoned", False, False),  # never held without agreeing to testify
        ("testified", True, False),
        ("released", True, False),
        ("not_needed", True, False),
        (None, False, False),  # no legal track at all
    ],
)
def test_no_witness_hold_refuses_only_a_summoned_witness_who_agreed(
    status: str | None, agreed: bool, held: bool
) -> None:
    reason = no_witness_hold(_ctx(status, agreed))
    assert (reason is not None) == held
    if held:
        assert reason is not None and "agreed to testify" in reason


# --- the hold through the real transition path, on a test-only definition ---------------------


@pytest.fixture
def held_world(context: AppContext, session: Session) -> tuple[TestClient, Actors]:
    """Version 1 renamed, with `no_witness_hold` on `begin_screening`, published in the test's
    transaction: the guard runs as the engine's condition on facts loaded from the database."""
    document = yaml.safe_load((DEFINITIONS_DIR / "nrm-indonesia-v1.yaml").read_text())
    document["name"] = "legal-hold-test"
    for row in document["transitions"]:
        if row["trigger"] == "begin_screening":
            row["guards"] = [*row.get("guards", []), "no_witness_hold"]
    definition = parse(document)
    registry = publish(session, [definition])
    session.commit()  # a savepoint of the test's transaction: rolled back with it
    held = replace(context, registry=registry)
    client = TestClient(create_app(held), raise_server_exceptions=False)
    return client, Actors(client, held)


def test_a_summoned_witness_who_agreed_is_held_until_they_testify(
    held_world: tuple[TestClient, Actors],
) -> None:
    client, actors = held_world
    body = {**intake_body(), "workflow": "legal-hold-test"}
    case = register(client, actors.worker("KEMLU"), body)
    assert case["workflow"] == "legal-hold-test"
    police = actors.worker("POLRI")  # POLRI supports `referred`: it sees the case
    cc = open_criminal_case(client, police, "LP/HOLD/1")
    linked = client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]},
                         headers=police.headers)  # fmt: skip
    assert linked.status_code == 200, linked.text
    summoned = record(client, police, case["id"], kind="witness", witness_status="summoned",
                      agreed_to_testify=True)  # fmt: skip
    assert summoned.status_code == 200, summoned.text
    assert summoned.json()["witness_hold"] is True
    refused = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "guard_refused"
    assert "agreed to testify" in refused.json()["detail"]
    testified = record(client, police, case["id"], kind="witness", witness_status="testified")
    assert testified.json()["witness_hold"] is False
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
    assert moved.status_code == 200, moved.text


def test_a_summoned_witness_who_did_not_agree_is_never_held(
    held_world: tuple[TestClient, Actors],
) -> None:
    client, actors = held_world
    case = register(
        client, actors.worker("KEMLU"), {**intake_body(), "workflow": "legal-hold-test"}
    )
    police = actors.worker("POLRI")
    cc = open_criminal_case(client, police, "LP/HOLD/2")
    client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]}, headers=police.headers)
    record(client, police, case["id"], kind="witness", witness_status="summoned",
           agreed_to_testify=False)  # fmt: skip
    moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
    assert moved.status_code == 200, moved.text


# --- criminal cases, visibility -----------------------------------------------------------------


def test_polri_opens_a_criminal_case_and_only_those_who_may_see_it_learn_of_it(
    client: TestClient, actors: Actors
) -> None:
    cc = open_criminal_case(client, actors.worker("POLRI"))
    assert cc["stage"] == "investigation" and cc["region_code"] == "53.71"
    assert cc["police_unit"] == "POLRI-NASIONAL" and cc["version"] == 1
    url = f"{CC}/{cc['id']}"
    assert client.get(url, headers=actors.auditor().headers).status_code == 200
    assert client.get(url, headers=actors.supervisor("POLRI").headers).status_code == 200
    for outsider in (actors.worker("KEMENSOS"), actors.worker("LPSK"), actors.worker("KEJAKSAAN")):
        missing = client.get(url, headers=outsider.headers)
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        listed = client.get(CC, headers=outsider.headers).json()["items"]
        assert cc["id"] not in [item["id"] for item in listed]
    body = {"police_report_number": "LP/X/1", "reported_on": "2025-01-01", "region_code": "53"}
    made = client.post(CC, json=body, headers=actors.worker("KEMENSOS").headers)
    assert made.status_code == 403


def test_the_prosecution_service_sees_a_criminal_case_once_told_of_it(
    client: TestClient, actors: Actors
) -> None:
    police, prosecutor = actors.worker("POLRI"), actors.worker("KEJAKSAAN")
    cc = open_criminal_case(client, police)
    assert client.get(f"{CC}/{cc['id']}", headers=prosecutor.headers).status_code == 404
    handed = stage(client, police, cc, "prosecution", spdp_on="2025-03-25")
    assert handed.status_code == 200, handed.text
    seen = client.get(f"{CC}/{cc['id']}", headers=prosecutor.headers)
    assert seen.status_code == 200 and seen.json()["stage"] == "prosecution"
    assert seen.json()["spdp_on"] == "2025-03-25"
    trial = stage(client, police, seen.json(), "trial")
    assert trial.status_code == 403  # the prosecution service takes a case to trial
    assert stage(client, prosecutor, seen.json(), "trial").status_code == 200


def test_a_polri_unit_sees_its_own_criminal_cases_and_those_below_it_only(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    admin = actors.admin().headers
    for code, level, region in (("POLRI-POLDA-53", "province", "53"),
                                ("POLRI-POLDA-35", "province", "35")):  # fmt: skip
        made = client.post("/api/v1/units", json={"code": code, "name": f"Polda {region}",
                           "ministry": "POLRI", "level": level, "region_code": region},
                           headers=admin)  # fmt: skip
        assert made.status_code == 201, made.text
    ntt = _user_in(client, admin, "POLRI-POLDA-53")
    jatim = _user_in(client, admin, "POLRI-POLDA-35")
    cc = open_criminal_case(client, ntt, "LP/NTT/1")
    assert cc["police_unit"] == "POLRI-POLDA-53"
    assert client.get(f"{CC}/{cc['id']}", headers=jatim.headers).status_code == 404
    assert client.get(f"{CC}/{cc['id']}", headers=actors.worker("POLRI").headers).status_code == 200
    other_unit = client.post(CC, json={"police_report_number": "LP/NTT/2",
                             "reported_on": "2025-01-01", "police_unit": "POLRI-POLDA-35"},
                             headers=ntt.headers)  # fmt: skip
    assert other_unit.status_code == 422 and "police_unit" in other_unit.json()["detail"]


def _user_in(client: TestClient, admin: dict[str, str], unit: str) -> User:
    name = f"polisi.{unit.lower()}"
    password = "a long enough passphrase for polri"
    made = client.post("/api/v1/users", json={"username": name, "role": "case_worker",
                       "unit": unit, "password": password}, headers=admin)  # fmt: skip
    assert made.status_code == 201, made.text
    token = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert token.status_code == 200, token.text
    return User(made.json()["id"], name, "case_worker", "POLRI", token.json()["access_token"])


def test_a_user_may_belong_to_the_prosecution_service(client: TestClient, actors: Actors) -> None:
    made = client.post("/api/v1/users", json={"username": "jaksa.1", "role": "supervisor",
                       "ministry": "KEJAKSAAN", "password": "a long enough passphrase"},
                       headers=actors.admin().headers)  # fmt: skip
    assert made.status_code in (201, 202), made.text


# --- suspects: sealed at rest, shown by rule, each look logged ----------------------------------


def test_a_suspects_identity_is_sealed_at_rest_and_each_look_is_logged(
    client: TestClient, actors: Actors, session: Session
) -> None:
    police = actors.worker("POLRI")
    cc = open_criminal_case(client, police)
    body = {"identity": {"full_name": SUSPECT, "other_names": ["Bos Hendra"],
                         "identity_document": "5371010101800001"},
            "sex": "male", "nationality": "ID", "role": "recruiter"}  # fmt: skip
    added = client.post(f"{CC}/{cc['id']}/suspects", json=body, headers=police.headers)
    assert added.status_code == 201, added.text
    assert added.json()["identity"] is None  # not shown back
    rows = session.execute(text("SELECT * FROM suspect")).all()
    dumped = repr(rows) + repr(session.execute(text("SELECT payload FROM case_event")).all())
    for clear in (SUSPECT, "Hendra", "5371010101800001"):
        assert clear not in dumped and clear.encode() not in b"".join(
            bytes(r.identity_ciphertext) for r in rows
        )
    looks = "SELECT count(*) FROM suspect_identity_access"
    before = session.execute(text(looks)).scalar_one()
    shown = client.get(f"{CC}/{cc['id']}/suspects", headers=police.headers).json()["items"]
    assert shown[0]["identity"]["full_name"] == SUSPECT and shown[0]["identity_visible"]
    assert session.execute(text(looks)).scalar_one() == before + 1
    audited = client.get(f"{CC}/{cc['id']}/suspects", headers=actors.auditor().headers).json()
    assert audited["items"][0]["identity"] is None and audited["items"][0]["role"] == "recruiter"
    assert session.execute(text(looks)).scalar_one() == before + 1
    assert client.get(f"{CC}/{cc['id']}", headers=police.headers).json()["suspect_count"] == 1
    refused = session.execute(text("SELECT count(*) FROM suspect_identity_access")).scalar_one()
    assert refused == before + 1


# --- victims linked, and their legal track ------------------------------------------------------


def test_polri_links_a_victim_it_may_see_and_the_link_is_an_event_of_the_case(
    client: TestClient, actors: Actors
) -> None:
    police = actors.worker("POLRI")
    case = screened_case(client, actors)
    cc = open_criminal_case(client, police)
    linked = client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]},
                         headers=police.headers)  # fmt: skip
    assert linked.status_code == 200, linked.text
    assert [v["reference"] for v in linked.json()["victims"]] == [case["reference"]]
    again = client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]},
                        headers=police.headers)  # fmt: skip
    assert again.status_code == 409
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=police.headers).json()
    kinds = [event["kind"] for event in history["items"]]
    assert kinds[-1] == "legal_linked"
    unknown = client.post(f"{CC}/{cc['id']}/victims", json={"case_id": "not-a-case"},
                          headers=police.headers)  # fmt: skip
    assert unknown.status_code == 404


def test_the_legal_track_records_each_fact_by_its_actor_with_its_legal_basis(
    client: TestClient, actors: Actors
) -> None:
    police, prosecutor, lpsk = (actors.worker(m) for m in ("POLRI", "KEJAKSAAN", "LPSK"))
    case = identified_case(client, actors)
    cc = open_criminal_case(client, police)
    client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]}, headers=police.headers)
    cid = case["id"]
    # the court decides restitution; nobody records it before the verdict, and not POLRI
    early = record(client, prosecutor, cid, kind="court_decision", court_name="PN Kupang",
                   decision_number="12/Pid.Sus/2025/PN Kpg", decided_on="2025-09-01",
                   restitution_amount_idr=50_000_000)  # fmt: skip
    assert early.status_code == 404  # KEJAKSAAN does not see the criminal case yet
    cc = stage(client, police, cc, "prosecution", spdp_on="2025-03-21").json()
    cc = stage(client, prosecutor, cc, "trial").json()
    decision = dict(kind="court_decision", court_name="PN Kupang",
                    decision_number="12/Pid.Sus/2025/PN Kpg", decided_on="2025-09-01",
                    restitution_amount_idr=50_000_000)  # fmt: skip
    assert record(client, prosecutor, cid, **decision).status_code == 409  # no verdict yet
    stage(client, prosecutor, cc, "verdict")
    assert record(client, police, cid, **decision).status_code == 403
    decided = record(client, prosecutor, cid, **decision)
    assert decided.status_code == 200, decided.text
    assert decided.json()["restitution"] == {
        "ordered_by": "court",
        "amount_idr": 50_000_000,
        "status": "ordered",
        "paid_idr": None,
    }
    bad = record(client, lpsk, cid, kind="restitution_payment", status="paid", paid_idr=10)
    assert bad.status_code == 422 and "status" in bad.json()["detail"]
    over = record(client, lpsk, cid, kind="restitution_payment", status="paid",
                  paid_idr=60_000_000)  # fmt: skip
    assert over.status_code == 422 and "paid_idr" in over.json()["detail"]
    paid = record(client, lpsk, cid, kind="restitution_payment", status="partially_paid",
                  paid_idr=20_000_000)  # fmt: skip
    assert paid.json()["restitution"]["status"] == "partially_paid"
    history = client.get(f"/api/v1/cases/{cid}/history", headers=actors.auditor().headers)
    legal = [e for e in history.json()["items"] if e["kind"] == "legal_record"]
    assert [e["payload"]["record"] for e in legal] == ["court_decision", "restitution_payment"]
    assert all(e["payload"]["legal_basis"] for e in legal)


def test_the_lpsk_decision_deadline_is_seven_days_and_late_ones_are_listed(
    client: TestClient, actors: Actors
) -> None:
    lpsk = actors.worker("LPSK")
    case = identified_case(client, actors)
    cid = case["id"]
    assert record(client, lpsk, cid, kind="lpsk_decision", decision="protection_granted",
                  decided_on="2025-04-01").status_code == 409  # fmt: skip
    applied = record(client, lpsk, cid, kind="lpsk_application", applied_on="2025-04-01")
    assert applied.status_code == 200, applied.text
    assert applied.json()["lpsk"]["due_on"] == "2025-04-08"
    assert "Art. 29" in applied.json()["lpsk"]["legal_basis"]
    assert applied.json()["lpsk"]["late"] is True  # undecided, and the day is long past
    late = client.get("/api/v1/legal/lpsk-late", headers=actors.supervisor("LPSK").headers)
    assert late.status_code == 200
    assert [i["case_id"] for i in late.json()["items"] if i["case_id"] == cid] == [cid]
    assert client.get("/api/v1/legal/lpsk-late", headers=lpsk.headers).status_code == 403
    on_time = record(client, lpsk, cid, kind="lpsk_decision", decision="protection_granted",
                     decided_on="2025-04-08")  # fmt: skip
    assert on_time.json()["lpsk"]["late"] is False
    late = client.get("/api/v1/legal/lpsk-late", headers=actors.auditor().headers).json()
    assert cid not in [i["case_id"] for i in late["items"]]
    assert record(client, actors.worker("POLRI"), cid, kind="lpsk_application",
                  applied_on="2025-05-01").status_code == 403  # fmt: skip
    assert client.get(f"/api/v1/cases/{cid}/legal",
                      headers=actors.worker("KEMNAKER").headers).status_code == 404  # fmt: skip


def test_the_workflows_own_legal_facts_appear_in_the_legal_track(
    client: TestClient, actors: Actors
) -> None:
    case = screened_case(client, actors)
    police = actors.worker("POLRI")
    reported = fire(client, police, case, "record_police_report",
                    {"report_number": "LP/V1/9", "filed_on": "2025-02-02"})  # fmt: skip
    assert reported.status_code == 200, reported.text
    track = client.get(f"/api/v1/cases/{case['id']}/legal", headers=police.headers).json()
    assert track["recorded_in_workflow"]["record_police_report"]["report_number"] == "LP/V1/9"
    assert track["criminal_cases"] == [] and track["witness_status"] == "not_needed"
    assert record(client, police, case["id"], kind="witness",
                  witness_status="summoned").status_code == 409  # fmt: skip


# --- counts -------------------------------------------------------------------------------------


def test_counts_by_period_and_region_are_what_was_recorded(
    client: TestClient, actors: Actors
) -> None:
    """Hand-computed: in 2024-2025, NTT (53) has 2 criminal cases with 3 distinct victims (one
    victim in both) and 3 suspects; East Java (35) 1 case, 1 victim, 0 suspects; a 2023 case in
    NTT is outside the period."""
    police = actors.worker("POLRI")
    victims = [screened_case(client, actors) for _ in range(4)]
    plan = [
        ("LP/C/1", "2024-02-01", "53.71", [0, 1], 2),
        ("LP/C/2", "2025-11-30", "53", [1, 2], 1),
        ("LP/C/3", "2025-01-15", "35.78", [3], 0),
        ("LP/C/4", "2023-12-31", "53.71", [0], 4),
    ]
    for number, day, region, linked, suspects in plan:
        cc = open_criminal_case(client, police, number, reported_on=day, region_code=region)
        for index in linked:
            client.post(f"{CC}/{cc['id']}/victims", json={"case_id": victims[index]["id"]},
                        headers=police.headers)  # fmt: skip
        for n in range(suspects):
            client.post(f"{CC}/{cc['id']}/suspects", json={"identity": {"full_name": f"S{n}"},
                        "sex": "male", "nationality": "ID", "role": "other"},
                        headers=police.headers)  # fmt: skip
    query = "?reported_from=2024-01-01&reported_to=2025-12-31"
    counts = client.get(f"{CC}/counts{query}", headers=actors.auditor().headers)
    assert counts.status_code == 200, counts.text
    rows = {r["region_code"]: (r["criminal_cases"], r["victims"], r["suspects"])
            for r in counts.json()["rows"]}  # fmt: skip
    assert rows == {"35": (1, 1, 0), "53": (2, 3, 3)}
    total = counts.json()["total"]
    assert (total["criminal_cases"], total["victims"], total["suspects"]) == (3, 4, 3)
    by_regency = client.get(f"{CC}/counts{query}&by=regency", headers=police.headers).json()
    assert {r["region_code"] for r in by_regency["rows"]} == {"53.71", "53", "35.78"}
    assert client.get(f"{CC}/counts{query}", headers=actors.worker("KEMENSOS").headers
                      ).status_code == 403  # fmt: skip
    backwards = client.get(f"{CC}/counts?reported_from=2025-01-01&reported_to=2024-01-01",
                           headers=police.headers)  # fmt: skip
    assert backwards.status_code == 422


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"region_code": "99.99"}, "region_code"),
        ({"region_code": "Kupang"}, "region_code"),
        ({"reported_on": "2999-01-01"}, "reported_on"),
        ({"police_report_number": ""}, "police_report_number"),
        ({"stage": "verdict"}, "stage"),  # server-owned
        ({"spdp_on": "2025-01-01"}, "spdp_on"),  # before the report
    ],
)
def test_a_bad_criminal_case_is_refused_naming_the_field(
    client: TestClient, actors: Actors, change: dict[str, Any], field: str
) -> None:
    body = {"police_report_number": "LP/BAD/1", "reported_on": "2025-03-20", "region_code": "53",
            **change}  # fmt: skip
    response = client.post(CC, json=body, headers=actors.worker("POLRI").headers)
    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"])
    assert client.get(CC, headers=actors.auditor().headers).json()["items"] == []


def test_stage_changes_are_compare_and_set_and_an_ended_case_stays_ended(
    client: TestClient, actors: Actors
) -> None:
    police = actors.worker("POLRI")
    cc = open_criminal_case(client, police)
    assert client.post(CC, json={"police_report_number": cc["police_report_number"],
                       "reported_on": "2025-03-20", "region_code": "53"},
                       headers=police.headers).status_code == 409  # fmt: skip
    stale = stage(client, police, {**cc, "version": 7}, "terminated")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    early = stage(client, police, cc, "terminated", on="2025-01-01")
    assert early.status_code == 422 and "on" in early.json()["detail"]
    ended = stage(client, police, cc, "terminated")
    assert ended.status_code == 200 and ended.json()["version"] == 2
    again = stage(client, police, ended.json(), "investigation")
    assert again.status_code == 409
    assert client.get(f"{CC}/not-a-uuid", headers=police.headers).status_code == 404


def test_an_undecided_lpsk_application_past_its_deadline_is_recorded_once_as_a_breach(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    lpsk = actors.worker("LPSK")
    case = identified_case(client, actors)
    assert record(client, lpsk, case["id"], kind="lpsk_application",
                  applied_on="2025-04-01").status_code == 200  # fmt: skip
    assert deadlines.record_lpsk_breaches(context) == 1
    assert deadlines.record_lpsk_breaches(context) == 0  # once
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=lpsk.headers).json()
    breaches = [e for e in history["items"] if e["kind"] == "lpsk_deadline_breach"]
    assert [b["payload"]["decision_due_on"] for b in breaches] == ["2025-04-08"]
    assert "Art. 29" in breaches[0]["payload"]["legal_basis"]
    on_time = identified_case(client, actors)
    today = context.clock().astimezone(WIB).date().isoformat()
    record(client, lpsk, on_time["id"], kind="lpsk_application", applied_on=today)
    assert deadlines.record_lpsk_breaches(context) == 0  # not due yet


# --- the pages ----------------------------------------------------------------------------------


def test_the_pages_show_the_criminal_case_and_the_legal_track_without_any_identity(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    police = actors.worker("POLRI")
    case = screened_case(client, actors)
    cc = open_criminal_case(client, police)
    client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]}, headers=police.headers)
    suspect = {"identity": {"full_name": SUSPECT}, "sex": "male", "nationality": "ID",
               "role": "other"}  # fmt: skip
    client.post(f"{CC}/{cc['id']}/suspects", json=suspect, headers=police.headers)
    record(client, police, case["id"], kind="witness", witness_status="summoned",
           agreed_to_testify=True)  # fmt: skip
    web = web_login(context, police)
    listed = get(client, web, "/criminal-cases")
    assert listed.status_code == 200 and cc["reference"] in listed.text
    shown = get(client, web, f"/criminal-cases/{cc['id']}")
    assert shown.status_code == 200 and case["reference"] in visible_text(shown.text)
    track = get(client, web, f"/cases/{case['id']}/legal")
    text_of = visible_text(track.text)
    assert track.status_code == 200 and "pemulangan menunggu" in text_of  # Bahasa Indonesia first
    for page in (listed, shown, track):
        assert SUSPECT not in page.text and "Siti Rahayu" not in page.text
    outsider = web_login(context, actors.worker("KEMNAKER"))
    assert get(client, outsider, f"/criminal-cases/{cc['id']}").status_code == 404


def test_version_3_holds_departure_for_a_summoned_witness_who_agreed_to_testify(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    """Version 3 puts the guard on leaving the country: a victim in services who is summoned
    and agreed to testify does not depart until they have testified (or are released)."""
    definition = context.registry.engine("nrm-indonesia", 3).definition
    case = walk_to(client, actors, definition, "in_services")
    assert case["workflow_version"] == 3
    police = actors.worker("POLRI")
    cc = open_criminal_case(client, police, "LP/HOLD/V3")
    linked = client.post(f"{CC}/{cc['id']}/victims", json={"case_id": case["id"]},
                         headers=police.headers)  # fmt: skip
    assert linked.status_code == 200, linked.text
    summoned = record(client, police, case["id"], kind="witness", witness_status="summoned",
                      agreed_to_testify=True)  # fmt: skip
    assert summoned.status_code == 200, summoned.text
    row = definition.transition("depart", "in_services")
    assert row is not None and "no_witness_hold" in row.guards
    lead = actors.worker(row.ministries[0])
    refused = fire(client, lead, case, "depart", sample_payload(row))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "guard_refused"
    testified = record(client, police, case["id"], kind="witness", witness_status="testified")
    assert testified.status_code == 200, testified.text
    moved = fire(client, lead, case, "depart", sample_payload(row))
    assert moved.status_code in (200, 202), moved.text
