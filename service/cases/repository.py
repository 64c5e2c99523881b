"""Every query about cases; which case rows a caller may read is decided in visibility.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, cast, delete, exists, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from schemas.approval import ApprovalStatus
from service.cases.aggregate import LoadedCase, UnitsOfCase, WitnessFacts
from service.cases.visibility import caller_kind, visibility
from service.kit.principal import Principal
from service.models import (
    Approval,
    CaseEvent,
    CaseFile,
    CaseMinistry,
    CaseUnit,
    Consent,
    IdempotencyRecord,
    LegalTrack,
    Unit,
    UserAccount,
    Victim,
)  # fmt: skip
from service.models.base import UTCDateTime
from workflows.registry import Registry

# A unit that handed the case on keeps sight of the identity this long (design choice: the
# month in which the receiving unit's questions and the reports of the step come up).
IDENTITY_AFTER_HANDOVER = timedelta(days=30)


def parse_case_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def load_readable(
    session: Session, principal: Principal, registry: Registry, case_id: str, now: datetime
) -> LoadedCase | None:
    """The case if `principal` may see it, else None (whether or not it exists)."""
    parsed = parse_case_id(case_id)
    if parsed is None:
        return None
    key = ("load_readable", *caller_kind(principal))
    statement = registry.memo.get(key)
    if statement is None:
        statement = registry.memo[key] = _load_statement().where(
            visibility(principal, registry, by_id=True)
        )
    return _load(session, statement, parsed, now)


def load_readable_many(
    session: Session, principal: Principal, registry: Registry, case_ids: list[str], now: datetime
) -> dict[str, LoadedCase]:
    """Of `case_ids`, the cases `principal` may see, in one query, by the id as given: for a
    group decision's batch (an id missing from the answer is refused as not found)."""
    parsed = {p: raw for raw in case_ids if (p := parse_case_id(raw)) is not None}
    if not parsed:
        return {}
    key = ("load_readable_many", *caller_kind(principal))
    statement = registry.memo.get(key)
    if statement is None:
        statement = registry.memo[key] = _load_statement(
            col(CaseFile.id).in_(bindparam("case_ids", expanding=True))
        ).where(visibility(principal, registry))
    cutoff = now - IDENTITY_AFTER_HANDOVER
    rows = session.execute(statement, {"case_ids": list(parsed), "identity_cutoff": cutoff})
    return {parsed[row[0].id]: _loaded(row) for row in rows}


def rows_of_moves(session: Session, cases: list[CaseFile]) -> list[Any]:
    """The case-unit links of `cases` and the units they and the cases name, loaded at once
    (a transition reads them by primary key: the identity map then answers)."""
    if not cases:
        return []
    links = session.exec(
        select(CaseUnit).where(col(CaseUnit.case_id).in_([case.id for case in cases]))
    ).all()
    unit_ids = {link.unit_id for link in links} | {case.unit_id for case in cases}
    unit_ids |= {case.transfer_to_unit_id for case in cases if case.transfer_to_unit_id}
    found = session.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()
    return [*links, *found]


def load_any(
    session: Session, registry: Registry, case_id: uuid.UUID, now: datetime
) -> LoadedCase | None:
    """The case whoever may see it: for the service's own moves (a workflow migration), which
    show nobody the case."""
    statement = registry.memo.get("load_any")
    if statement is None:
        statement = registry.memo["load_any"] = _load_statement()
    return _load(session, statement, case_id, now)


def _load(
    session: Session, statement: Select[Any], parsed: uuid.UUID, now: datetime
) -> LoadedCase | None:
    cutoff = now - IDENTITY_AFTER_HANDOVER
    row = session.execute(statement, {"case_id": parsed, "identity_cutoff": cutoff}).first()
    return None if row is None else _loaded(row)


def _loaded(row: Any) -> LoadedCase:
    case, victim, handled, consents, assignee, pending, identity, *places = row
    lead_code, lead_path, transfer_code, transfer_path, witness_status, agreed = places
    units = UnitsOfCase(
        lead_code=lead_code, lead_path=lead_path, transfer_code=transfer_code,
        transfer_path=transfer_path, identity={int(unit) for unit in _split(identity)},
    )  # fmt: skip
    witness = WitnessFacts(status=witness_status, agreed_to_testify=bool(agreed))
    return LoadedCase(
        case, victim, _split(handled), _split(consents), assignee, bool(pending), units, witness
    )


