"""Assignment: who may assign, claim and hand back, and how a hand-over ends it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.kit.context import AppContext
from tests.factories import Actors, User, fire, fire_approved, race_after_reading, register

CASES = "/api/v1/cases"


def _assign(client: TestClient, user: User, case: dict[str, Any], assignee: str) -> Any:
    return client.put(
        f"{CASES}/{case['id']}/assignee", json={"assignee": assignee}, headers=user.headers
    )


def _claim(client: TestClient, user: User, case: dict[str, Any]) -> Any:
    return client.post(f"{CASES}/{case['id']}/claim", headers=user.headers)


def _hand_back(client: TestClient, user: User, case: dict[str, Any]) -> Any:
    return client.delete(f"{CASES}/{case['id']}/assignee", headers=user.headers)


def _history(client: TestClient, user: User, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"{CASES}/{case['id']}/history", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _mine(client: TestClient, user: User) -> list[str]:
    response = client.get("/api/v1/me/cases", headers=user.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def case(client: TestClient, actors: Actors) -> dict[str, Any]:
    """A fresh referral: led by KEMENPPPA."""
    return register(client, actors.worker("KEMLU"))


def test_a_supervisor_assigns_a_case_worker_of_the_lead_ministry(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    worker = actors.worker("KEMENPPPA")
    response = _assign(client, actors.supervisor("KEMENPPPA"), case, worker.username)
    assert response.status_code == 200, response.text
    assert response.json()["assigned_to"] == worker.username
    assert response.json()["version"] == 1  # assignment is not a transition
    last = _history(client, worker, case)[-1]
    assert last["kind"] == "assigned" and last["actor"] == actors.supervisor("KEMENPPPA").username
    assert last["payload"] == {"assignee": worker.username, "previous": None, "how": "assigned"}
    assert _mine(client, worker) == [case["id"]]
    queue = client.get("/api/v1/queues/KEMENPPPA", headers=worker.headers).json()["items"]
    assert [i["assigned_to"] for i in queue if i["id"] == case["id"]] == [worker.username]


def test_reassignment_records_the_previous_assignee(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    supervisor = actors.supervisor("KEMENPPPA")
    first, second = actors.worker("KEMENPPPA"), actors.make("case_worker", "KEMENPPPA")
    assert _assign(client, supervisor, case, first.username).status_code == 200
    assert _assign(client, supervisor, case, second.username).status_code == 200
    last = _history(client, supervisor, case)[-1]
    assert last["payload"] == {
        "assignee": second.username, "previous": first.username, "how": "reassigned",
    }  # fmt: skip
    assert _mine(client, first) == [] and _mine(client, second) == [case["id"]]
    events = len(_history(client, supervisor, case))
    assert _assign(client, supervisor, case, second.username).status_code == 200
    assert len(_history(client, supervisor, case)) == events  # no change, no event


@pytest.mark.parametrize(
    ("who", "assignee", "status", "code"),
    [
        (("supervisor", "PEMDA"), ("case_worker", "KEMENPPPA"), 403, "forbidden"),  # sees it
        (("supervisor", "KEMENSOS"), ("case_worker", "KEMENPPPA"), 404, "not_found"),
        (("case_worker", "KEMENPPPA"), ("case_worker", "KEMENPPPA"), 403, "forbidden"),
        (("auditor", None), ("case_worker", "KEMENPPPA"), 403, "forbidden"),
        (("supervisor", "KEMENPPPA"), ("case_worker", "KEMENSOS"), 422, "invalid"),
        (("supervisor", "KEMENPPPA"), ("supervisor", "KEMENPPPA"), 422, "invalid"),
        (("supervisor", "KEMENPPPA"), ("auditor", None), 422, "invalid"),
    ],
)
def test_only_a_lead_supervisor_assigns_and_only_to_a_lead_case_worker(
    client: TestClient,
    actors: Actors,
    case: dict[str, Any],
    who: tuple[str, str | None],
    assignee: tuple[str, str | None],
    status: int,
    code: str,
) -> None:
    response = _assign(client, actors.get(*who), case, actors.get(*assignee).username)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_assigning_an_unknown_user_or_a_deactivated_one_is_422(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    supervisor = actors.supervisor("KEMENPPPA")
    assert _assign(client, supervisor, case, "nobody.at.all").status_code == 422
    response = client.put(
        f"{CASES}/{case['id']}/assignee", json={"assignee": ""}, headers=supervisor.headers
    )
    assert response.status_code == 422


def test_a_case_that_is_not_visible_is_404(client: TestClient, actors: Actors) -> None:
    case = register(client, actors.worker("KEMLU"))
    outsider = actors.worker("KEMNAKER")  # neither leads, referred, nor supports `referred`
    assert _claim(client, outsider, case).status_code == 404
    assert client.post(f"{CASES}/not-a-uuid/claim", headers=outsider.headers).status_code == 404


def test_a_case_worker_claims_an_unassigned_case_once(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    worker, colleague = actors.worker("KEMENPPPA"), actors.make("case_worker", "KEMENPPPA")
    response = _claim(client, worker, case)
    assert response.status_code == 200 and response.json()["assigned_to"] == worker.username
    assert _history(client, worker, case)[-1]["payload"]["how"] == "claimed"
    events = len(_history(client, worker, case))
    assert _claim(client, worker, case).status_code == 200  # already theirs: nothing changes
    assert len(_history(client, worker, case)) == events
    taken = _claim(client, colleague, case)
    assert taken.status_code == 409 and taken.json()["code"] == "already_assigned"
    assert worker.username in taken.json()["detail"]


def test_only_a_case_worker_of_the_lead_ministry_claims(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    for user in (actors.worker("PEMDA"), actors.supervisor("KEMENPPPA"), actors.auditor()):
        response = _claim(client, user, case)  # PEMDA supports `referred`: it sees the case
        assert response.status_code == 403, (user.username, response.text)


def test_hand_back_by_the_assignee_or_a_supervisor(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    worker, colleague = actors.worker("KEMENPPPA"), actors.make("case_worker", "KEMENPPPA")
    not_assigned = _hand_back(client, worker, case)
    assert not_assigned.status_code == 409 and not_assigned.json()["code"] == "not_assigned"
    assert _claim(client, worker, case).status_code == 200
    assert _hand_back(client, colleague, case).status_code == 403
    back = _hand_back(client, worker, case)
    assert back.status_code == 200 and back.json()["assigned_to"] is None
    last = _history(client, worker, case)[-1]
    assert last["kind"] == "unassigned"
    assert last["payload"] == {"previous": worker.username, "reason": "handed_back"}
    assert _claim(client, colleague, case).status_code == 200
    assert _hand_back(client, actors.supervisor("KEMENPPPA"), case).status_code == 200
    assert _mine(client, colleague) == []


def test_a_hand_over_to_another_ministry_ends_the_assignment_in_the_transition(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    worker = actors.worker("KEMENPPPA")
    assert _claim(client, worker, case).status_code == 200
    moved = fire(client, worker, case, "begin_screening", {})
    assert moved.status_code == 200, moved.text
    history = _history(client, worker, case)
    transition, unassigned = history[-2], history[-1]
    assert transition["kind"] == "transition" and transition["to_state"] == "screening"
    assert unassigned["kind"] == "unassigned" and unassigned["prev_hash"] == transition["hash"]
    assert unassigned["payload"] == {
        "previous": worker.username, "reason": "handed_over", "to_ministry": "PEMDA",
    }  # fmt: skip
    assert _mine(client, worker) == []
    pemda = client.get("/api/v1/queues/PEMDA", headers=actors.worker("PEMDA").headers).json()
    assert [i["assigned_to"] for i in pemda["items"] if i["id"] == case["id"]] == [None]


def test_the_assignment_is_kept_while_the_same_ministry_leads(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    worker = actors.worker("KEMENPPPA")
    assert _claim(client, worker, case).status_code == 200
    recorded = fire(client, actors.worker("POLRI"), case, "record_police_report",
                    {"report_number": "LP/B/1/2026", "filed_on": "2026-01-20"})  # fmt: skip
    assert recorded.status_code == 200, recorded.text
    assert _mine(client, worker) == [case["id"]]


def test_if_the_transition_fails_the_case_stays_in_its_queue_and_assigned(
    client: TestClient, actors: Actors, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The move, the new queue and the end of the assignment are one transaction."""
    from service.audit import log as audit_log
    from service.cases import transition_core

    worker = actors.worker("KEMENPPPA")
    assert _claim(client, worker, case).status_code == 200
    real_append = audit_log.append_case_event

    def crash_on_unassigning(*args: Any, **kwargs: Any) -> Any:
        if kwargs["kind"] == "unassigned":  # after the transition's own event was written
            raise RuntimeError("the server fails half-way through the transition")
        return real_append(*args, **kwargs)

    monkeypatch.setattr(transition_core, "append_case_event", crash_on_unassigning)
    failed = fire(client, worker, case, "begin_screening", {})
    assert failed.status_code == 500
    monkeypatch.undo()
    assert client.get(f"{CASES}/{case['id']}", headers=worker.headers).json()["state"] == "referred"
    assert _mine(client, worker) == [case["id"]]
    pemda = client.get("/api/v1/queues/PEMDA", headers=actors.worker("PEMDA").headers).json()
    assert case["id"] not in [i["id"] for i in pemda["items"]]


