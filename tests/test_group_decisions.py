"""Group decisions: one trigger for many cases, each with its own checks and event; a sensitive
trigger becomes one group approval that a supervisor of the same ministry decides once."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from service.kit.context import AppContext
from service.models import IdempotencyRecord
from tests.factories import Actors, User, fire, foreign_body, intake_body, register
from tests.manifests import imported

MISSION = {"mission": "KBRI Yangon"}
IDENTIFY = {"indicators": ["deceptive_recruitment", "exploitation"]}


def group(client: TestClient, user: User, **body: Any) -> Any:
    return client.post("/api/v1/group-transitions", json=body, headers=user.headers)


def decide(client: TestClient, user: User, group_id: str, verb: str = "approve") -> Any:
    return client.post(
        f"/api/v1/group-approvals/{group_id}/{verb}",
        json={"reason": "checked every screening record"},
        headers=user.headers,
    )


def history(client: TestClient, user: User, case_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case_id}/history", headers=user.headers)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def screened(client: TestClient, actors: Actors, count: int) -> tuple[dict[str, Any], list[str]]:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, count)
    moved = group(client, worker, arrival_id=made["id"], trigger="begin_screening_abroad",
                  payload=MISSION)  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved"] == count
    return made, ids


def test_a_trigger_fired_at_an_arrival_moves_each_case_with_its_own_event(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, 3)
    answer = group(client, worker, arrival_id=made["id"], trigger="begin_screening_abroad",
                   payload=MISSION, note="at the arrival hall")  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["moved"], body["pending"], body["refused"], body["status"]) == (3, 0, 0, "done")
    assert sorted(r["case_id"] for r in body["results"]) == sorted(ids)
    assert {(r["state"], r["version"]) for r in body["results"]} == {("screening_abroad", 2)}
    for case_id in ids:
        last = history(client, worker, case_id)[-1]
        assert last["trigger"] == "begin_screening_abroad"
        assert last["payload"]["_group"] == body["id"]


def test_a_sensitive_trigger_becomes_one_group_approval_decided_once(
    client: TestClient, actors: Actors
) -> None:
    worker, supervisor = actors.worker("KEMLU"), actors.supervisor("KEMLU")
    _, ids = screened(client, actors, 4)
    asked = group(client, worker, case_ids=ids, trigger="identify", payload=IDENTIFY)
    assert asked.status_code == 200, asked.text
    pending = asked.json()
    assert (pending["pending"], pending["status"]) == (4, "pending")
    inbox = client.get("/api/v1/approvals?status=pending", headers=supervisor.headers).json()
    assert {a["case_id"] for a in inbox["items"]} >= set(ids)

    approved = decide(client, supervisor, pending["id"])
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["approved"], body["refused"], body["status"]) == (4, 0, "approved")
    assert body["decided_by"] == supervisor.username
    assert {(r["state"], r["version"]) for r in body["results"]} == {("identified_abroad", 3)}
    for case_id in ids:
        events = history(client, supervisor, case_id)
        request, moved = events[-2], events[-1]
        assert request["kind"] == "approval_requested"
        assert request["payload"]["group_id"] == pending["id"]
        assert moved["trigger"] == "identify"
        assert moved["payload"]["_approval"]["group_id"] == pending["id"]
    again = decide(client, supervisor, pending["id"])
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    read = client.get(f"/api/v1/group-approvals/{pending['id']}", headers=worker.headers)
    assert read.json()["approved"] == 4
    references = {
        case_id: client.get(f"/api/v1/cases/{case_id}", headers=worker.headers).json()["reference"]
        for case_id in ids
    }
    assert {r["case_id"]: r["reference"] for r in read.json()["results"]} == references


def test_a_group_rejected_at_once_leaves_every_case_where_it_was(
    client: TestClient, actors: Actors
) -> None:
    worker, supervisor = actors.worker("KEMLU"), actors.supervisor("KEMLU")
    _, ids = screened(client, actors, 2)
    pending = group(client, worker, case_ids=ids, trigger="identify", payload=IDENTIFY).json()
    rejected = decide(client, supervisor, pending["id"], "reject")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["rejected"], rejected.json()["status"]) == (2, "rejected")
    for case_id in ids:
        case = client.get(f"/api/v1/cases/{case_id}", headers=worker.headers).json()
        assert (case["state"], case["version"]) == ("screening_abroad", 2)
        assert history(client, worker, case_id)[-1]["kind"] == "approval_rejected"


def test_four_eyes_the_requester_and_other_ministries_cannot_decide_the_group(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    _, ids = screened(client, actors, 1)
    requester = actors.supervisor("KEMLU")
    pending = group(client, requester, case_ids=ids, trigger="identify", payload=IDENTIFY).json()
    assert decide(client, requester, pending["id"]).status_code == 403  # not the one who asked
    assert decide(client, worker, pending["id"]).status_code == 403  # not a supervisor
    other = decide(client, actors.supervisor("KEMENSOS"), pending["id"])
    assert other.status_code == 404  # another ministry's group: not even its existence
    assert decide(client, actors.supervisor("KEMLU"), str(uuid.uuid4())).status_code == 404
    second = actors.make("supervisor", "KEMLU")
    assert decide(client, second, pending["id"]).status_code == 200


def test_cases_the_caller_may_not_see_are_refused_exactly_like_ids_that_do_not_exist(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    _, ids = screened(client, actors, 2)
    elsewhere = actors.worker("KEMENPPPA")
    case = register(client, elsewhere, intake_body())
    assert fire(client, elsewhere, case, "begin_screening", {}).status_code == 200
    unseen = case["id"]  # now in screening, led by PEMDA: KEMLU never saw it
    assert client.get(f"/api/v1/cases/{unseen}", headers=worker.headers).status_code == 404
    missing = str(uuid.uuid4())
    answer = group(client, worker, case_ids=[*ids, unseen, missing, "not-an-id"],
                   trigger="identify", payload=IDENTIFY)  # fmt: skip
    assert answer.status_code == 200, answer.text
    results = {r["case_id"]: r for r in answer.json()["results"]}
    assert results[ids[0]]["outcome"] == "pending_approval"
    refusals = [results[k] for k in (unseen, missing, "not-an-id")]
    assert [(r["outcome"], r["code"], r["detail"]) for r in refusals] == [
        ("refused", "not_found", "case not found")
    ] * 3
    assert all(r["state"] is None and r["version"] is None for r in refusals)


def test_each_case_keeps_its_own_compare_and_set_and_guards(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, 3)
    foreigner = register(client, worker, foreign_body())["id"]
    answer = group(
        client, worker, case_ids=[*ids, foreigner], trigger="begin_screening_abroad",
        payload=MISSION, expected_versions={ids[0]: 1, ids[1]: 7},
    )  # fmt: skip
    results = {r["case_id"]: r for r in answer.json()["results"]}
    assert results[ids[0]]["outcome"] == results[ids[2]]["outcome"] == "moved"
    assert (results[ids[1]]["outcome"], results[ids[1]]["code"]) == ("refused", "version_conflict")
    assert (results[foreigner]["outcome"], results[foreigner]["code"]) == (
        "refused", "guard_refused"
    )  # fmt: skip
    again = group(client, worker, case_ids=ids, trigger="begin_screening_abroad", payload=MISSION)
    codes = {r["case_id"]: r["code"] for r in again.json()["results"]}
    assert codes[ids[0]] == "invalid_transition" and codes[ids[1]] is None
    schema = group(client, worker, case_ids=ids[:1], trigger="identify", payload={})
    assert schema.json()["results"][0]["code"] == "invalid_payload"
    not_theirs = group(client, actors.worker("KEMENSOS"), arrival_id=made["id"],
                       trigger="identify", payload=IDENTIFY)  # fmt: skip
    assert not_theirs.json()["results"] == []  # an arrival selects only the cases one may see


def test_a_group_request_names_cases_or_an_arrival_not_both(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    both = group(client, worker, case_ids=[str(uuid.uuid4())], arrival_id=str(uuid.uuid4()),
                 trigger="identify")  # fmt: skip
    assert both.status_code == 422
    neither = group(client, worker, trigger="identify")
    assert neither.status_code == 422
    unknown = group(client, worker, arrival_id=str(uuid.uuid4()), trigger="identify")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert group(client, actors.auditor(), case_ids=["x"], trigger="identify").status_code == 403


def keyed(user: User, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


def test_a_retried_group_transition_with_its_key_answers_the_first_answer_and_moves_nothing_again(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    made, ids = imported(client, worker, 3)
    body = {"arrival_id": made["id"], "trigger": "begin_screening_abroad", "payload": MISSION}
    first = client.post("/api/v1/group-transitions", json=body, headers=keyed(worker, "g-1"))
    again = client.post("/api/v1/group-transitions", json=body, headers=keyed(worker, "g-1"))
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["moved"] == 3
    for case_id in ids:  # one move each, by the first request's group
        moves = [e for e in history(client, worker, case_id) if e["kind"] == "transition"]
        assert [e["payload"]["_group"] for e in moves] == [first.json()["id"]]
    unkeyed = client.post("/api/v1/group-transitions", json=body, headers=worker.headers)
    assert unkeyed.json()["refused"] == 3  # without the key, a retry is a new request

    other = {**body, "payload": {"mission": "KBRI Phnom Penh"}}
    reused = client.post("/api/v1/group-transitions", json=other, headers=keyed(worker, "g-1"))
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_a_retry_while_the_first_group_still_runs_is_told_so_and_which_group_to_read(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.worker("KEMLU")
    made, _ = imported(client, worker, 2)
    body = {"arrival_id": made["id"], "trigger": "begin_screening_abroad", "payload": MISSION}
    first = client.post("/api/v1/group-transitions", json=body, headers=keyed(worker, "g-2"))
    assert first.status_code == 200, first.text
    with context.database.transaction() as session:  # as between its first and last batch
        record = session.get(IdempotencyRecord, (worker.id, "g-2"))
        assert record is not None
        record.status_code, record.response = 0, {"pending": first.json()["id"]}
    retry = client.post("/api/v1/group-transitions", json=body, headers=keyed(worker, "g-2"))
    assert retry.status_code == 409 and retry.json()["code"] == "request_in_progress"
    assert first.json()["id"] in retry.json()["detail"] and retry.headers["Retry-After"] == "1"


def test_a_retried_group_approval_with_its_key_answers_the_first_decision_again(
    client: TestClient, actors: Actors
) -> None:
    worker, supervisor = actors.worker("KEMLU"), actors.supervisor("KEMLU")
    _, ids = screened(client, actors, 2)
    asked = group(client, worker, case_ids=ids, trigger="identify", payload=IDENTIFY).json()
    url = f"/api/v1/group-approvals/{asked['id']}/approve"
    reason = {"reason": "checked every screening record"}
    first = client.post(url, json=reason, headers=keyed(supervisor, "a-1"))
    again = client.post(url, json=reason, headers=keyed(supervisor, "a-1"))
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and first.json()["approved"] == 2
    for case_id in ids:
        kinds = [
            e["trigger"] for e in history(client, worker, case_id) if e["kind"] == "transition"
        ]
        assert kinds.count("identify") == 1
    assert decide(client, supervisor, asked["id"]).json()["code"] == "conflict"  # unkeyed: decided
    other = client.post(url, json={"reason": "another"}, headers=keyed(supervisor, "a-1"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    rejected = client.post(url.replace("approve", "reject"), json=reason,
                           headers=keyed(supervisor, "a-1"))  # fmt: skip
    assert rejected.status_code == 422 and rejected.json()["code"] == "idempotency_key_reused"
