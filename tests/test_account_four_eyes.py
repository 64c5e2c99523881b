"""Four eyes on privileged accounts, and passwords: changed by their user, reset by an admin.

A supervisor or admin is never made, elevated, moved or handed over by one admin alone, and no
admin changes another admin's account alone; the log names both admins.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.kit.context import AppContext
from service.models import CaseEvent, UserAccount
from tests.factories import PASSWORD, Actors, User
from tests.web import get, post, visible_text, web_login


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _supervisor(client: TestClient, admin: User, username: str = "new.supervisor") -> Any:
    body = {"username": username, "role": "supervisor", "ministry": "KEMENSOS",
            "password": "a long passphrase here"}  # fmt: skip
    return client.post("/api/v1/users", json=body, headers=admin.headers)


def _events(session: Session) -> list[tuple[str, str, Any]]:
    rows = session.exec(
        select(CaseEvent).where(col(CaseEvent.stream) == "users").order_by(col(CaseEvent.seq))
    ).all()
    return [(e.kind, e.actor, e.payload.get("requested_by")) for e in rows]


def test_a_supervisor_asked_by_one_admin_exists_only_once_a_second_approves(
    client: TestClient, actors: Actors, session: Session
) -> None:
    first, second = actors.make("admin"), actors.make("admin")
    asked = _supervisor(client, first)
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    assert _login(client, "new.supervisor", "a long passphrase here").status_code == 401
    pending = client.get("/api/v1/users/requests", headers=second.headers).json()["items"]
    assert [(r["username"], r["requested_by"]) for r in pending] == [
        ("new.supervisor", first.username)
    ]
    url = f"/api/v1/users/requests/{asked.json()['id']}/approve"
    assert client.post(url, headers=first.headers).status_code == 403  # not the one who asked
    approved = client.post(url, headers=second.headers)
    assert approved.status_code == 200 and approved.json()["decided_by"] == second.username
    assert _login(client, "new.supervisor", "a long passphrase here").status_code == 200
    assert client.post(url, headers=second.headers).status_code == 404  # decided once
    assert _events(session) == [
        ("account_change_requested", first.username, first.username),
        ("user_created", second.username, first.username),
        ("account_change_approved", second.username, first.username),
    ]
    assert "argon2" not in str(client.get("/api/v1/users/requests", headers=second.headers).text)


def test_a_rejected_request_leaves_nothing_and_says_why(client: TestClient, actors: Actors) -> None:
    first, second = actors.make("admin"), actors.make("admin")
    asked = _supervisor(client, first).json()
    url = f"/api/v1/users/requests/{asked['id']}/reject"
    rejected = client.post(url, json={"reason": "not on the staff list"}, headers=second.headers)
    assert rejected.status_code == 200 and rejected.json()["decision_reason"] == (
        "not on the staff list"
    )
    assert _login(client, "new.supervisor", "a long passphrase here").status_code == 401
    assert client.get("/api/v1/users/requests", headers=second.headers).json()["items"] == []


def test_elevating_or_moving_a_supervisor_waits_and_a_case_worker_is_made_at_once(
    client: TestClient, actors: Actors
) -> None:
    first, second = actors.make("admin"), actors.make("admin")
    worker = actors.make("case_worker", "KEMENSOS")
    body = {"username": "plain.worker", "role": "case_worker", "ministry": "KEMENSOS",
            "password": "a long passphrase here"}  # fmt: skip
    assert client.post("/api/v1/users", json=body, headers=first.headers).status_code == 201
    raised = client.patch(
        f"/api/v1/users/{worker.id}", json={"role": "supervisor"}, headers=first.headers
    )
    assert raised.status_code == 202
    assert client.get("/api/v1/workflows", headers=worker.headers).status_code == 200  # as before
    users = client.get("/api/v1/users", headers=first.headers).json()["items"]
    assert next(u for u in users if u["id"] == worker.id)["role"] == "case_worker"
    url = f"/api/v1/users/requests/{raised.json()['id']}/approve"
    assert client.post(url, headers=worker.headers).status_code == 403
    assert client.post(url, headers=second.headers).status_code == 200
    users = client.get("/api/v1/users", headers=first.headers).json()["items"]
    assert next(u for u in users if u["id"] == worker.id)["role"] == "supervisor"
    assert client.get("/api/v1/workflows", headers=worker.headers).status_code == 401  # ended
    supervisor = actors.make("supervisor", "PEMDA")
    moved = client.patch(
        f"/api/v1/users/{supervisor.id}", json={"ministry": "KEMENKES"}, headers=first.headers
    )
    assert moved.status_code == 202


def test_no_admin_takes_over_another_admin_alone(client: TestClient, actors: Actors) -> None:
    first, target, third = actors.make("admin"), actors.make("admin"), actors.make("admin")
    reset = client.post(
        f"/api/v1/users/{target.id}/password-reset",
        json={"password": "a temporary passphrase"},
        headers=first.headers,
    )
    assert reset.status_code == 202
    assert _login(client, target.username, "a temporary passphrase").status_code == 401
    off = client.patch(f"/api/v1/users/{target.id}", json={"is_active": False},
                       headers=first.headers)  # fmt: skip
    assert off.status_code == 202
    approve = f"/api/v1/users/requests/{reset.json()['id']}/approve"
    assert client.post(approve, headers=target.headers).status_code == 403  # its own subject
    assert client.post(approve, headers=third.headers).status_code == 200
    assert _login(client, target.username, "a temporary passphrase").status_code == 200


def test_a_reset_password_must_be_changed_before_anything_else(
    client: TestClient, actors: Actors, session: Session
) -> None:
    admin, worker = actors.make("admin"), actors.make("case_worker", "KEMENSOS")
    reset = client.post(
        f"/api/v1/users/{worker.id}/password-reset",
        json={"password": "a temporary passphrase"},
        headers=admin.headers,
    )
    assert reset.status_code == 200
    assert client.get("/api/v1/workflows", headers=worker.headers).status_code == 401  # ended
    token = _login(client, worker.username, "a temporary passphrase").json()["access_token"]
    refused = client.get("/api/v1/workflows", headers=_bearer(token))
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    change = {"old_password": "a temporary passphrase", "new_password": "  my own words, spaced  "}
    changed = client.post("/api/v1/users/me/password", json=change, headers=_bearer(token))
    assert changed.status_code == 204
    assert client.get("/api/v1/workflows", headers=_bearer(token)).status_code == 401  # ended
    assert _login(client, worker.username, "my own words, spaced").status_code == 401
    fresh = _login(client, worker.username, "  my own words, spaced  ").json()["access_token"]
    assert client.get("/api/v1/workflows", headers=_bearer(fresh)).status_code == 200
    kinds = [kind for kind, _actor, _by in _events(session)]
    assert kinds == ["password_reset", "password_changed"]


def test_a_password_change_needs_the_old_password_and_a_good_new_one(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.make("case_worker", "KEMENSOS")
    for old, new in ((PASSWORD + "x", "a new long passphrase"), (PASSWORD, "Password1234")):
        response = client.post(
            "/api/v1/users/me/password",
            json={"old_password": old, "new_password": new},
            headers=worker.headers,
        )
        assert response.status_code == 422 and "password" in response.json()["detail"]
    assert client.get("/api/v1/workflows", headers=worker.headers).status_code == 200


def test_the_web_sends_a_user_with_a_reset_password_to_change_it_first(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    worker = actors.make("case_worker", "KEMENSOS")
    with context.database.transaction() as session:
        account = session.get(UserAccount, worker.id)
        assert account is not None
        account.must_change_password = True
    me = web_login(context, worker)
    sent = get(client, me, "/work")
    assert sent.status_code == 303 and sent.headers["location"] == "/account/password"
    form = get(client, me, "/account/password")
    assert form.status_code == 200 and "menyetel ulang kata sandi" in visible_text(form.text)
    wrong = {"old_password": "not it at all", "new_password": "my very own phrase"}
    assert post(client, me, "/account/password", wrong).status_code == 422
    mine = {"old_password": PASSWORD, "new_password": " my very own phrase "}
    done = post(client, me, "/account/password", mine)
    assert done.status_code == 303 and done.headers["location"].startswith("/login")
    assert _login(client, worker.username, " my very own phrase ").status_code == 200


def test_a_second_admin_approves_on_the_users_page(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    first, second = actors.make("admin"), actors.make("admin")
    asking, deciding = web_login(context, first), web_login(context, second)
    body = {"username": "web.supervisor", "role": "supervisor", "ministry": "KEMENSOS",
            "password": "a long passphrase here"}  # fmt: skip
    asked = post(client, asking, "/admin/users", body)
    assert asked.status_code == 303 and "pending=1" in asked.headers["location"]
    page = visible_text(get(client, deciding, "/admin/users").text)
    assert "web.supervisor" in page and first.username in page
    request_id = client.get("/api/v1/users/requests", headers=second.headers).json()["items"][0]
    url = f"/admin/users/requests/{request_id['id']}/approve"
    refused = post(client, asking, url)
    assert refused.status_code == 403  # the one who asked sees the refusal
    assert post(client, deciding, url).status_code == 303
    assert _login(client, "web.supervisor", "a long passphrase here").status_code == 200
