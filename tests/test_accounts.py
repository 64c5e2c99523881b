"""Accounts: short-lived tokens and their renewal, logout, rate limits, password policy, admin."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.models import CaseEvent
from tests.factories import PASSWORD, Actors, User


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_are_short_lived_and_renew_with_a_single_use_refresh_token(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("KEMENSOS")
    tokens = _login(client, user.username).json()
    assert 0 < tokens["expires_in"] <= 15 * 60
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert (
        client.get("/api/v1/workflows", headers=_bearer(fresh["access_token"])).status_code == 200
    )
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401  # a used refresh token coming back ends the whole session
    assert (
        client.get("/api/v1/workflows", headers=_bearer(fresh["access_token"])).status_code == 401
    )
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert after.status_code == 401


def test_logout_ends_the_session_at_once(client: TestClient, actors: Actors) -> None:
    user = actors.worker("KEMENSOS")
    tokens = _login(client, user.username).json()
    headers = _bearer(tokens["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/workflows", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ).status_code
        == 401
    )
    assert (
        client.get("/api/v1/workflows", headers=user.headers).status_code == 200
    )  # other sessions live


def test_repeated_failures_for_a_user_are_slowed_with_429_and_retry_after(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("KEMENSOS")
    for _ in range(5):
        assert _login(client, user.username, "wrong password!").status_code == 401
    blocked = _login(client, user.username)  # even the right password waits
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_requests"
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert _login(client, actors.worker("KEMENKES").username).status_code == 200


def test_an_unknown_user_is_limited_like_a_known_one(client: TestClient) -> None:
    codes = [_login(client, "nobody.at.all", "some password!").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_one_client_address_guessing_many_users_is_limited(client: TestClient) -> None:
    codes = [_login(client, f"guess.{n}", "some password!").status_code for n in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429


def test_a_success_clears_the_user_failures(client: TestClient, actors: Actors) -> None:
    user = actors.worker("KEMENSOS")
    for _ in range(4):
        _login(client, user.username, "wrong password!")
    assert _login(client, user.username).status_code == 200
    for _ in range(4):
        assert _login(client, user.username, "wrong password!").status_code == 401


def _create(client: TestClient, admin: User, **fields: Any) -> Any:
    body = {
        "username": "new.person",
        "role": "case_worker",
        "ministry": "KEMENSOS",
        "password": "a long passphrase here",
        **fields,
    }
    return client.post("/api/v1/users", json=body, headers=admin.headers)


def test_the_password_policy_refuses_short_common_and_username_passwords(
    client: TestClient, actors: Actors
) -> None:
    admin = actors.admin()
    for password in ("short", "aaaaaaaaaaaaaaaa", "indonesia2026", "new.person-is-me"):
        response = _create(client, admin, password=password)
        assert response.status_code == 422, password
        assert "password" in response.text
    assert _create(client, admin).status_code == 201


def test_admin_actions_are_recorded_and_deactivation_acts_at_once(
    client: TestClient, actors: Actors, session: Session
) -> None:
    admin = actors.admin()
    created = _create(client, admin).json()
    token = _login(client, "new.person", "a long passphrase here").json()["access_token"]
    assert client.get("/api/v1/workflows", headers=_bearer(token)).status_code == 200
    changed = client.patch(
        f"/api/v1/users/{created['id']}", json={"is_active": False}, headers=admin.headers
    )
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert client.get("/api/v1/workflows", headers=_bearer(token)).status_code == 401
    role = client.patch(
        f"/api/v1/users/{created['id']}",
        json={"role": "auditor", "ministry": None},
        headers=admin.headers,
    )
    assert role.status_code == 200 and role.json()["role"] == "auditor"
    events = session.exec(
        select(CaseEvent).where(col(CaseEvent.stream) == "users").order_by(col(CaseEvent.seq))
    ).all()
    assert [(e.kind, e.actor, e.payload["username"]) for e in events] == [
        ("user_created", admin.username, "new.person"),
        ("user_updated", admin.username, "new.person"),
        ("user_updated", admin.username, "new.person"),
    ]
    assert "password" not in str([e.payload for e in events])


def test_role_changes_keep_the_ministry_rule_and_an_admin_cannot_demote_themselves(
    client: TestClient, actors: Actors
) -> None:
    admin = actors.admin()
    created = _create(client, admin).json()
    bad = client.patch(
        f"/api/v1/users/{created['id']}", json={"role": "auditor"}, headers=admin.headers
    )
    assert bad.status_code == 200  # moving to a role without a ministry drops it
    assert bad.json()["ministry"] is None
    to_worker = client.patch(
        f"/api/v1/users/{created['id']}", json={"role": "case_worker"}, headers=admin.headers
    )
    assert to_worker.status_code == 422 and "ministry" in to_worker.json()["detail"]
    itself = client.patch(
        f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )
    assert itself.status_code == 409
    assert (
        client.patch(
            "/api/v1/users/999999", json={"is_active": True}, headers=admin.headers
        ).status_code
        == 404
    )
