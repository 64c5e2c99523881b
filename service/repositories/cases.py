"""Every query about cases. Visibility is decided here, once, for every read.

A case is visible to the ministry leading its current state, to every ministry that referred
or led it earlier (`case_ministry`), and to the ministries supporting its current state
(read-only), and to the national escalation target (the Task Force) while the case is escalated
to it (read-only). Auditors see every case (never its identity); admins see none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    true,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service.models import Approval, CaseEvent, CaseFile, CaseMinistry, Consent, UserAccount, Victim
from service.principal import Principal
from service.registry import Registry
from workflows import SlaLevel


def visibility(
    principal: Principal, registry: Registry, *, by_id: bool = False
) -> ColumnElement[bool]:
    """The one predicate that says which case rows `principal` may read.

    With `by_id`, for reading one case whose id is the bound parameter `case_id`: the check of
    the ministries that handled it becomes one primary-key probe, instead of a subplan that
    PostgreSQL may hash over every case the ministry ever handled.

    Built once per kind of caller and kept on the registry: the published definitions it
    depends on never change while the process runs, and building it costs more than running it.
    """
    key = ("visibility", by_id, *_caller(principal))
    predicate: ColumnElement[bool] | None = registry.memo.get(key)
    if predicate is None:
        predicate = registry.memo[key] = _visibility(principal, registry, by_id)
    return predicate


def _caller(principal: Principal) -> tuple[bool, bool, str | None]:
    """What visibility depends on: two callers with the same key see the same cases."""
    return principal.role == "auditor", principal.works_cases, principal.ministry


def _visibility(principal: Principal, registry: Registry, by_id: bool) -> ColumnElement[bool]:
    if principal.role == "auditor":
        return true()
    if not principal.works_cases or principal.ministry is None:
        return false()
    ministry = principal.ministry
    case_id: Any = bindparam("case_id") if by_id else CaseFile.id
    handled = exists().where(
        col(CaseMinistry.case_id) == case_id, col(CaseMinistry.ministry) == ministry
    )
    return or_(
        col(CaseFile.ministry) == ministry,
        handled,
        supported_by(registry, ministry),
        escalated_to(registry, ministry),
    )


def supported_by(registry: Registry, ministry: str) -> ColumnElement[bool]:
    """Cases whose current state lists `ministry` among its supporting ministries."""
    clauses = [
        and_(
            col(CaseFile.workflow_name) == definition.name,
            col(CaseFile.workflow_version) == definition.version,
            col(CaseFile.state).in_(sorted(states)),
        )
        for definition in registry.definitions()
        if (states := definition.supporting_states(ministry))
    ]
    return or_(false(), *clauses)


def escalated_to(registry: Registry, ministry: str) -> ColumnElement[bool]:
    """Cases escalated to `ministry` as their definition's national escalation target."""
    clauses = [
        and_(
            col(CaseFile.workflow_name) == definition.name,
            col(CaseFile.workflow_version) == definition.version,
        )
        for definition in registry.definitions()
        if definition.escalate_to == ministry
    ]
    if not clauses:
        return false()
    escalated = col(CaseFile.sla_level) >= literal(int(SlaLevel.ESCALATED), literal_execute=True)
    return and_(escalated, or_(*clauses))


def parse_case_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def get_readable(
    session: Session, principal: Principal, registry: Registry, case_id: str
) -> CaseFile | None:
    loaded = load_readable(session, principal, registry, case_id)
    return loaded.case if loaded else None


@dataclass
class LoadedCase:
    """A case with all that a read or a transition needs of it, fetched in one round trip."""

    case: CaseFile
    victim: Victim
    handled: set[str]  # the ministries that referred or led it: they may see the identity
    consent_recipients: set[str]  # active consents
    assignee: str | None
    approval_pending: bool


def load_readable(
    session: Session, principal: Principal, registry: Registry, case_id: str
) -> LoadedCase | None:
    """The case if `principal` may see it, else None (whether or not it exists)."""
    parsed = parse_case_id(case_id)
    if parsed is None:
        return None
    key = ("load_readable", *_caller(principal))
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
        col(Approval.case_id) == CaseFile.id, col(Approval.status) == "pending"
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
