"""Four eyes: sensitive transitions wait for a second person of the same ministry."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.kit.context import AppContext
from tests.factories import Actors, approve, fire, walk_to

IDENTIFY = {"indicators": ["deceptive_recruitment", "exploitation"]}


def _screening(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return walk_to(client, actors, engine.definition, "screening")


def _get(client: TestClient, actors: Actors, case: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.get(
        f"/api/v1/cases/{case['id']}", headers=actors.auditor().headers
    ).json()
    return body


def test_a_sensitive_transition_waits_and_the_case_does_not_move(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _screening(client, actors, context)
    pending = fire(client, actors.worker("PEMDA"), case, "identify", IDENTIFY)
    assert pending.status_code == 202
    body = pending.json()
    assert body["status"] == "pending_approval" and body["approval"]["status"] == "pending"
    assert body["case"]["state"] == "screening" and body["case"]["version"] == case["version"]
    listed = client.get("/api/v1/approvals", headers=actors.supervisor("PEMDA").headers).json()[
        "items"
    ]
    assert [a["id"] for a in listed] == [body["approval"]["id"]]
    assert (
        client.get("/api/v1/approvals", headers=actors.supervisor("KEMLU").headers).json()["items"]
        == []
    )
    mine = client.get("/api/v1/approvals", headers=actors.worker("PEMDA").headers).json()["items"]
    assert [a["requested_by"] for a in mine] == [actors.worker("PEMDA").username]


def test_a_supervisor_of_the_same_ministry_approves_and_the_event_names_both_people(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _screening(client, actors, context)
    pending = fire(
        client, actors.worker("PEMDA"), case, "identify", IDENTIFY, note="two interviews"
    )
    approved = approve(client, actors.supervisor("PEMDA"), pending)
    assert approved.status_code == 200, approved.text
    assert (
        approved.json()["state"] == "identified"
        and approved.json()["version"] == case["version"] + 1
    )
    history = client.get(  # a reader of the case: the note opens (auditors see it sealed)
        f"/api/v1/cases/{case['id']}/history", headers=actors.supervisor("PEMDA").headers
    ).json()["items"]
    requested, moved = history[-2], history[-1]
    assert (
        requested["kind"] == "approval_requested"
        and requested["actor"] == actors.worker("PEMDA").username
    )
    assert moved["kind"] == "transition" and moved["trigger"] == "identify"
    assert moved["actor"] == actors.supervisor("PEMDA").username
    assert moved["payload"]["_approval"]["requested_by"] == actors.worker("PEMDA").username
    assert moved["note"] == "two interviews"


def test_nobody_approves_their_own_request_and_other_ministries_cannot_decide(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _screening(client, actors, context)
    supervisor = actors.supervisor("PEMDA")
    pending = fire(client, supervisor, case, "identify", IDENTIFY)
    assert pending.status_code == 202  # a supervisor's own sensitive step needs a second supervisor
    assert approve(client, supervisor, pending).status_code == 403
    assert approve(client, actors.worker("PEMDA"), pending).status_code == 403
    assert approve(client, actors.supervisor("KEMENPPPA"), pending).status_code == 403
    assert approve(client, actors.supervisor("KEMNAKER"), pending).status_code == 404
    second = actors.make("supervisor", "PEMDA")
    assert approve(client, second, pending).status_code == 200


def test_a_rejection_keeps_the_case_and_records_the_reason(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _screening(client, actors, context)
    approval_id = fire(client, actors.worker("PEMDA"), case, "identify", IDENTIFY).json()[
        "approval"
    ]["id"]
    rejected = client.post(
        f"/api/v1/approvals/{approval_id}/reject",
        json={"reason": "interview the employer first"},
        headers=actors.supervisor("PEMDA").headers,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "interview the employer first"
    assert _get(client, actors, case)["state"] == "screening"
    again = approve(
        client,
        actors.supervisor("PEMDA"),
        fire(client, actors.worker("PEMDA"), _get(client, actors, case), "identify", IDENTIFY),
    )
    assert again.status_code == 200  # a new request after a rejection is a new decision


def test_one_pending_request_per_case_and_the_requester_may_cancel(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _screening(client, actors, context)
    first = fire(client, actors.worker("PEMDA"), case, "identify", IDENTIFY)
    second = fire(
        client,
        actors.worker("PEMDA"),
        case,
        "decide_not_identified",
        {"grounds": "no indicators found"},
    )
    assert second.status_code == 409 and second.json()["code"] == "approval_pending"
    approval_id = first.json()["approval"]["id"]
    other = actors.make("case_worker", "PEMDA")
    assert (
        client.post(f"/api/v1/approvals/{approval_id}/cancel", headers=other.headers).status_code
        == 403
    )
    cancelled = client.post(
        f"/api/v1/approvals/{approval_id}/cancel", headers=actors.worker("PEMDA").headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert approve(client, actors.supervisor("PEMDA"), first).status_code == 409


def test_a_request_is_superseded_when_the_case_moves_on(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    case = walk_to(client, actors, engine.definition, "monitoring")
    pending = fire(client, actors.worker("PEMDA"), case, "close", {"reason": "reintegrated"})
    assert pending.status_code == 202
    moved = fire(
        client,
        actors.worker("PEMDA"),
        _get(client, actors, case),
        "reopen",
        {"grounds": "the recruiter came back"},
    )
    assert moved.status_code == 200 and moved.json()["state"] == "reassessment"
    late = approve(client, actors.supervisor("PEMDA"), pending)
    assert late.status_code == 409 and "superseded" in late.json()["detail"]
    assert _get(client, actors, case)["state"] == "reassessment"
