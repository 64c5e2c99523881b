"""Duplicate victims: a blind index of the document, a fuzzy search on a small decrypted block,
warnings that name only cases the caller may see, and a review list that links or dismisses.

The pair under test: KEMLU registers a victim, then KEMNAKER (labour) registers the same
person again. Both cases start in `referred`, led by KEMENPPPA, so KEMENPPPA's supervisors see
both; KEMNAKER does not see KEMLU's case (it never handled it, and does not support `referred`).
"""

from __future__ import annotations

import base64
import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.cases.duplicates import blind_index, matching
from service.cases.duplicates import service as duplicates
from service.kit.config import derived_index_key
from service.kit.context import AppContext
from service.models import CaseEvent, DuplicateMatch, Victim, VictimBlock
from tests.factories import Actors, intake_body
from tests.web import post, web_login

NIK = "3171234567890123"
KEY = bytes(range(32))


def _unique_nik() -> str:
    return str(uuid.uuid4().int)[:16].rjust(16, "1")


def _person(**victim: Any) -> dict[str, Any]:
    """A victim nobody else in the suite is called (the factory's Siti Rahayu is everywhere)."""
    fields = {"full_name": f"Djoko Soeparman {uuid.uuid4().hex[:6]}", "sex": "male",
              "birth_date": "1994-05-17", "province_of_origin": "Jawa Tengah"}  # fmt: skip
    fields.update(victim)
    return intake_body(**fields)


def _post(client: TestClient, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/cases", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _matches(session: Session, case_id: str) -> list[DuplicateMatch]:
    query = select(DuplicateMatch).where(col(DuplicateMatch.case_id) == uuid.UUID(case_id))
    return list(session.exec(query).all())


# --- the blind index ------------------------------------------------------------------------


def test_the_blind_index_is_not_the_number_and_changes_with_the_key() -> None:
    index = blind_index.document_index(KEY, "nik", NIK)
    assert index is not None and NIK not in index and len(index) == 64
    assert index != blind_index.document_index(bytes(reversed(KEY)), "nik", NIK)
    assert index == blind_index.document_index(KEY, "nik", "3171 2345 6789 0123")


def test_passport_numbers_are_compared_without_case_spaces_or_dashes() -> None:
    one = blind_index.document_index(KEY, "passport", "c 1234-567")
    assert one == blind_index.document_index(KEY, "passport", "C1234567")
    assert one != blind_index.document_index(KEY, "nik", "C1234567")


def test_the_derived_index_key_is_not_the_data_key() -> None:
    data_key = base64.urlsafe_b64decode(base64.urlsafe_b64encode(KEY))
    derived = derived_index_key(data_key)
    assert len(derived) == 32 and derived != data_key
    assert derived == derived_index_key(data_key)


def test_the_stored_index_and_blocks_hold_no_clear_value(
    client: TestClient, actors: Actors, session: Session
) -> None:
    case = _post(client, actors.worker("KEMLU"),
                 _person(identity_document={"kind": "nik", "number": NIK}))  # fmt: skip
    victim = session.get(Victim, uuid.UUID(case["id"]))
    assert victim is not None and victim.document_index is not None
    assert NIK not in victim.document_index
    blocks = session.exec(
        select(VictimBlock.block).where(col(VictimBlock.case_id) == uuid.UUID(case["id"]))
    ).all()
    assert len(blocks) >= 4  # (djoko, soeparman, the suffix) x (year, province)
    assert not any("1994" in b or "joko" in b for b in blocks)


# --- the names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Djoko Soeparman", "Joko Suparman"),  # dj/j, oe/u
        ("Tjahjo Kumolo", "Cahyo Kumolo"),  # tj/c, j/y
        ("Achmad Sjarifuddin", "Akhmad Syarifudin"),  # ch/kh, sj/sy, doubled letters
        ("Moh. Rizki Hidayat", "Muhammad Rizky Hidayat"),  # Muhammad's forms, final y/i
        ("M. Rizki Hidayat", "Mochammad Rizki Hidayat"),
        ("Siti Fatimah", "Fatimah Siti"),  # reordered parts
        ("Sutarmi", "Sutarmi binti Slamet"),  # a mononym within a longer name
    ],
)
def test_indonesian_spelling_variants_score_as_one_person(one: str, other: str) -> None:
    a = matching.person(one, [], date(1994, 5, 17), None, "Jawa Tengah", "male")
    b = matching.person(other, [], date(1994, 5, 17), None, "Jawa Tengah", "male")
    assert matching.score(a, b) >= duplicates.THRESHOLD


