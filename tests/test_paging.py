"""Every list pages the same way: `{items, next_cursor}`, `limit` capped, a signed cursor bound
to its list, `next_cursor` null on the last page (the queues have their own tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.kit.context import AppContext
from tests.factories import Actors, User, fire, register, walk_to

IDENTIFY = {"indicators": ["deceptive_recruitment", "exploitation"]}


def _follow(client: TestClient, user: User, path: str, **params: Any) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor: str | None = None
    for _ in range(50):
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ended")


def _users(client: TestClient, actors: Actors, _context: AppContext) -> User:
    for ministry in ("KEMLU", "KEMENSOS", "POLRI"):
        actors.worker(ministry)
    return actors.admin()


def _approvals(client: TestClient, actors: Actors, context: AppContext) -> User:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    for _ in range(3):
        case = walk_to(client, actors, engine.definition, "screening")
        assert fire(client, actors.worker("PEMDA"), case, "identify", IDENTIFY).status_code == 202
    return actors.supervisor("PEMDA")


def _identity_access(client: TestClient, actors: Actors, _context: AppContext) -> User:
    for _ in range(3):
        register(client, actors.worker("KEMLU"))  # each intake answer shows the identity
    return actors.auditor()


def _events(client: TestClient, actors: Actors, _context: AppContext) -> User:
    for _ in range(3):
        register(client, actors.worker("KEMLU"))
    return actors.auditor()


LISTS: dict[str, tuple[str, Callable[[TestClient, Actors, AppContext], User]]] = {
    "users": ("/api/v1/users", _users),
    "approvals": ("/api/v1/approvals", _approvals),
    "identity access": ("/api/v1/audit/identity-access", _identity_access),
    "audit events": ("/api/v1/audit/events", _events),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_pages_one_by_one_to_a_null_cursor_and_sees_every_item_once(
    client: TestClient, actors: Actors, context: AppContext, name: str
) -> None:
    path, make = LISTS[name]
    reader = make(client, actors, context)
    everything = client.get(path, params={"limit": 1000}, headers=reader.headers).json()
    assert len(everything["items"]) >= 3 and everything["next_cursor"] is None
    pages = _follow(client, reader, path)
    assert all(len(page) == 1 for page in pages)  # the last page is full, and still the last
    assert [page[0] for page in pages] == everything["items"]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_cursor_of_another_list_or_altered_is_invalid_cursor(
    client: TestClient, actors: Actors, context: AppContext, name: str
) -> None:
    path, make = LISTS[name]
    reader = make(client, actors, context)
    cursor = client.get(path, params={"limit": 1}, headers=reader.headers).json()["next_cursor"]
    assert cursor
    for other, (other_path, _) in LISTS.items():
        if other_path == path:
            continue
        foreign = client.get(other_path, params={"cursor": cursor}, headers=reader.headers)
        if foreign.status_code != 403:
            assert foreign.status_code == 422, (other, foreign.text)
            assert foreign.json()["code"] == "invalid_cursor"
    altered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = client.get(path, params={"cursor": altered}, headers=reader.headers)
    assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"


def test_the_limit_is_capped_by_the_server(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    reader = _users(client, actors, context)
    for _ in range(context.settings.queue_page_max + 1 - 4):
        actors.make("case_worker", "KEMLU")
    page = client.get("/api/v1/users", params={"limit": 10**6}, headers=reader.headers).json()
    assert len(page["items"]) == context.settings.queue_page_max and page["next_cursor"]
