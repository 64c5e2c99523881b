"""Data that must not become permanent: free text sealed per case, erasure, retention.

A district named on the way home and every note are written to the append-only log only as
ciphertext under the case's own key; erasing a closed case destroys that key and the identity,
and the chain still verifies (UU 27/2022: retention, the right to erasure).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Text, cast, select, text
from sqlmodel import select as sqlmodel_select

from service.cases import erasure
from service.kit.context import AppContext
from service.kit.errors import CaseErased, CaseOpen, LegalHold
from service.kit.principal import SYSTEM
from service.models import Arrival, CaseEvent, ManifestRow, UserAccount, Victim
from tests.factories import Actors, fire, fire_approved, walk_to
from workflows.payload import is_free_text

DISTRICT = "Kelurahan Oesapa Barat 7731"
NOTE = "lives with her aunt behind the Oesapa market"
DEATH_NOTE = "found by the aunt on 10 February"
APPROVAL_REASON = "checked against the file"  # tests/factories.approve


def _definition(context: AppContext) -> Any:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    return engine.definition


def _home_district(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    """A case handed to the victim's district, with a note saying where she lives."""
    case = walk_to(client, actors, _definition(context), "repatriation_provincial_leg")
    moved = fire(client, actors.worker("PEMDA"), case, "hand_to_district",
                 {"district": DISTRICT}, note=NOTE)  # fmt: skip
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def _closed(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    case = _home_district(client, actors, context)
    closed = fire_approved(client, actors, actors.worker("PEMDA"), case, "record_death",
                           {"reason": "deceased", "date_of_death": "2026-02-10"},
                           note=DEATH_NOTE)  # fmt: skip
    assert closed.status_code == 200, closed.text
    result: dict[str, Any] = closed.json()
    assert result["state"] == "closed"
    return result


def _stored_text(connection: Connection) -> str:
    """Every event's payload and note as the database holds them."""
    table = CaseEvent.__table__  # type: ignore[attr-defined]
    rows = connection.execute(select(cast(table.c.payload, Text), table.c.note)).all()
    return "\n".join(f"{payload} {note}" for payload, note in rows)


def _history(client: TestClient, user: Any, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case['id']}/history", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _erase(context: AppContext, case: dict[str, Any], reason: str = "request 2026/17") -> None:
    with context.database.transaction() as session:
        erasure.erase_case(session, context, SYSTEM, case["id"], reason)


def test_a_district_and_notes_are_not_in_clear_in_the_log_nor_in_exports(
    client: TestClient, actors: Actors, context: AppContext, connection: Connection
) -> None:
    case = _closed(client, actors, context)
    stored = _stored_text(connection)
    for secret in (DISTRICT, NOTE, DEATH_NOTE, APPROVAL_REASON):
        assert secret not in stored
    auditor = actors.auditor().headers
    for fmt in ("jsonl", "csv"):
        exported = client.get(f"/api/v1/audit/export?format={fmt}", headers=auditor)
        assert exported.status_code == 200
        assert not any(s in exported.text for s in (DISTRICT, NOTE, DEATH_NOTE))
    # a reader of the case reads them, as before; an auditor sees the ciphertext
    handed = next(e for e in _history(client, actors.worker("PEMDA"), case)
              if e["trigger"] == "hand_to_district")  # fmt: skip
    assert handed["payload"]["district"] == DISTRICT and handed["note"] == NOTE
    sealed = next(e for e in _history(client, actors.auditor(), case)
              if e["trigger"] == "hand_to_district")  # fmt: skip
    assert set(sealed["payload"]["district"]) == {"enc"} and DISTRICT not in str(sealed)


def test_erasure_destroys_the_key_and_identity_verify_passes_and_it_is_an_event(
    client: TestClient, actors: Actors, context: AppContext, connection: Connection
) -> None:
    case = _closed(client, actors, context)
    before = _stored_text(connection)
    _erase(context, case)
    victim = connection.execute(
        select(Victim.__table__).where(  # type: ignore[attr-defined]
            Victim.__table__.c.case_id == uuid.UUID(case["id"])  # type: ignore[attr-defined]
        )
    ).one()
    assert victim.data_key is None and victim.identity_ciphertext is None
    assert victim.erased_at is not None
    # nothing of the log changed: the ciphertext stays, the key to open it is gone
    assert _stored_text(connection).startswith(before)
    reader = actors.worker("PEMDA")
    history = _history(client, reader, case)
    handed = next(e for e in history if e["trigger"] == "hand_to_district")
    assert handed["payload"]["district"] == "[erased]" and handed["note"] == "[erased]"
    assert history[-1]["kind"] == "erased"
    assert history[-1]["payload"]["reason"] == "request 2026/17"
    shown = client.get(f"/api/v1/cases/{case['id']}", headers=actors.worker("KEMLU").headers)
    assert shown.status_code == 200
    victim_read = shown.json()["victim"]
    assert victim_read["identity_visible"] is False and victim_read["full_name"] is None
    assert victim_read["pseudonym"] == case["reference"]
    verdict = client.get("/api/v1/audit/verify", headers=actors.auditor().headers).json()
    assert verdict["ok"] is True, verdict
    with pytest.raises(CaseErased):
        _erase(context, case)


def test_an_open_case_or_one_on_hold_is_not_erased(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    open_case = _home_district(client, actors, context)
    with pytest.raises(CaseOpen):
        _erase(context, open_case)
    case = _closed(client, actors, context)
    with context.database.transaction() as session:
        erasure.set_legal_hold(session, context, SYSTEM, case["id"], "Polda NTT investigation")
    with pytest.raises(LegalHold):
        _erase(context, case)
    kinds = [e["kind"] for e in _history(client, actors.worker("PEMDA"), case)]
    assert kinds[-1] == "legal_hold_set"


def test_retention_erases_closed_cases_past_it_and_spares_held_and_recent_ones(
    client: TestClient, actors: Actors, context: AppContext, connection: Connection
) -> None:
    old, held, recent = (_closed(client, actors, context) for _ in range(3))
    with context.database.transaction() as session:
        erasure.set_legal_hold(session, context, SYSTEM, held["id"], "court order 12/2031")
    later = replace(context, clock=lambda: context.clock() + timedelta(days=5 * 366))
    for case in (old, held):  # closed more than five years before `later`
        connection.execute(
            text("UPDATE case_file SET closed_at = :at WHERE reference = :ref"),
            {"at": context.clock() - timedelta(days=30), "ref": case["reference"]},
        )
    connection.execute(
        text("UPDATE case_file SET closed_at = :at WHERE reference = :ref"),
        {"at": later.clock() - timedelta(days=30), "ref": recent["reference"]},
    )
    assert erasure.erase_past_retention(later) == 1
    kinds = {
        name: _history(client, actors.worker("PEMDA"), case)[-1]["kind"]
        for name, case in (("old", old), ("held", held), ("recent", recent))
    }
    assert kinds == {"old": "erased", "held": "legal_hold_set", "recent": "transition"}
    assert erasure.erase_past_retention(later) == 0  # idempotent


def test_free_text_is_derived_from_the_payload_schemas(context: AppContext) -> None:
    """Every free-text field the definition has is sealed; dates, codes and enums are not
    (version 2: its admit_to_shelter names the shelter in free text)."""
    free = {
        name
        for row in context.registry.engine("nrm-indonesia", 2).definition.transitions
        for name, schema in row.payload_schema.get("properties", {}).items()
        if is_free_text(schema)
    }
    for field in ("district", "grounds", "summary", "wishes", "circumstances", "tracing_summary",
                  "new_information", "report_number", "shelter", "mission"):  # fmt: skip
        assert field in free
    for field in ("reason", "date_of_death", "travel_date", "indicators", "amount_idr"):
        assert field not in free


def test_auditors_see_an_approval_requests_free_text_masked_its_readers_in_clear(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _home_district(client, actors, context)
    death = {"reason": "deceased", "date_of_death": "2026-02-10"}
    pending = fire(client, actors.worker("PEMDA"), case, "record_death", death, note=DEATH_NOTE)
    assert pending.status_code == 202, pending.text

    def request_as(user: Any) -> dict[str, Any]:
        response = client.get("/api/v1/approvals", headers=user.headers)
        assert response.status_code == 200, response.text
        item: dict[str, Any] = next(
            a for a in response.json()["items"] if a["id"] == pending.json()["approval"]["id"]
        )
        return item

    seen = request_as(actors.supervisor("PEMDA"))
    assert seen["note"] == DEATH_NOTE and seen["payload"]["reason"] == "deceased"
    masked = request_as(actors.auditor())
    assert masked["note"] == "[sealed]" and masked["payload"]["reason"] == "deceased"


def test_auditors_see_the_legal_tracks_free_text_masked_on_the_case(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _home_district(client, actors, context)
    report = {"report_number": "LP/B/77/I/2026", "filed_on": "2026-01-10"}
    police = actors.worker("POLRI")
    assert fire(client, police, case, "record_police_report", report).status_code == 200

    def legal_as(user: Any) -> dict[str, Any]:
        shown = client.get(f"/api/v1/cases/{case['id']}", headers=user.headers)
        assert shown.status_code == 200, shown.text
        fact: dict[str, Any] = shown.json()["legal"]["record_police_report"]
        return fact

    assert legal_as(police) == report
    assert legal_as(actors.auditor()) == {"report_number": "[sealed]", "filed_on": "2026-01-10"}


def test_erasure_replaces_a_manifest_rows_keyed_hash_of_the_identity(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    """A case imported from an arrival's manifest keeps its place in the arrival, but the
    keyed hash of its row (derived from the identity) goes with the identity."""
    case = _closed(client, actors, context)
    worker = actors.worker("KEMLU")
    with context.database.transaction() as session:
        user = session.exec(
            sqlmodel_select(UserAccount).where(UserAccount.username == worker.username)
        ).one()
        assert user.id is not None and user.unit_id is not None
        arrival = Arrival(arrival_date=date(2025, 3, 18), place="Soekarno-Hatta",
                          source_country="MM", operation_name="test", unit_id=user.unit_id,
                          ministry="KEMLU", created_by_id=user.id)  # fmt: skip
        session.add(arrival)
        session.flush()
        arrival_id = arrival.id
        session.add(ManifestRow(arrival_id=arrival_id, row_key="k" * 64,
                                case_id=uuid.UUID(case["id"])))  # fmt: skip
    _erase(context, case)
    with context.database.snapshot() as session:
        rows = [
            (r.case_id, r.row_key.startswith("erased-"))
            for r in session.exec(
                sqlmodel_select(ManifestRow).where(ManifestRow.arrival_id == arrival_id)
            )
        ]
    assert rows == [(uuid.UUID(case["id"]), True)]
