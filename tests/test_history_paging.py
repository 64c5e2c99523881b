"""A case's history is paged like every list (before: 5,000 events in one 2.25 MB answer,
`?limit` ignored): keyset pages, `limit` honoured and capped, signed cursors bound to the case."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.cases import pages as case_pages
from service.kit.config import settings_for
from service.kit.context import AppContext
from tests.factories import Actors, User, walk_to
from tests.web import get, web_login
from workflows import Definition

TARGET = "in_services"  # a stay after identification (version 3)


@pytest.fixture
def definition(context: AppContext) -> Definition:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return engine.definition


def _pages(client: TestClient, user: User, case_id: str, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = client.get(
            f"/api/v1/cases/{case_id}/history", params=params, headers=user.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([event["seq"] for event in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": body["next_cursor"]}


def test_history_pages_walk_every_event_once_oldest_first(
    client: TestClient, actors: Actors, definition: Definition
) -> None:
    case = walk_to(client, actors, definition, TARGET)
    auditor = actors.auditor()
    whole = client.get(f"/api/v1/cases/{case['id']}/history", headers=auditor.headers).json()
    assert whole["next_cursor"] is None  # the default page holds a usual case whole
    everything = [event["seq"] for event in whole["items"]]
    assert len(everything) >= 5 and everything == sorted(everything)
    pages = _pages(client, auditor, case["id"], 2)
    assert all(len(page) <= 2 for page in pages) and len(pages) == -(-len(everything) // 2)
    assert [seq for page in pages for seq in page] == everything


def test_history_limit_is_capped(context: AppContext, definition: Definition) -> None:
    capped = replace(
        context, settings=settings_for(context.settings.database_url, history_page_max=3)
    )
    with TestClient(create_app(capped), raise_server_exceptions=False) as client:
        acting = Actors(client, capped)
        case = walk_to(client, acting, definition, TARGET)
        auditor = acting.auditor()
        page = client.get(
            f"/api/v1/cases/{case['id']}/history", params={"limit": 10_000}, headers=auditor.headers
        ).json()
        assert len(page["items"]) == 3 and page["next_cursor"]


def test_a_history_cursor_belongs_to_its_case(
    client: TestClient, actors: Actors, definition: Definition
) -> None:
    auditor = actors.auditor()
    first = walk_to(client, actors, definition, TARGET)
    other = walk_to(client, actors, definition, TARGET)
    cursor = client.get(
        f"/api/v1/cases/{first['id']}/history", params={"limit": 1}, headers=auditor.headers
    ).json()["next_cursor"]
    refused = client.get(
        f"/api/v1/cases/{other['id']}/history", params={"cursor": cursor}, headers=auditor.headers
    )
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_cursor"


def test_the_history_page_offers_the_next_page(
    client: TestClient,
    actors: Actors,
    definition: Definition,
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(case_pages, "HISTORY_PAGE", 2)
    case = walk_to(client, actors, definition, TARGET)
    auditor = web_login(context, actors.auditor())
    first = get(client, auditor, f"/cases/{case['id']}/history")
    assert first.status_code == 200 and first.text.count('id="event-') == 2
    found = re.search(r'href="(/cases/[^"]+/history\?cursor=[^"]+)"', first.text)
    assert found, "no link to the next page"
    second = get(client, auditor, html.unescape(found.group(1)))
    assert second.status_code == 200 and second.text.count('id="event-') >= 1
    assert set(re.findall(r'id="event-(\d+)"', first.text)).isdisjoint(
        re.findall(r'id="event-(\d+)"', second.text)
    )
