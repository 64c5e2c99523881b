"""Who was shown a victim's identity is sealed by the checkpoints: erasing a record of a look
(or changing one) is caught by verify, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from service.kit.context import AppContext
from tests.auditlog import Log, build_log, checkpoint_now, events, execute, verify
from tests.factories import Actors


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    return build_log(client, actors, context)


def looks(connection: Connection) -> list[Any]:
    return list(connection.execute(text("SELECT id, username FROM identity_access ORDER BY id")))


def codes(verdict: dict[str, Any]) -> set[str]:
    return {p["code"] for p in verdict["problems"]}


def test_checkpoints_seal_the_identity_access_rows(
    client: TestClient, log: Log, connection: Connection
) -> None:
    checkpoints = client.get("/api/v1/audit/checkpoints", headers=log.auditor.headers).json()
    first, second = checkpoints["items"]
    assert first["format"] == "nrm-audit-checkpoint/2"
    assert first["access_count"] + second["access_count"] <= len(looks(connection))
    assert second["access_last_id"] >= first["access_last_id"] > 0
    assert verify(client, log)["ok"] is True


def test_an_erased_record_of_who_looked_is_caught(
    client: TestClient, log: Log, connection: Connection
) -> None:
    first = looks(connection)[0]
    execute(connection, "DELETE FROM identity_access WHERE id = :i", i=first.id)
    verdict = verify(client, log)
    assert verdict["ok"] is False
    assert codes(verdict) == {"checkpoint_access"}
    broken = verdict["first_broken"]
    assert broken["checkpoint"] == 1
    assert "who was shown a victim's identity was deleted, changed or inserted" in broken["reason"]


def test_a_record_of_who_looked_rewritten_is_caught(
    client: TestClient, log: Log, connection: Connection
) -> None:
    first = looks(connection)[0]
    execute(connection, "UPDATE identity_access SET username = 'nobody' WHERE id = :i", i=first.id)
    assert codes(verify(client, log)) == {"checkpoint_access"}


def test_looks_alone_are_sealed_by_an_event_that_carries_them(
    client: TestClient, log: Log, actors: Actors, connection: Connection
) -> None:
    """No event waits, only a look at a victim's name: the checkpoint still seals it."""
    checkpoint_now(client, log)  # everything so far
    before = len(looks(connection))
    kemlu = actors.worker("KEMLU")
    shown = client.get(f"/api/v1/cases/{log.cases['B']['id']}", headers=kemlu.headers)
    assert shown.status_code == 200 and shown.json()["victim"]["identity_visible"] is True
    assert len(looks(connection)) == before + 1
    sealed = checkpoint_now(client, log)
    assert sealed["access_count"] == 1
    assert events(connection)[-1]["kind"] == "identity_access_sealed"
    last = looks(connection)[-1]
    execute(connection, "DELETE FROM identity_access WHERE id = :i", i=last.id)
    verdict = verify(client, log)
    assert codes(verdict) == {"checkpoint_access"}
    assert verdict["first_broken"]["checkpoint"] == sealed["number"]
