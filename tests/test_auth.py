"""Who acts: passwords, tokens, and who may call what."""

from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.security import issue_token
from service.kit.context import AppContext
from service.models import UserAccount
from tests.factories import PASSWORD, Actors


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


def test_a_user_logs_in_and_the_token_opens_the_api(client: TestClient, actors: Actors) -> None:
    user = actors.worker("KEMENSOS")
    status, body = _login(client, user.username, PASSWORD)
    assert status == 200 and body["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/workflows", headers=headers).status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("KEMENSOS")
    wrong = _login(client, user.username, "not the password at all")
    unknown = _login(client, "nobody.here", "not the password at all")
    assert (
        wrong
        == unknown
        == (401, {"detail": "incorrect username or password", "code": "not_authenticated"})
    )


def test_a_deactivated_user_is_refused_at_once(
    client: TestClient, actors: Actors, session: Session
) -> None:
    user = actors.worker("KEMENSOS")
    assert client.get("/api/v1/workflows", headers=user.headers).status_code == 200
    account = session.get(UserAccount, user.id)
    assert account is not None
    account.is_active = False
    session.commit()
    assert client.get("/api/v1/workflows", headers=user.headers).status_code == 401
    assert _login(client, user.username, PASSWORD)[0] == 401


def test_every_api_path_needs_a_valid_token(
    client: TestClient, context: AppContext, actors: Actors
) -> None:
    user = actors.worker("KEMENSOS")
    expired, _ = issue_token(context.settings.keys.secret_key, user.id, "s", timedelta(minutes=-1))
    forged = jwt.encode(
        {"sub": str(user.id), "sid": "s", "exp": 9999999999, "typ": "access"}, "x" * 40, "HS256"
    )
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
    ):
        for path in ("/api/v1/workflows", "/api/v1/workflows/nrm-indonesia", "/api/v1/users"):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json()["code"] == "not_authenticated"


def test_only_admins_list_users_and_no_password_material_leaves(
    client: TestClient, actors: Actors
) -> None:
    for user in (actors.worker("KEMENSOS"), actors.supervisor("KEMENSOS"), actors.auditor()):
        assert client.get("/api/v1/users", headers=user.headers).status_code == 403
    response = client.get("/api/v1/users", headers=actors.admin().headers)
    assert response.status_code == 200
    assert "password" not in response.text and "argon2" not in response.text


def test_an_admin_creates_users_with_one_role_and_the_right_ministry(
    client: TestClient, actors: Actors
) -> None:
    admin = actors.admin()

    def create(**fields: object) -> tuple[int, dict[str, object]]:
        body = {
            "username": "new.user",
            "role": "case_worker",
            "password": "a long enough password",
            **fields,
        }
        response = client.post("/api/v1/users", json=body, headers=admin.headers)
        return response.status_code, response.json()

    assert create()[0] == 422  # a case worker needs a ministry
    assert "not a ministry code" in str(create(ministry="KEMENTAN")[1])
    assert create(role="auditor", ministry="POLRI")[0] == 422
    assert create(password="short")[0] == 422
    status, user = create(ministry="POLRI")
    assert status == 201 and user["ministry"] == "POLRI" and user["role"] == "case_worker"
    assert create(ministry="POLRI")[0] == 409
