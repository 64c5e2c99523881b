"""Transitions over HTTP, exactly as the contract says."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, func, select

from service.kit.context import AppContext
from service.models import CaseEvent, CaseFile, Consent
from tests.factories import (
    Actors,
    User,
    child_body,
    consent,
    fire,
    fire_approved,
    foreign_body,
    path_to,
    pin_workflow,
    register,
    step,
    step_with_consent,
    walk_to,
)

# Written against version 1's pathway (kept by version 2); version 3 has its own tests
# (test_workflow_v3.py), and the walk over every state and exit below runs on both.
pytestmark = pytest.mark.workflow_version(2)


def _definition(context: AppContext) -> Any:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return engine.definition


def _event_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(CaseEvent)).one()


def test_a_transition_moves_the_case_and_adds_one_event(client: TestClient, actors: Actors) -> None:
    kemenpppa = actors.worker("KEMENPPPA")
    case = register(client, actors.worker("KEMLU"))
    response = fire(
        client,
        kemenpppa,
        case,
        "begin_screening",
        {"screening_unit": "UPTD PPA NTT"},
        note="call received",
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["state"] == "screening" and moved["ministry"] == "PEMDA" and moved["version"] == 2
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=kemenpppa.headers).json()[
        "items"
    ]
    assert [e["to_state"] for e in history] == ["referred", "screening"]
    last = history[-1]
    assert last["trigger"] == "begin_screening" and last["from_state"] == "referred"
    assert last["actor"] == kemenpppa.username and last["ministry"] == "KEMENPPPA"
    assert last["note"] == "call received" and last["prev_hash"] == history[0]["hash"]
    assert history[0]["seq"] < last["seq"]


def test_a_trigger_that_does_not_leave_the_state_is_409_invalid_transition(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    for trigger in ("identify", "no_such_trigger"):
        response = fire(client, actors.worker("KEMENPPPA"), case, trigger, {})
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert trigger in response.json()["detail"]


def test_a_stale_expected_version_is_409_version_conflict(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    response = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, version=7)
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"


def test_a_ministry_that_does_not_own_the_trigger_gets_403_but_sees_the_case(
    client: TestClient, actors: Actors
) -> None:
    police = actors.worker("POLRI")  # supports the referred state: may see, may not advance
    case = register(client, actors.worker("KEMLU"))
    assert client.get(f"/api/v1/cases/{case['id']}", headers=police.headers).status_code == 200
    response = fire(client, police, case, "begin_screening", {})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert "KEMENPPPA" in response.json()["detail"]


def test_an_auditor_may_read_but_never_fire(client: TestClient, actors: Actors) -> None:
    case = register(client, actors.worker("KEMLU"))
    assert (
        client.get(f"/api/v1/cases/{case['id']}", headers=actors.auditor().headers).status_code
        == 200
    )
    assert fire(client, actors.auditor(), case, "begin_screening", {}).status_code == 403


def test_a_ministry_that_may_not_see_the_case_gets_404(client: TestClient, actors: Actors) -> None:
    case = register(client, actors.worker("KEMLU"))
    stranger = actors.worker("KEMNAKER")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=stranger.headers).status_code == 404
    assert fire(client, stranger, case, "begin_screening", {}).status_code == 404
    assert (
        client.get(f"/api/v1/cases/{case['id']}/history", headers=stranger.headers).status_code
        == 404
    )
    assert client.get("/api/v1/cases/not-a-case", headers=stranger.headers).status_code == 404


def test_a_payload_that_breaks_its_schema_is_422_naming_the_field(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    response = fire(
        client, actors.worker("KEMLU"), case, "begin_screening_abroad", {"mision": "KBRI"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_payload"
    locations = [error["loc"] for error in body["detail"]]
    assert ["body", "payload"] in locations  # 'mission' is required, 'mision' is not allowed
    assert any("mission" in error["msg"] for error in body["detail"])


def test_a_guard_refusal_is_422_with_its_reason(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "identified", child_body())
    adult_consent = {"consent": consent(by="victim")}
    response = fire(client, actors.worker("PEMDA"), case, "record_consent", adult_consent)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "a child's consent must come from a parent or guardian",
        "code": "guard_refused",
    }
    ok = fire(
        client, actors.worker("PEMDA"), case, "record_consent", {"consent": consent(by="parent")}
    )
    assert ok.status_code == 200 and ok.json()["state"] == "emergency_care"


def test_nothing_is_half_written_when_a_request_fails(
    client: TestClient, actors: Actors, session: Session
) -> None:
    case = register(client, actors.worker("KEMLU"))
    before = _event_count(session)
    for response in (
        fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {"x": 1}),
        fire(client, actors.worker("POLRI"), case, "begin_screening", {}),
        fire(client, actors.worker("KEMENPPPA"), case, "identify", {}),
    ):
        assert response.status_code in (403, 409, 422)
    assert _event_count(session) == before
    assert (
        client.get(f"/api/v1/cases/{case['id']}", headers=actors.worker("KEMLU").headers).json()[
            "version"
        ]
        == 1
    )


def test_an_exception_after_the_state_change_leaves_nothing_written(
    client: TestClient, actors: Actors, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = register(client, actors.worker("KEMLU"))
    before = _event_count(session)

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("service.cases.transition_core.append_case_event_now", explode)
    response = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
    assert response.status_code == 500
    session.expire_all()
    stored = session.get(CaseFile, case_id(case))
    assert stored is not None and stored.state == "referred" and stored.version == 1
    assert _event_count(session) == before


def case_id(case: dict[str, Any]) -> Any:
    import uuid

    return uuid.UUID(case["id"])


def test_a_retried_idempotency_key_adds_nothing(
    client: TestClient, actors: Actors, session: Session
) -> None:
    worker = actors.worker("KEMENPPPA")
    case = register(client, actors.worker("KEMLU"))
    first = fire(client, worker, case, "begin_screening", {}, key="k-1")
    count = _event_count(session)
    again = fire(client, worker, case, "begin_screening", {}, key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert _event_count(session) == count
    other = fire(client, worker, case, "begin_screening", {"screening_unit": "x"}, key="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_due_at_follows_the_deadline_of_the_state_entered(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "emergency_care")
    entered = datetime.fromisoformat(case["state_entered_at"])
    assert datetime.fromisoformat(case["due_at"]) - entered == timedelta(
        days=7
    )  # UU 21/2007 Art. 53


def test_closing_records_the_reason_and_clears_the_deadline(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "not_identified")
    kemenpppa = actors.worker("KEMENPPPA")
    closed = fire_approved(
        client, actors, kemenpppa, case, "close_not_victim", {"reason": "not_victim"}
    )
    assert closed.status_code == 200
    body = closed.json()
    assert body["state"] == "closed" and body["closure_reason"] == "not_victim"
    assert body["due_at"] is None and body["closed_at"] is not None and body["actions"] == []


def test_the_legal_track_records_alongside_without_moving_or_delaying_the_case(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "sheltered")
    report = {"report_number": "LP/B/77/I/2026", "filed_on": "2026-01-10"}
    response = fire(client, actors.worker("POLRI"), case, "record_police_report", report)
    assert response.status_code == 200
    after = response.json()
    assert after["state"] == "sheltered" and after["version"] == case["version"] + 1
    assert after["due_at"] == case["due_at"] and after["legal"]["record_police_report"] == report
    assert (
        fire(client, actors.worker("POLRI"), after, "begin_social_rehabilitation", {}).status_code
        == 403
    )


def test_consent_is_recorded_per_purpose_and_recipient_and_withdrawn_as_an_event(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    case = walk_to(client, actors, _definition(context), "sheltered")
    rows = session.exec(select(Consent).where(col(Consent.case_id) == case_id(case))).all()
    assert len(rows) == 2 * 12  # two purposes x twelve recipients
    response = fire(
        client,
        actors.worker("KEMENSOS"),
        case,
        "withdraw_consent",
        sample_payload_for("withdraw_consent"),
    )
    assert response.status_code == 200 and response.json()["state"] == "consent_withdrawn"
    session.expire_all()
    rows = session.exec(select(Consent).where(col(Consent.case_id) == case_id(case))).all()
    assert all(row.withdrawn_at is not None for row in rows)


def sample_payload_for(trigger: str) -> dict[str, Any]:
    from tests.factories import SAMPLE_PAYLOADS

    return dict(SAMPLE_PAYLOADS[trigger])


def test_a_handover_without_consent_is_refused_unless_a_supervisor_overrides(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    definition = _definition(context)
    case = register(client, actors.worker("KEMLU"))
    for row in path_to(definition, "identified"):
        case = step(client, actors, case, row)
    narrow = {"consent": consent(recipients=["PEMDA", "KEMENKES"])}
    case = fire(client, actors.worker("PEMDA"), case, "record_consent", narrow).json()
    assert case["state"] == "emergency_care"
    refused = fire(
        client, actors.worker("KEMENKES"), case, "admit_to_shelter", {"shelter": "RPTC Bambu Apus"}
    )
    assert refused.status_code == 422 and "KEMENSOS" in refused.json()["detail"]
    override = "the victim is in danger and cannot be asked now"
    worker_try = fire(
        client,
        actors.worker("KEMENKES"),
        case,
        "admit_to_shelter",
        {"shelter": "RPTC"},
        consent_override_reason=override,
    )
    assert worker_try.status_code == 422
    supervisor = actors.supervisor("KEMENKES")
    ok = fire(
        client,
        supervisor,
        case,
        "admit_to_shelter",
        {"shelter": "RPTC"},
        consent_override_reason=override,
    )
    assert ok.status_code == 200, ok.text
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=supervisor.headers).json()[
        "items"
    ]
    assert history[-1]["payload"]["_consent_override_reason"] == override


def test_a_foreign_victim_goes_home_through_their_embassy(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "social_rehabilitation", foreign_body())
    home = fire(client, actors.worker("KEMENSOS"), case, "depart", sample_payload_for("depart"))
    assert home.status_code == 422 and "embassy" in home.json()["detail"]
    prepared = fire(
        client,
        actors.worker("KEMENSOS"),
        case,
        "prepare_foreign_return",
        sample_payload_for("prepare_foreign_return"),
    )
    assert prepared.status_code == 200 and prepared.json()["ministry"] == "KEMLU"
    done = fire_approved(
        client,
        actors,
        actors.worker("KEMLU"),
        prepared.json(),
        "return_home_abroad",
        sample_payload_for("return_home_abroad"),
    )
    assert done.status_code == 200 and done.json()["closure_reason"] == "returned_abroad"


def test_a_child_goes_home_only_after_a_best_interest_assessment(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "social_rehabilitation", child_body())
    response = fire(
        client, actors.worker("KEMENSOS"), case, "depart", {"travel_date": "2026-02-01"}
    )
    assert response.status_code == 422
    assert "best-interest" in response.json()["detail"]


def test_reconsideration_is_asked_for_only_by_the_referrer_or_a_provider(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "not_identified")
    payload = sample_payload_for("request_reconsideration")
    outsider = fire(client, actors.worker("KEMNAKER"), case, "request_reconsideration", payload)
    assert outsider.status_code == 404  # KEMNAKER never handled the case: it cannot even see it
    supporter = fire(client, actors.worker("KEMLU"), case, "request_reconsideration", payload)
    assert supporter.status_code == 200, supporter.text  # KEMLU referred it


@pytest.mark.slow
@pytest.mark.parametrize("version", [2, 3])
def test_every_state_is_reached_over_http_and_every_exit_fires_with_a_valid_payload(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    connection: Connection,
    monkeypatch: pytest.MonkeyPatch,
    version: int,
) -> None:
    """Walk to each state once, then fire each of its exits inside a savepoint rolled back after."""
    pin_workflow(monkeypatch, context, version)
    definition = _definition(context)
    assert definition.version == version
    for ministry in definition.ministries:  # made before any savepoint: no rollback unmakes them
        actors.worker(ministry)
        actors.supervisor(ministry)
    for state in definition.states:
        if definition.state(state).terminal:
            continue
        for body in (None, foreign_body()):
            barred = "foreign_national" if body is None else "indonesian_national"
            if any(barred in row.guards for row in path_to(definition, state)):
                continue  # this nationality never gets here
            case = walk_to(client, actors, definition, state, body)
            for row in definition.exits(state):
                if barred in row.guards:
                    continue
                savepoint = connection.begin_nested()
                moved = step_with_consent(client, actors, definition, case, row)
                assert moved["state"] == row.dest
                savepoint.rollback()


def test_the_whole_pathway_from_abroad_to_closure_through_four_phases(
    client: TestClient, actors: Actors
) -> None:
    """Siti is found in a Myanmar scam compound and comes home to NTT, step by step."""
    w = actors.worker
    case = register(client, w("KEMLU"))
    plan: list[tuple[User, str, dict[str, Any]]] = [
        (w("KEMLU"), "begin_screening_abroad", {"mission": "KBRI Yangon"}),
        (
            w("KEMLU"),
            "identify",
            {
                "indicators": ["deceptive_recruitment", "exploitation"],
                "recognised_foreign_identification": {
                    "country": "TH",
                    "authority": "Thai NRM, Mae Sot",
                },
            },
        ),
        (w("KEMLU"), "record_consent", {"consent": consent()}),
        (
            w("POLRI"),
            "record_police_report",
            {"report_number": "LP/B/12/III/2025", "filed_on": "2025-03-20"},
        ),
        (w("KEMLU"), "depart", {"travel_date": "2025-03-20", "travel_document": "splp"}),
        (
            w("KEMLU"),
            "hand_over_at_arrival",
            {"arrival_point": "Bandara Soekarno-Hatta", "arrived_on": "2025-03-20"},
        ),
        (w("KEMENSOS"), "admit_to_shelter", {"shelter": "RPTC Bambu Apus"}),
        (w("KEMENSOS"), "begin_social_rehabilitation", {"programme": "trauma counselling"}),
        (w("KEMENSOS"), "depart", {"travel_date": "2025-04-10"}),
        (w("KEMENSOS"), "hand_to_province", {"province": "Nusa Tenggara Timur"}),
        (w("PEMDA"), "hand_to_district", {"district": "Kabupaten Kupang"}),
        (w("PEMDA"), "reunite_with_family", {"placement": "family"}),
        (
            w("PEMDA"),
            "complete_reintegration",
            {"services": ["economic_empowerment", "identity_documents"]},
        ),
        (w("PEMDA"), "close", {"reason": "reintegrated"}),
    ]
    phases = []
    for user, trigger, payload in plan:
        response = fire_approved(client, actors, user, case, trigger, payload)
        assert response.status_code == 200, (trigger, response.text)
        case = response.json()
        phases.append(case["phase"])
    assert case["state"] == "closed" and case["closure_reason"] == "reintegrated"
    assert {"identification", "rehabilitation", "repatriation", "reintegration", "closure"} <= set(
        phases
    )
    history = client.get(
        f"/api/v1/cases/{case['id']}/history", headers=actors.auditor().headers
    ).json()["items"]
    kinds = [e["kind"] for e in history]
    assert kinds.count("transition") == len(plan) and case["version"] == len(plan) + 1
    assert kinds.count("approval_requested") == 4  # identify, depart twice, close: four eyes
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(history))


def test_timestamps_are_utc(client: TestClient, actors: Actors) -> None:
    case = register(client, actors.worker("KEMLU"))
    assert datetime.fromisoformat(case["created_at"]).tzinfo == UTC