def test_namesakes_born_elsewhere_in_another_decade_are_not_a_match() -> None:
    a = matching.person("Siti Aminah", [], date(1994, 5, 17), None, "Jawa Tengah", "female")
    b = matching.person("Siti Aminah", [], date(2004, 1, 2), None, "Aceh", "female")
    c = matching.person("Siti Rahayu", [], date(1994, 5, 17), None, "Jawa Tengah", "female")
    assert matching.score(a, b) < duplicates.THRESHOLD
    assert matching.score(a, c) < duplicates.THRESHOLD


# --- at intake ------------------------------------------------------------------------------


def test_a_second_referral_of_the_same_document_warns_and_is_still_registered(
    client: TestClient, actors: Actors, session: Session
) -> None:
    nik = _unique_nik()
    first = _post(client, actors.worker("KEMLU"),
                  _person(identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    again = _post(client, actors.worker("KEMLU"),
                  _person(full_name="Someone Else Entirely",
                          identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    assert again["id"] != first["id"] and again["state"] == "referred"
    assert again["warnings"] == [
        {"kind": "possible_duplicate", "case_id": first["id"], "reference": first["reference"],
         "score": 100, "basis": "document"}
    ]  # fmt: skip
    assert first["warnings"] == []


def test_one_intake_records_at_most_max_matches_the_newest_earlier_cases_first(
    client: TestClient, actors: Actors, session: Session
) -> None:
    """A document number shared by many referrals (a placeholder typed in the field, one person
    entered again and again) costs each intake a bounded number of match rows, not one per
    earlier case."""
    nik = _unique_nik()
    body = _person(identity_document={"kind": "nik", "number": nik})
    earlier = [_post(client, actors.worker("KEMLU"), body)["id"]
               for _ in range(duplicates.MAX_MATCHES + 3)]  # fmt: skip
    last = _post(client, actors.worker("KEMLU"), body)
    recorded = _matches(session, last["id"])
    assert len(recorded) == duplicates.MAX_MATCHES
    assert {str(m.other_case_id) for m in recorded} == set(earlier[3:])
    assert all(m.score == 100 and m.basis == "document" for m in recorded)
    assert len(last["warnings"]) == duplicates.MAX_MATCHES


def test_a_spelling_variant_without_a_document_is_found_by_name(
    client: TestClient, actors: Actors
) -> None:
    suffix = uuid.uuid4().hex[:6]
    first = _post(client, actors.worker("KEMLU"), _person(full_name=f"Djoko Soeparman {suffix}"))
    variant = _person(full_name=f"{suffix} Joko Suparman", birth_date="1995-01-01")
    again = _post(client, actors.worker("KEMLU"), variant)
    named = [w["case_id"] for w in again["warnings"]]
    assert first["id"] in named
    assert all(w["basis"] == "name" and w["score"] >= duplicates.THRESHOLD
               for w in again["warnings"])  # fmt: skip


def test_a_match_in_a_case_the_caller_may_not_see_is_never_named(
    client: TestClient, actors: Actors, session: Session
) -> None:
    nik = _unique_nik()
    first = _post(client, actors.worker("KEMLU"),
                  _person(identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    same = _person(identity_document={"kind": "nik", "number": nik})
    police = client.post("/api/v1/cases", headers=actors.worker("KEMNAKER").headers, json=same)
    assert police.status_code == 201
    assert police.json()["warnings"] == []
    assert first["id"] not in police.text and first["reference"] not in police.text
    # ... but it waits for a reviewer who sees both
    assert [m.other_case_id for m in _matches(session, police.json()["id"])] == [
        uuid.UUID(first["id"])
    ]
    listed = client.get("/api/v1/duplicates?limit=100",
                        headers=actors.supervisor("KEMNAKER").headers)  # fmt: skip
    assert listed.status_code == 200 and first["id"] not in listed.text
    match_id = _matches(session, police.json()["id"])[0].id
    for verb in ("link", "dismiss"):
        refused = client.post(f"/api/v1/duplicates/{match_id}/{verb}",
                              headers=actors.supervisor("KEMNAKER").headers)  # fmt: skip
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"
        assert first["id"] not in refused.text


# --- review ---------------------------------------------------------------------------------


def _pair(
    client: TestClient, actors: Actors, session: Session
) -> tuple[dict[str, Any], dict[str, Any], int]:
    nik = _unique_nik()
    first = _post(client, actors.worker("KEMLU"),
                  _person(identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    second = _post(client, actors.worker("KEMNAKER"),
                   _person(identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    match_id = _matches(session, second["id"])[0].id
    assert match_id is not None
    return first, second, match_id


def _events(session: Session, case_id: str) -> list[CaseEvent]:
    query = select(CaseEvent).where(col(CaseEvent.case_id) == uuid.UUID(case_id))
    return list(session.exec(query).all())


@pytest.mark.parametrize(("verb", "kind", "status"), [
    ("link", "duplicate_linked", "linked"), ("dismiss", "duplicate_dismissed", "dismissed"),
])  # fmt: skip
def test_a_decision_is_an_event_on_both_cases(
    client: TestClient, actors: Actors, session: Session, verb: str, kind: str, status: str
) -> None:
    first, second, match_id = _pair(client, actors, session)
    reviewer = actors.supervisor("KEMENPPPA")
    listed = client.get("/api/v1/duplicates?limit=100", headers=reviewer.headers).json()
    assert match_id in [m["id"] for m in listed["items"]] or listed["next_cursor"]
    decided = client.post(f"/api/v1/duplicates/{match_id}/{verb}", headers=reviewer.headers)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == status and body["decided_by"] == reviewer.username
    assert {body["new_case"]["id"], body["earlier_case"]["id"]} == {first["id"], second["id"]}
    for case in (first, second):
        events = [e for e in _events(session, case["id"]) if e.kind == kind]
        assert len(events) == 1 and events[0].payload["match"] == match_id
        other = second if case is first else first
        assert other["id"] not in str(events[0].payload)
    again = client.post(f"/api/v1/duplicates/{match_id}/{verb}", headers=reviewer.headers)
    assert again.status_code == 409 and again.json()["code"] == "match_decided"
    history = client.get(f"/api/v1/cases/{first['id']}/history", headers=actors.auditor().headers)
    assert kind in [e["kind"] for e in history.json()["items"]]
    verified = client.get("/api/v1/audit/verify", headers=actors.auditor().headers)
    assert verified.json()["ok"] is True


def test_linked_cases_show_the_link_only_to_those_who_may_see_the_other(
    client: TestClient, actors: Actors, session: Session
) -> None:
    first, second, match_id = _pair(client, actors, session)
    client.post(f"/api/v1/duplicates/{match_id}/link",
                headers=actors.supervisor("KEMENPPPA").headers)  # fmt: skip
    seen = client.get(f"/api/v1/cases/{first['id']}/linked",
                      headers=actors.worker("KEMENPPPA").headers)  # fmt: skip
    assert [i["case_id"] for i in seen.json()["items"]] == [second["id"]]
    police = client.get(f"/api/v1/cases/{second['id']}/linked",
                        headers=actors.worker("KEMNAKER").headers)  # fmt: skip
    assert police.status_code == 200 and police.json()["items"] == []
    hidden = client.get(f"/api/v1/cases/{first['id']}/linked",
                        headers=actors.worker("KEMNAKER").headers)  # fmt: skip
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/duplicates/999999999/link", 404, "not_found"),
        ("/api/v1/duplicates/0/dismiss", 422, None),
        ("/api/v1/duplicates/abc/link", 422, None),
        ("/api/v1/duplicates/99999999999999999999/link", 422, None),
    ],
)
def test_bad_match_ids_are_refused_with_a_code(
    client: TestClient, actors: Actors, path: str, status: int, code: str | None
) -> None:
    response = client.post(path, headers=actors.supervisor("KEMENPPPA").headers)
    assert response.status_code == status, response.text
    assert "code" in response.json()
    if code:
        assert response.json()["code"] == code


@pytest.mark.parametrize("query", ["status=maybe", "limit=0", "cursor=not-a-cursor"])
def test_bad_review_list_queries_are_refused(
    client: TestClient, actors: Actors, query: str
) -> None:
    response = client.get(f"/api/v1/duplicates?{query}",
                          headers=actors.supervisor("KEMENPPPA").headers)  # fmt: skip
    assert response.status_code == 422 and "code" in response.json()


def test_case_workers_may_not_review(client: TestClient, actors: Actors, session: Session) -> None:
    _, _, match_id = _pair(client, actors, session)
    listed = client.get("/api/v1/duplicates", headers=actors.worker("KEMENPPPA").headers)
    assert listed.status_code == 403
    refused = client.post(f"/api/v1/duplicates/{match_id}/link",
                          headers=actors.worker("KEMENPPPA").headers)  # fmt: skip
    assert refused.status_code == 403


def test_the_review_list_pages_with_a_signed_cursor(
    client: TestClient, actors: Actors, session: Session
) -> None:
    for _ in range(3):
        _pair(client, actors, session)
    headers = actors.supervisor("KEMENPPPA").headers
    first = client.get("/api/v1/duplicates?limit=2", headers=headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/duplicates?limit=2&cursor={first['next_cursor']}",
                        headers=headers).json()  # fmt: skip
    assert second["items"] and second["items"][0]["id"] > first["items"][-1]["id"]
    other = client.get(f"/api/v1/duplicates?status=linked&cursor={first['next_cursor']}",
                       headers=headers)  # fmt: skip
    assert other.status_code == 422 and other.json()["code"] == "invalid_cursor"


def test_reindex_under_a_new_key_rewrites_the_index_and_keeps_finding(
    client: TestClient, actors: Actors, session: Session, context: AppContext
) -> None:
    nik = _unique_nik()
    first = _post(client, actors.worker("KEMLU"),
                  _person(identity_document={"kind": "nik", "number": nik}))  # fmt: skip
    before = session.get(Victim, uuid.UUID(first["id"]))
    assert before is not None
    old = before.document_index
    rekeyed = context.settings.model_copy(update={"index_key": base64.urlsafe_b64encode(
        bytes(range(100, 132))).decode()})  # fmt: skip
    rekeyed.__dict__.pop("keys", None)
    from dataclasses import replace

    report = duplicates.reindex(replace(context, settings=rekeyed))
    assert report.examined >= 1
    session.expire_all()
    after = session.get(Victim, uuid.UUID(first["id"]))
    assert after is not None and after.document_index not in (None, old)
    assert after.document_index == blind_index.document_index(bytes(range(100, 132)), "nik", nik)


def test_an_earlier_identity_that_does_not_open_never_blocks_an_intake(
    client: TestClient, actors: Actors, session: Session, context: AppContext
) -> None:
    name = f"Sutarmi {uuid.uuid4().hex[:6]}"
    first = _post(client, actors.worker("KEMLU"), _person(full_name=name, sex="female"))
    victim = session.get(Victim, uuid.UUID(first["id"]))
    assert victim is not None
    victim.identity_ciphertext = context.cipher.encrypt({"full_name": name}, uuid.uuid4().bytes)
    session.add(victim)
    session.commit()
    again = _post(client, actors.worker("KEMLU"), _person(full_name=name, sex="female"))
    assert again["state"] == "referred" and first["id"] not in str(again["warnings"])


@pytest.mark.parametrize("match_id", [0, 2**31, 2**40])
def test_a_match_id_past_the_columns_range_is_not_found_on_the_api_and_the_page(
    client: TestClient, actors: Actors, context: AppContext, match_id: int
) -> None:
    """Found by schemathesis on PostgreSQL: an id past INTEGER was a DataError (500)."""
    supervisor = actors.supervisor("KEMENPPPA")
    api = client.post(f"/api/v1/duplicates/{match_id}/link", headers=supervisor.headers)
    assert api.status_code in (404, 422), api.text
    page = post(client, web_login(context, supervisor), f"/duplicates/{match_id}/dismiss")
    assert page.status_code == 404, page.text
