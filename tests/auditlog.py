"""A small real audit log to attack, and the attacker's tools: triggers off, chains recomputed.

The tamperings run in the test's own transaction with the triggers out of the way, as someone
with the owner's rights could: PostgreSQL `session_replication_role = replica` (the test user
is a superuser), SQLite by dropping the triggers (and putting them back) inside the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

from migrations import append_only
from service.audit.integrity import signing
from service.audit.integrity.chain import event_hash
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.principal import SYSTEM
from service.models import utcnow
from tests.factories import Actors, User, register, sample_payload, step
from workflows import Definition

LOG_TABLES = ("case_event", "audit_checkpoint", "identity_access")
EVENT_COLUMNS = (
    "seq, stream, stream_seq, case_id, kind, trigger, from_state, to_state, actor_id, actor, "
    "actor_role, ministry, at, payload, note, prev_hash, hash"
)


@dataclass
class Log:
    """Cases A, B, C, D; two checkpoints; a tail of events after the last one."""

    auditor: User
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def case_id(self, name: str) -> uuid.UUID:
        return uuid.UUID(self.cases[name]["id"])


def build_log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    definition = context.registry.latest("nrm-indonesia")
    assert definition is not None
    # a stay after identification: version 2's shelter, version 3's stay in services
    stay = "sheltered" if "sheltered" in definition.definition.states else "in_services"
    rows = _rows(definition.definition, stay)
    log = Log(auditor=actors.auditor())
    kemlu = actors.worker("KEMLU")
    # checkpoint 1: A created and screening, B created, one event on the "users" stream
    log.cases["A"] = step(client, actors, register(client, kemlu), rows[0])
    log.cases["B"] = register(client, kemlu)
    with context.database.transaction() as session:
        append_stream_event(session, "users", actor=SYSTEM, at=utcnow(), kind="user_created",
                            payload={"username": "someone"})  # fmt: skip
    checkpoint_now(client, log)
    # checkpoint 2: A identified, B screening, C created
    log.cases["A"] = step(client, actors, log.cases["A"], rows[1])
    log.cases["B"] = step(client, actors, log.cases["B"], rows[0])
    log.cases["C"] = register(client, kemlu)
    checkpoint_now(client, log)
    # not yet sealed: A moves on, D is created
    log.cases["A"] = step(client, actors, log.cases["A"], rows[2])
    log.cases["D"] = register(client, kemlu)
    return log


def checkpoint_now(client: TestClient, log: Log) -> dict[str, Any]:
    response = client.post("/api/v1/audit/checkpoints", headers=log.auditor.headers)
    assert response.status_code == 201, response.text
    checkpoint: dict[str, Any] = response.json()["checkpoint"]
    return checkpoint


def verify(client: TestClient, log: Log) -> dict[str, Any]:
    response = client.get("/api/v1/audit/verify", headers=log.auditor.headers)
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def _rows(definition: Definition, target: str) -> list[Any]:
    from tests.factories import path_to

    rows = path_to(definition, target)
    assert all(sample_payload(row) is not None for row in rows)
    return rows


@contextmanager
def triggers_off(connection: Connection) -> Iterator[None]:
    """History can be changed inside this block, in the test's transaction only."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        connection.execute(text("SET LOCAL session_replication_role = origin"))
        return
    for table in LOG_TABLES:
        for statement in append_only.drop_statements("sqlite", table):
            connection.execute(text(statement))
    yield
    for table in LOG_TABLES:
        for statement in append_only.statements("sqlite", table):
            connection.execute(text(statement))


def events(connection: Connection, case_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Event rows as the application reads them (types processed), in seq order."""
    from sqlalchemy import select

    from service.models import CaseEvent

    table = CaseEvent.__table__  # type: ignore[attr-defined]
    statement = select(*table.c).order_by(table.c.seq)
    if case_id is not None:
        statement = statement.where(table.c.case_id == case_id)
    return [dict(row) for row in connection.execute(statement).mappings()]


def execute(connection: Connection, sql: str, **params: Any) -> None:
    with triggers_off(connection):
        connection.execute(text(sql), params)


def rewrite_stream(
    connection: Connection, case_id: uuid.UUID, from_stream_seq: int, **changes: Any
) -> None:
    """A careful attacker: change one event of a case and recompute every hash after it,
    and the case row's head, so that the chain alone looks intact."""
    from sqlalchemy import update

    from service.models import CaseEvent, CaseFile

    table = CaseEvent.__table__  # type: ignore[attr-defined]
    stream = events(connection, case_id)
    head = stream[from_stream_seq - 2]["hash"] if from_stream_seq > 1 else signing.GENESIS
    with triggers_off(connection):
        for event in stream[from_stream_seq - 1 :]:
            if event["stream_seq"] == from_stream_seq:
                event.update(changes)
            event["prev_hash"] = head
            head = event_hash(event)
            connection.execute(
                update(table)
                .where(table.c.seq == event["seq"])
                .values(**{k: event[k] for k in changes}, prev_hash=event["prev_hash"], hash=head)
            )
        case_table = CaseFile.__table__  # type: ignore[attr-defined]
        connection.execute(
            update(case_table).where(case_table.c.id == case_id).values(head_hash=head)
        )


def checkpoint_rows(connection: Connection) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from service.models import AuditCheckpoint

    table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
    rows = connection.execute(select(*table.c).order_by(table.c.number)).mappings()
    return [signing.record(dict(row)) for row in rows]


def store_checkpoint(connection: Connection, fields: dict[str, Any], sign_with: bytes) -> None:
    """Re-hash and re-sign a checkpoint with `sign_with`, and write it over the stored one."""
    fields["hash"] = signing.checkpoint_hash(fields)
    fields["signature"] = signing.sign(sign_with, fields)
    execute(
        connection,
        "UPDATE audit_checkpoint SET first_seq = :first_seq, last_seq = :last_seq, "
        "event_count = :event_count, root = :root, prev_hash = :prev_hash, key_id = :key_id, "
        "hash = :hash, signature = :signature WHERE number = :number",
        **{k: fields[k] for k in ("first_seq", "last_seq", "event_count", "root", "prev_hash",
                                  "key_id", "hash", "signature", "number")},
    )  # fmt: skip


def update_case(connection: Connection, case_id: uuid.UUID, **values: Any) -> None:
    from sqlalchemy import update

    from service.models import CaseFile

    table = CaseFile.__table__  # type: ignore[attr-defined]
    connection.execute(update(table).where(table.c.id == case_id).values(**values))


def delete_case(connection: Connection, case_id: uuid.UUID) -> None:
    """The case row and what hangs off it (its events must be gone first)."""
    from sqlalchemy import delete

    from service.models import Approval, CaseFile, CaseMinistry, Consent, IdentityAccess, Victim

    with triggers_off(connection):
        for model in (CaseMinistry, Victim, Consent, Approval, IdentityAccess):
            table = SQLModel.metadata.tables[str(model.__tablename__)]
            connection.execute(delete(table).where(table.c.case_id == case_id))
        table = CaseFile.__table__  # type: ignore[attr-defined]
        connection.execute(delete(table).where(table.c.id == case_id))
