"""A stored answer to an Idempotency-Key is replayed only as far as the caller may see it now,
and only for `idempotency_ttl_hours`: after that the key is a new key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from service.kit.context import AppContext
from service.models import utcnow
from service.units.repository import national
from tests.factories import Actors, User, fire, intake_body

NAME = "Siti Rahayu"


def _intake(client: TestClient, user: User, key: str) -> Any:
    headers = {**user.headers, "Idempotency-Key": key}
    return client.post("/api/v1/cases", json=intake_body(), headers=headers)


def _move(context: AppContext, user: User, ministry: str | None, role: str) -> None:
    """The user's role or office changes behind their still-valid token."""
    with context.database.transaction() as session:
        unit = national(session, ministry) if ministry else None
        session.execute(
            text("UPDATE user_account SET role = :r, ministry = :m, unit_id = :u WHERE id = :id"),
            {"r": role, "m": ministry, "u": unit.id if unit else None, "id": user.id},
        )


def _looks(client: TestClient, actors: Actors, case_id: str) -> list[str]:
    rows = client.get(
        f"/api/v1/audit/identity-access?case_id={case_id}", headers=actors.auditor().headers
    ).json()["items"]
    return [row["endpoint"] for row in rows]


def test_a_replay_after_moving_to_a_ministry_that_cannot_see_the_case_is_not_found(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.make("case_worker", "KEMLU")
    first = _intake(client, worker, "move-1")
    assert first.status_code == 201 and first.json()["victim"]["full_name"] == NAME
    outsider = actors.worker("LPSK")
    seen = client.get(f"/api/v1/cases/{first.json()['id']}", headers=outsider.headers)
    assert seen.status_code == 404
    _move(context, worker, "LPSK", "case_worker")
    replay = _intake(client, worker, "move-1")
    assert replay.status_code == 404 and replay.json()["code"] == "not_found"
    assert NAME not in replay.text


def test_a_replay_shows_the_identity_only_if_the_caller_may_see_it_now(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.make("case_worker", "KEMLU")
    first = _intake(client, worker, "move-2").json()
    _move(context, worker, "POLRI", "case_worker")  # POLRI supports the step: the pseudonym
    replay = _intake(client, worker, "move-2")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    victim = replay.json()["victim"]
    assert victim["identity_visible"] is False and victim["pseudonym"] == first["reference"]
    assert NAME not in replay.text and victim.get("full_name") is None
    assert _looks(client, actors, first["id"]) == ["POST /api/v1/cases"]  # no look replayed


def test_a_replay_to_one_who_may_still_see_the_identity_is_a_logged_look(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.make("case_worker", "KEMLU")
    first = _intake(client, worker, "stay-1").json()
    replay = _intake(client, worker, "stay-1")
    assert replay.json()["victim"]["full_name"] == NAME
    assert _looks(client, actors, first["id"]) == [
        "POST /api/v1/cases", "POST /api/v1/cases (replay)",
    ]  # fmt: skip


def test_a_transition_replay_after_losing_the_case_worker_role_is_refused(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _intake(client, actors.worker("KEMLU"), "t-intake").json()
    mover = actors.make("case_worker", "KEMENPPPA")
    assert fire(client, mover, case, "begin_screening", {}, key="t-1").status_code == 200
    _move(context, mover, None, "auditor")
    replay = fire(client, mover, case, "begin_screening", {}, key="t-1")
    assert replay.status_code == 403 and replay.json()["code"] == "forbidden"
    assert NAME not in replay.text


def test_a_transition_replay_after_moving_away_from_the_case_is_not_found(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _intake(client, actors.worker("KEMLU"), "t-intake-2").json()
    mover = actors.make("case_worker", "KEMENPPPA")
    assert fire(client, mover, case, "begin_screening", {}, key="t-2").status_code == 200
    _move(context, mover, "LPSK", "case_worker")
    replay = fire(client, mover, case, "begin_screening", {}, key="t-2")
    assert replay.status_code == 404 and NAME not in replay.text


def _age_key(session: Session, key: str, hours: float) -> None:
    session.execute(
        text("UPDATE idempotency_record SET created_at = :at WHERE key = :key"),
        {"at": utcnow() - timedelta(hours=hours), "key": key},
    )
    session.commit()


def test_a_stored_answer_is_replayed_within_the_ttl_and_a_key_past_it_is_a_new_key(
    client: TestClient, actors: Actors, session: Session, context: AppContext
) -> None:
    assert context.settings.idempotency_ttl_hours == 24
    worker = actors.make("case_worker", "KEMLU")
    first = _intake(client, worker, "old-1").json()
    _age_key(session, "old-1", 23)
    again = _intake(client, worker, "old-1")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first["id"]
    _age_key(session, "old-1", 25)
    fresh = _intake(client, worker, "old-1")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] != first["id"]
    later = _intake(client, worker, "old-1")  # the key now holds the new answer
    assert later.headers.get("Idempotent-Replayed") == "true"
    assert later.json()["id"] == fresh.json()["id"]
