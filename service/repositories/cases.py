"""Every query about cases. Visibility is decided here, once, for every read.

A case is visible to the ministry leading its current state, to every ministry that referred
or led it earlier (`case_ministry`), and to the ministries supporting its current state
(read-only), and to the national escalation target (the Task Force) while the case is escalated
to it (read-only). Auditors see every case (never its identity); admins see none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, literal, or_, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import CaseEvent, CaseFile, CaseMinistry, Consent, Victim
from service.principal import Principal
from service.registry import Registry
from workflows import SlaLevel


def visibility(principal: Principal, registry: Registry) -> ColumnElement[bool]:
    """The one predicate that says which case rows `principal` may read.

    Built once per kind of caller and kept on the registry: the published definitions it
    depends on never change while the process runs, and building it costs more than running it.
    """
    key = ("visibility", principal.role == "auditor", principal.works_cases, principal.ministry)
    predicate: ColumnElement[bool] | None = registry.memo.get(key)
    if predicate is None:
        predicate = registry.memo[key] = _visibility(principal, registry)
    return predicate


def _visibility(principal: Principal, registry: Registry) -> ColumnElement[bool]:
    if principal.role == "auditor":
        return true()
    if not principal.works_cases or principal.ministry is None:
        return false()
    ministry = principal.ministry
    handled = exists().where(
        col(CaseMinistry.case_id) == CaseFile.id, col(CaseMinistry.ministry) == ministry
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


def readable_cases(principal: Principal, registry: Registry) -> SelectOfScalar[CaseFile]:
    return select(CaseFile).where(visibility(principal, registry))


def parse_case_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def get_readable(
    session: Session, principal: Principal, registry: Registry, case_id: str
) -> CaseFile | None:
    parsed = parse_case_id(case_id)
    if parsed is None:
        return None
    key = ("readable_by_id", principal.role == "auditor", principal.works_cases, principal.ministry)
    statement: SelectOfScalar[CaseFile] | None = registry.memo.get(key)
    if statement is None:
        statement = registry.memo[key] = readable_cases(principal, registry).where(
            col(CaseFile.id) == bindparam("case_id")
        )
    return session.exec(statement, params={"case_id": parsed}).first()


def handled_by(session: Session, case_id: uuid.UUID) -> set[str]:
    """The ministries that referred or led the case: those who may see the victim's identity."""
    statement = select(CaseMinistry.ministry).where(col(CaseMinistry.case_id) == case_id)
    return set(session.exec(statement))


def active_consent_recipients(session: Session, case_id: uuid.UUID) -> set[str]:
    statement = select(Consent.recipient).where(
        col(Consent.case_id) == case_id, col(Consent.withdrawn_at).is_(None)
    )
    return set(session.exec(statement))


def active_consents(session: Session, case_id: uuid.UUID) -> Sequence[Consent]:
    statement = select(Consent).where(
        col(Consent.case_id) == case_id, col(Consent.withdrawn_at).is_(None)
    )
    return session.exec(statement).all()


def victim_of(session: Session, case_id: uuid.UUID) -> Victim:
    victim = session.get(Victim, case_id)
    assert victim is not None, "every case has its victim row"
    return victim


def history(session: Session, case_id: uuid.UUID) -> Sequence[CaseEvent]:
    statement = (
        select(CaseEvent).where(col(CaseEvent.case_id) == case_id).order_by(col(CaseEvent.seq))
    )
    return session.exec(statement).all()
