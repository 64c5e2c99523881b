"""Every query about cases; which case rows a caller may read is decided in visibility.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    exists,
    func,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from schemas.approval import ApprovalStatus
from service.cases.aggregate import LoadedCase
from service.cases.visibility import caller_kind, visibility
from service.kit.principal import Principal
from service.models import Approval, CaseEvent, CaseFile, CaseMinistry, Consent, UserAccount, Victim
from workflows.registry import Registry


def parse_case_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def load_readable(
    session: Session, principal: Principal, registry: Registry, case_id: str
) -> LoadedCase | None:
    """The case if `principal` may see it, else None (whether or not it exists)."""
    parsed = parse_case_id(case_id)
    if parsed is None:
        return None
    key = ("load_readable", *caller_kind(principal))
    statement = registry.memo.get(key)
    if statement is None:
        statement = registry.memo[key] = _load_statement(principal, registry)
    row = session.execute(statement, {"case_id": parsed}).first()
    if row is None:
        return None
    case, victim, handled, consents, assignee, pending = row
    return LoadedCase(case, victim, _split(handled), _split(consents), assignee, bool(pending))


def _load_statement(principal: Principal, registry: Registry) -> Select[Any]:
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
    return (
        sa_select(CaseFile, Victim, handled, consents, col(UserAccount.username), pending)
        .join(Victim, col(Victim.case_id) == col(CaseFile.id))
        .outerjoin(UserAccount, col(UserAccount.id) == col(CaseFile.assigned_to_id))
        .where(col(CaseFile.id) == bindparam("case_id"))
        .where(visibility(principal, registry, by_id=True))
    )


def _split(joined: str | None) -> set[str]:
    return set(joined.split(",")) if joined else set()


def history(session: Session, case_id: uuid.UUID) -> Sequence[CaseEvent]:
    statement = (
        select(CaseEvent).where(col(CaseEvent.case_id) == case_id).order_by(col(CaseEvent.seq))
    )
    return session.exec(statement).all()


def pending_approval(session: Session, case_id: uuid.UUID) -> Approval | None:
    statement = select(Approval).where(
        col(Approval.case_id) == case_id, col(Approval.status) == ApprovalStatus.PENDING
    )
    return session.exec(statement).first()
