"""The benchmark's bulk loader writes cases that the queues list and the verifier accepts
(PostgreSQL: it loads with COPY). The cases have no victim record: they are for lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from bench import rawintake
from bench.bulk import Loader
from bench.rawloop import Actor
from bench.run import _libpq
from service.app import create_app
from service.audit import service as audit
from service.kit.context import AppContext
from service.users.service import seed_account
from tests.factories import Actors, register


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
    verdict = audit.verify(context)
    assert verdict.ok, verdict.problems


def test_the_raw_intake_loop_writes_the_rows_of_an_intake_again_and_they_verify(
    committed_context: Callable[..., AppContext],
) -> None:
    """`bench/rawintake.py`, the raw loop intake is compared with: the same rows per intake as
    the service wrote for the template case, on either database, and a valid audit chain."""
    context = committed_context()
    url = context.settings.database_url
    target = _libpq(url) if url.startswith("postgresql") else url.removeprefix("sqlite:///")
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        worker = Actors(client, context).worker("KEMLU")
        template = register(client, worker)
    with context.database.transaction() as session:
        before = {table: _count(session, table) for table, _ in rawintake.TABLES}
    rows = rawintake._Rows(target, uuid.UUID(template["id"]))
    try:
        for _ in range(3):
            rows.intake(Actor(worker.id, worker.username, "KEMLU"))
    finally:
        rows.db.close()
    with context.database.transaction() as session:
        after = {table: _count(session, table) for table, _ in rawintake.TABLES}
        per_intake = {table: len(rows.rows[table]) for table, _ in rawintake.TABLES}
        assert after == {table: before[table] + 3 * per_intake[table] for table in before}
        assert per_intake["victim_block"] >= 1 and per_intake["case_unit"] >= 1
    verdict = audit.verify(context)
    assert verdict.ok, verdict.problems


def _count(session: Session, table: str) -> int:
    return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
