"""Who works a case: a supervisor assigns it, a case worker claims it, either hands it back.

The assignee is a case worker of the ministry leading the case's current state. Every change is
one event on the case's chain (`assigned`, `unassigned`), written with the row's compare-and-set,
and the assignment ends inside the transition that hands the case to another ministry or
closes it: the case leaves the old ministry's hands in the same transaction that puts it in the
new one's queue. Assignment does not change the case's contract `version` (transitions do).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from schemas.auth import Role
from schemas.queue import AssignRequest, CaseSummary
from service.assignments import repository as repo
from service.audit.log import append_case_event
from service.cases import erasable
from service.cases.aggregate import LoadedCase
from service.cases.presenters import present_summary
from service.cases.service import readable
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import (
    AlreadyAssigned,
    CaseClosed,
    Forbidden,
    Invalid,
    NotAssigned,
)
from service.kit.principal import Principal, within
from service.models import CaseFile

MAX_CANDIDATES = 500


def assign(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request: AssignRequest,
) -> CaseSummary:
    """A supervisor of the unit the step belongs to (or above it) (re)assigns the case to a
    case worker of that unit (or above it)."""
    loaded = _open_case(session, context, principal, case_id)
    case, unit = loaded.case, loaded.units.responsible_path
    if not (principal.role == Role.SUPERVISOR and principal.ministry == case.ministry):
        raise Forbidden(f"only a supervisor of {case.ministry}, which leads the case, assigns it")
    _may_work(principal, loaded)
    assignee = repo.active_case_worker(session, request.assignee, case.ministry)
    if (
        assignee is None
        or assignee.id is None
        or not within(unit, repo.unit_path(session, assignee))
    ):
        raise Invalid(
            f"assignee: {request.assignee!r} is not an active case worker of "
            f"{loaded.units.transfer_code or loaded.units.lead_code}"
        )
    if case.assigned_to_id != assignee.id:
        previous = repo.username_of(session, case.assigned_to_id)
        note = erasable.seal(context, case, loaded.victim, {}, note=request.note)
        _set(session, context, principal, case, assignee.id, assignee.username, previous,
             how="reassigned" if previous else "assigned", sealed_note=note)  # fmt: skip
    return present_summary(case, assignee.username, context.clock())


def candidates(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> list[str]:
    """Whom a supervisor of the step's unit may assign the case to (nobody, for anyone else)."""
    loaded = readable(session, context, principal, case_id)
    case, unit = loaded.case, loaded.units.responsible_path
    if principal.role != Role.SUPERVISOR or principal.ministry != case.ministry or not case.due_at:
        return []
    if not principal.serves(unit):
        return []
    return repo.case_workers_of(session, unit, MAX_CANDIDATES)


def claim(session: Session, context: AppContext, principal: Principal, case_id: str) -> CaseSummary:
    """A case worker of the unit the step belongs to takes an unassigned case (a no-op if it is
    theirs)."""
    loaded = _open_case(session, context, principal, case_id)
    case = loaded.case
    if not (principal.role == Role.CASE_WORKER and principal.ministry == case.ministry):
        raise Forbidden(f"only a case worker of {case.ministry}, which leads the case, claims it")
    _may_work(principal, loaded)
    if case.assigned_to_id is not None and case.assigned_to_id != principal.user_id:
        holder = repo.username_of(session, case.assigned_to_id)
        raise AlreadyAssigned(f"the case is assigned to {holder}; a supervisor may reassign it")
    if case.assigned_to_id is None:
        assert principal.user_id is not None
        _set(session, context, principal, case, principal.user_id, principal.username, None,
             how="claimed")  # fmt: skip
    return present_summary(case, principal.username, context.clock())


def release(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> CaseSummary:
    """Hand the case back to its ministry's queue: its assignee, or a lead-ministry supervisor."""
    case = _open_case(session, context, principal, case_id).case
    refusal = f"only the assignee or a supervisor of {case.ministry} hands the case back"
    if not (principal.works_cases and principal.ministry == case.ministry):
        raise Forbidden(refusal)
    if case.assigned_to_id is None:
        raise NotAssigned("the case is not assigned to anyone")
    if not (case.assigned_to_id == principal.user_id or principal.role == Role.SUPERVISOR):
        raise Forbidden(refusal)
    previous = repo.username_of(session, case.assigned_to_id)
    case.assigned_to_id, case.assigned_at = None, None
    append_case_event(
        session, case, actor=principal, at=context.clock(), kind="unassigned",
        payload={"previous": previous, "reason": "handed_back"},
    )  # fmt: skip
    flush_or_conflict(session)
    return present_summary(case, None, context.clock())


def end_assignments_of(
    session: Session, context: AppContext, actor: Principal, user_id: int, *, reason: str
) -> int:
    """A user moved to another unit, lost their role or was deactivated: their open cases go
    back to their queues, each with its `unassigned` event."""
    now = context.clock()
    cases = repo.assigned_to(session, user_id)
    previous = repo.username_of(session, user_id)
    for case in cases:
        case.assigned_to_id, case.assigned_at = None, None
        append_case_event(
            session, case, actor=actor, at=now, kind="unassigned",
            payload={"previous": previous, "reason": reason},
        )  # fmt: skip
    flush_or_conflict(session)
    return len(cases)


def _open_case(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> LoadedCase:
    loaded = readable(session, context, principal, case_id)  # 404 unless visible
    if loaded.case.due_at is None:
        raise CaseClosed("the case is closed; nobody works it any more")
    return loaded


def _may_work(principal: Principal, loaded: LoadedCase) -> None:
    if not principal.serves(loaded.units.responsible_path):
        raise Forbidden(
            f"the step belongs to unit {loaded.units.transfer_code or loaded.units.lead_code}; "
            "its case workers and supervisors, or those of a unit above it, work it"
        )


def _set(
    session: Session,
    context: AppContext,
    principal: Principal,
    case: CaseFile,
    user_id: int,
    username: str,
    previous: str | None,
    *,
    how: str,
    sealed_note: dict[str, Any] | None = None,
) -> None:
    now = context.clock()
    case.assigned_to_id, case.assigned_at = user_id, now
    append_case_event(
        session, case, actor=principal, at=now, kind="assigned",
        payload={"assignee": username, "previous": previous, "how": how, **(sealed_note or {})},
    )  # fmt: skip
    flush_or_conflict(session)
