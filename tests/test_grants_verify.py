"""Who may see a case is recomputed from its events by the verifier: a ministry or unit given
sight of a victim behind the API (a row inserted, or a withdrawal undone) is caught, and
hand-overs made through the API (accepted, declined, rerouted, accepted by acting) verify."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from service.audit import service as audit
from service.kit.context import AppContext
from service.models import utcnow
from tests.factories import Actors, fire
from tests.test_units import _member, _screened_to, ntt  # noqa: F401 (a fixture)


def problems(context: AppContext) -> list[tuple[str, str]]:
    verdict = audit.verify(context)
    return [(p.code, p.reason) for p in verdict.problems]


def _unit_id(connection: Connection, code: str) -> int:
    found = connection.execute(text("SELECT id FROM unit WHERE code = :c"), {"c": code})
    return int(found.scalar_one())


def _case_key(connection: Connection, case_id: str) -> Any:
    """The case id as the column stores it (PostgreSQL uuid; SQLite 32 hex digits)."""
    if connection.dialect.name == "postgresql":
        return case_id
    return case_id.replace("-", "")


@pytest.fixture
def handed_over(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    ntt: dict[str, dict[str, Any]],  # noqa: F811 (the fixture: PEMDA's units)
) -> dict[str, Any]:
    """Declined by the regency, rerouted to the city, accepted there; a second case accepted
    by acting (and four eyes)."""
    case = _screened_to(client, actors, "PEMDA-53.01")
    kabupaten = _member(context, "supervisor", "PEMDA-53.01")
    declined = client.post(f"/api/v1/cases/{case['id']}/transfer/decline",
                           json={"reason": "wrong regency"}, headers=kabupaten.headers)  # fmt: skip
    assert declined.status_code == 200, declined.text
    rerouted = client.put(f"/api/v1/cases/{case['id']}/transfer", json={"to_unit": "PEMDA-53.71"},
                          headers=actors.worker("KEMENPPPA").headers)  # fmt: skip
    assert rerouted.status_code == 200, rerouted.text
    kota = _member(context, "case_worker", "PEMDA-53.71")
    accepted = client.post(f"/api/v1/cases/{case['id']}/transfer/accept", headers=kota.headers)
    assert accepted.status_code == 200, accepted.text
    other = _screened_to(client, actors, "PEMDA-53.71")
    pending = fire(client, kota, other, "identify", {"indicators": ["exploitation"]})
    assert pending.status_code == 202, pending.text
    supervisor = _member(context, "supervisor", "PEMDA-53.71")
    approved = client.post(f"/api/v1/approvals/{pending.json()['approval']['id']}/approve",
                           json={"reason": "clear"}, headers=supervisor.headers)  # fmt: skip
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = accepted.json()
    return result


def test_hand_overs_made_through_the_api_verify(
    handed_over: dict[str, Any], context: AppContext
) -> None:
    assert problems(context) == []


def test_a_ministry_granted_sight_behind_the_api_is_caught(
    handed_over: dict[str, Any], context: AppContext, connection: Connection
) -> None:
    connection.execute(
        text("INSERT INTO case_ministry (case_id, ministry, since) VALUES (:c, 'BNP2MI', :at)"),
        {"c": _case_key(connection, handed_over["id"]), "at": utcnow()},
    )
    found = problems(context)
    assert [code for code, _ in found] == ["grant_ministry"]
    assert "ministry BNP2MI may read the case, but no event of the case made it so" in found[0][1]


def test_a_unit_granted_sight_of_the_identity_behind_the_api_is_caught(
    handed_over: dict[str, Any], context: AppContext, connection: Connection
) -> None:
    connection.execute(
        text("INSERT INTO case_unit (case_id, unit_id, referred, since) "
             "VALUES (:c, :u, :r, :at)"),
        {"c": _case_key(connection, handed_over["id"]), "u": _unit_id(connection, "PEMDA-21"),
         "r": False, "at": utcnow()},
    )  # fmt: skip
    found = problems(context)
    assert [code for code, _ in found] == ["grant_unit"]
    assert "unit PEMDA-21 sees the case, but no event of the case made it so" in found[0][1]


def test_a_withdrawal_undone_behind_the_api_is_caught(
    handed_over: dict[str, Any], context: AppContext, connection: Connection
) -> None:
    """The regency declined: it sees the name no more, unless someone clears the mark."""
    connection.execute(
        text("UPDATE case_unit SET withdrawn_at = NULL WHERE case_id = :c AND unit_id = :u"),
        {"c": _case_key(connection, handed_over["id"]), "u": _unit_id(connection, "PEMDA-53.01")},
    )
    found = problems(context)
    assert [code for code, _ in found] == ["grant_unit"]
    assert "unit PEMDA-53.01's row is" in found[0][1] and "not withdrawn" in found[0][1]


def test_a_deleted_ministry_row_is_caught(
    handed_over: dict[str, Any], context: AppContext, connection: Connection
) -> None:
    connection.execute(
        text("DELETE FROM case_ministry WHERE case_id = :c AND ministry = 'KEMLU'"),
        {"c": _case_key(connection, handed_over["id"])},
    )
    found = problems(context)
    assert [code for code, _ in found] == ["grant_ministry"]
    assert "ministry KEMLU referred or led the case but its row is missing" in found[0][1]