def _load_statement(which: Any = None) -> Select[Any]:
    """The case and all a LoadedCase holds of it; `which` selects the rows (one id by default)."""
    handled = (
        select(func.aggregate_strings(col(CaseMinistry.ministry), ","))
        .where(col(CaseMinistry.case_id) == CaseFile.id)
        .scalar_subquery()
    )
    consents = (
        select(func.aggregate_strings(col(Consent.recipient), ","))
        .where(col(Consent.case_id) == CaseFile.id, col(Consent.withdrawn_at).is_(None))
        .scalar_subquery()
    )
    pending = exists().where(
        col(Approval.case_id) == CaseFile.id, col(Approval.status) == ApprovalStatus.PENDING
    )
    identity = (
        select(func.aggregate_strings(cast(col(CaseUnit.unit_id), String), ","))
        .where(
            col(CaseUnit.case_id) == CaseFile.id,
            col(CaseUnit.withdrawn_at).is_(None),
            col(CaseUnit.referred)
            | col(CaseUnit.left_at).is_(None)
            | (col(CaseUnit.left_at) > bindparam("identity_cutoff", type_=UTCDateTime)),
        )
        .scalar_subquery()
    )
    lead, transfer = aliased(Unit), aliased(Unit)
    return (
        sa_select(
            CaseFile,
            Victim,
            handled,
            consents,
            col(UserAccount.username),
            pending,
            identity,
            col(lead.code),
            col(lead.path),
            col(transfer.code),
            col(transfer.path),
            col(LegalTrack.witness_status),
            col(LegalTrack.agreed_to_testify),
        )
        .join(lead, col(lead.id) == col(CaseFile.unit_id))
        .outerjoin(transfer, col(transfer.id) == col(CaseFile.transfer_to_unit_id))
        .join(Victim, col(Victim.case_id) == col(CaseFile.id))
        .outerjoin(UserAccount, col(UserAccount.id) == col(CaseFile.assigned_to_id))
        .outerjoin(LegalTrack, col(LegalTrack.case_id) == col(CaseFile.id))
        .where(col(CaseFile.id) == bindparam("case_id") if which is None else which)
    )


def _split(joined: str | None) -> set[str]:
    return set(joined.split(",")) if joined else set()


def history(
    session: Session, case_id: uuid.UUID, after_seq: int, limit: int
) -> Sequence[CaseEvent]:
    """At most `limit` events of the case after `after_seq`, oldest first."""
    statement = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id) == case_id, col(CaseEvent.seq) > after_seq)
        .order_by(col(CaseEvent.seq))
        .limit(limit)
    )
    return session.exec(statement).all()


def latest_events(session: Session, case_id: uuid.UUID, count: int) -> Sequence[CaseEvent]:
    """The case's `count` latest events, newest first."""
    statement = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id) == case_id)
        .order_by(col(CaseEvent.seq).desc())
        .limit(count)
    )
    return session.exec(statement).all()


def visited_states(session: Session, case_id: uuid.UUID) -> set[str]:
    statement = (
        select(CaseEvent.to_state)
        .where(col(CaseEvent.case_id) == case_id, col(CaseEvent.to_state).is_not(None))
        .distinct()
    )
    return {state for state in session.exec(statement).all() if state}


class MigrationCandidate(NamedTuple):
    id: uuid.UUID
    reference: str
    state: str
    version: int
    pending_trigger: str | None
    pending_ministry: str | None


def cases_on_version(
    session: Session, name: str, version: int, case_ids: Sequence[uuid.UUID] | None
) -> list[MigrationCandidate]:
    """Every case pinned to `name` v`version` (or those of `case_ids`), oldest first, with what
    a migration decides on: its state and the trigger of a pending four-eyes request."""
    pending = aliased(Approval)
    statement = (
        sa_select(
            col(CaseFile.id), col(CaseFile.reference), col(CaseFile.state),
            col(CaseFile.version), col(pending.trigger), col(pending.ministry),
        )
        .outerjoin(pending, (col(pending.case_id) == col(CaseFile.id))
                   & (col(pending.status) == ApprovalStatus.PENDING))
        .where(col(CaseFile.workflow_name) == name, col(CaseFile.workflow_version) == version)
        .order_by(col(CaseFile.created_at), col(CaseFile.id))
    )  # fmt: skip
    if case_ids is not None:
        statement = statement.where(col(CaseFile.id).in_(case_ids))
    return [MigrationCandidate(*row) for row in session.execute(statement).all()]


def pending_approval(session: Session, case_id: uuid.UUID) -> Approval | None:
    statement = select(Approval).where(
        col(Approval.case_id) == case_id, col(Approval.status) == ApprovalStatus.PENDING
    )
    return session.exec(statement).first()


def delete_idempotency_records_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def victim_keys_after(
    session: Session, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, bytes | None, bytes | None]]:
    """(case id, sealed identity, wrapped case key) of the next `limit` victims by case id."""
    query = select(Victim.case_id, Victim.identity_ciphertext, Victim.data_key)
    if after is not None:
        query = query.where(col(Victim.case_id) > after)
    rows = session.exec(query.order_by(col(Victim.case_id)).limit(limit)).all()
    return [(case_id, identity, key) for case_id, identity, key in rows]


def replace_victim_keys(
    session: Session,
    case_id: uuid.UUID,
    old: tuple[bytes | None, bytes | None],
    new: tuple[bytes | None, bytes | None],
) -> bool:
    """Compare-and-set: the row is rewritten only if both values are still `old` (an erasure
    committed meanwhile is never undone)."""
    done = session.execute(
        update(Victim)
        .where(
            col(Victim.case_id) == case_id,
            col(Victim.identity_ciphertext).is_not_distinct_from(old[0]),
            col(Victim.data_key).is_not_distinct_from(old[1]),
        )
        .values(identity_ciphertext=new[0], data_key=new[1])
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]
