"""The benchmark's bulk loader writes cases that the queues list and the verifier accepts
(PostgreSQL: it loads with COPY). The cases have no victim record: they are for lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from bench.bulk import Loader
from bench.rawloop import Actor
from bench.run import _libpq
from service.app import create_app
from service.audit import service as audit
from service.kit.context import AppContext
from service.users.service import seed_account
from tests.factories import Actors


def test_bulk_cases_are_readable_in_their_queue_and_verify(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context()
    if context.database.engine.dialect.name != "postgresql":
        pytest.skip("the loader copies into PostgreSQL")
    with context.database.transaction() as session:
        kemlu = seed_account(session, "bench.kemlu", "x", "case_worker", "KEMLU")
        polri = seed_account(session, "bench.polri", "x", "case_worker", "POLRI")
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None and kemlu.user_id and polri.user_id
    Loader(
        url=_libpq(context.settings.database_url), definition=engine.definition,
        calendar=context.calendar, referrer=Actor(kemlu.user_id, kemlu.username, "KEMLU"),
        police=Actor(polri.user_id, polri.username, "POLRI"), now=datetime.now(UTC),
    ).add(40, processes=1)  # fmt: skip
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        reader = Actors(client, context).worker("KEMENPPPA")
        page = client.get("/api/v1/queues/KEMENPPPA", params={"limit": 100}, headers=reader.headers)
        assert page.status_code == 200 and len(page.json()["items"]) == 40
        assert {item["unit"] for item in page.json()["items"]} == {"KEMENPPPA-NASIONAL"}
    assert audit.verify(context).ok
