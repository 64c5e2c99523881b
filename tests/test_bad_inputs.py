"""Inputs that once answered 500 (or a code that said nothing): each is a 4xx with a code, on
SQLite and on PostgreSQL alike (the suite runs on PostgreSQL with NRM_TEST_DATABASE_URL set).
Each is refused before any use case runs, so nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.factories import Actors, fire, intake_body, register

NUL = "a\x00b"


@dataclass(frozen=True)
class Bad:
    send: Callable[[TestClient, Actors], Response]
    status: int
    code: str
    names: str | None = None  # the field the refusal must name


def _admin_patch(body: dict[str, Any]) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        target = actors.make("case_worker", "KEMENSOS")
        return client.patch(f"/api/v1/users/{target.id}", json=body, headers=actors.admin().headers)

    return send


def _get(url: str, who: str = "auditor") -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        user = actors.auditor() if who == "auditor" else actors.supervisor("KEMENSOS")
        return client.get(url, headers=user.headers)

    return send


def _fire_with_note(note: str) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        case = register(client, actors.worker("KEMLU"), intake_body())
        return fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, note=note)

    return send


def _intake(**victim: Any) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        return client.post(
            "/api/v1/cases", json=intake_body(**victim), headers=actors.worker("KEMLU").headers
        )

    return send


def _raw_post(
    path: str, body: bytes, content_type: str
) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        headers = {**actors.worker("KEMLU").headers, "Content-Type": content_type}
        return client.post(path, content=body, headers=headers)

    return send


def _login(
    username: str, password: str = "some password!"
) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, _actors: Actors) -> Response:
        return client.post("/api/v1/auth/token", data={"username": username, "password": password})

    return send


def _admin_create(**fields: Any) -> Callable[[TestClient, Actors], Response]:
    def send(client: TestClient, actors: Actors) -> Response:
        body = {"username": "new.person", "role": "auditor", "password": "a long passphrase here"}
        return client.post("/api/v1/users", json={**body, **fields}, headers=actors.admin().headers)

    return send


STATS = "/api/v1/ministries/KEMENSOS/stats"
CASES: dict[str, Bad] = {
    "user is_active null": Bad(
        _admin_patch({"is_active": None}), 422, "validation_error", "is_active"
    ),
    "user role null": Bad(_admin_patch({"role": None}), 422, "validation_error", "role"),
    "stats to 9999-12-31": Bad(_get(f"{STATS}?to=9999-12-31", "sup"), 422, "invalid", "to"),
    "stats from 0001-01-01": Bad(_get(f"{STATS}?from=0001-01-01", "sup"), 422, "invalid", "from"),
    "identity-access since without zone": Bad(
        _get("/api/v1/audit/identity-access?since=2026-01-01T00:00:00"), 422, "invalid", "since"
    ),
    "identity-access huge cursor": Bad(
        _get("/api/v1/audit/identity-access?cursor=9223372036854775808"), 422, "invalid_cursor"
    ),
    "events until=0.5": Bad(
        _get("/api/v1/audit/events?until=0.5"), 422, "validation_error", "until"
    ),
    "events since=1700000000": Bad(
        _get("/api/v1/audit/events?since=1700000000"), 422, "validation_error", "since"
    ),
    "identity-access until=0.5": Bad(
        _get("/api/v1/audit/identity-access?until=0.5"), 422, "validation_error", "until"
    ),
    "NUL in a transition note": Bad(_fire_with_note(NUL), 422, "validation_error", "note"),
    "NUL in a victim name": Bad(_intake(full_name=NUL), 422, "validation_error", "full_name"),
    "NUL in a login username": Bad(_login(NUL), 422, "validation_error", "username"),
    "NUL in a login password": Bad(_login("someone", NUL), 422, "validation_error", "password"),
    "NUL in a query parameter name": Bad(
        _get("/api/v1/audit/events?a%00=1"), 422, "validation_error", "query"
    ),
    "NUL in a path": Bad(_get("/api/v1/units/A%00B", "sup"), 404, "not_found"),
    "NUL in a new username": Bad(_admin_create(username=NUL), 422, "validation_error", "username"),
    "NUL in an events filter": Bad(
        _get("/api/v1/audit/events?actor=a%00b"), 422, "validation_error", "actor"
    ),
    "NUL in a JSON key": Bad(
        _raw_post("/api/v1/cases", b'{"victim\\u0000": 1}', "application/json"),
        422,
        "validation_error",
    ),
    "a body that is not UTF-8": Bad(
        _raw_post("/api/v1/cases", b'{"victim": "\xff\xfe"}', "application/json"),
        400,
        "body_not_utf8",
    ),
    "a form that is not UTF-8": Bad(
        _raw_post(
            "/api/v1/auth/token", b"username=\xff&password=x", "application/x-www-form-urlencoded"
        ),
        400,
        "body_not_utf8",
    ),
}


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
def test_an_input_that_once_gave_a_500_is_a_4xx_with_a_code(
    client: TestClient, actors: Actors, bad: Bad
) -> None:
    response = bad.send(client, actors)
    assert (response.status_code, response.json().get("code")) == (bad.status, bad.code), (
        response.text
    )
    if bad.names is not None:
        assert bad.names in str(response.json()["detail"])


def test_a_page_refused_for_its_input_is_a_page(client: TestClient) -> None:
    for response in (
        client.post("/login", data={"username": NUL, "password": "x"}, headers=_HTML),
        client.get("/work?state=a%00b", headers=_HTML),
    ):
        assert response.status_code == 422 and "text/html" in response.headers["content-type"]


_HTML = {"Accept": "text/html"}