def test_closing_a_case_ends_its_assignment_and_it_cannot_be_assigned_again(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    kemenpppa, pemda = actors.worker("KEMENPPPA"), actors.worker("PEMDA")
    case = fire(client, kemenpppa, case, "begin_screening", {}).json()
    grounds = {"grounds": "no indicators were found"}
    case = fire_approved(client, actors, pemda, case, "decide_not_identified", grounds).json()
    assert _claim(client, kemenpppa, case).status_code == 200
    closed = fire_approved(
        client, actors, kemenpppa, case, "close_not_victim", {"reason": "not_victim"}
    )
    assert closed.status_code == 200, closed.text
    last = _history(client, kemenpppa, case)[-1]
    assert last["kind"] == "unassigned" and last["payload"]["reason"] == "closed"
    again = _claim(client, kemenpppa, case)
    assert again.status_code == 409 and again.json()["code"] == "case_closed"
    supervisor = actors.supervisor("KEMENPPPA")
    assert _assign(client, supervisor, case, kemenpppa.username).status_code == 409


def test_my_cases_is_for_case_workers_and_supervisors(client: TestClient, actors: Actors) -> None:
    for user in (actors.auditor(), actors.admin()):
        assert client.get("/api/v1/me/cases", headers=user.headers).status_code == 403


CLIENTS = 4


def test_concurrent_hand_overs_of_an_assigned_case_one_wins_the_others_409(
    committed_context: Callable[[], AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ending the assignment inside the transition must not flush before the compare-and-set."""
    context = committed_context()
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker = actors.worker("KEMENPPPA")
        case = register(client, actors.worker("KEMLU"))
        assert _claim(client, worker, case).status_code == 200
        race_after_reading(monkeypatch, context, CLIENTS)
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [
                pool.submit(fire, client, worker, case, "begin_screening", {})
                for _ in range(CLIENTS)
            ]
            responses = [f.result() for f in futures]
        outcomes = Counter(r.status_code for r in responses)
        assert outcomes == {200: 1, 409: CLIENTS - 1}, [r.text for r in responses]
        monkeypatch.undo()
        kinds = [e["kind"] for e in _history(client, worker, case)]
        assert kinds == ["created", "assigned", "transition", "unassigned"]


def test_the_case_itself_shows_who_works_it_and_its_service_level(
    client: TestClient, actors: Actors, case: dict[str, Any]
) -> None:
    kemenpppa = actors.worker("KEMENPPPA")
    before = client.get(f"{CASES}/{case['id']}", headers=kemenpppa.headers).json()
    assert before["assigned_to"] is None and before["sla"] == "on_track"
    assert _claim(client, kemenpppa, case).status_code == 200
    after = client.get(f"{CASES}/{case['id']}", headers=kemenpppa.headers).json()
    assert after["assigned_to"] == kemenpppa.username
