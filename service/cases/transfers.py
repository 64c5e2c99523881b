"""Hand-overs between units, decided by people: the receiver accepts or declines, the sender
names another receiving unit. (The rules that pick a unit are in routing.py.)"""

from __future__ import annotations

from sqlmodel import Session

from schemas.case import CaseRead
from service.audit.log import append_case_event
from service.cases import erasable, routing
from service.cases.aggregate import LoadedCase
from service.cases.service import present, readable
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import CaseClosed, Forbidden, NoTransfer
from service.kit.principal import Principal


def accept_transfer(
    session: Session, context: AppContext, principal: Principal, case_id: str, endpoint: str
) -> CaseRead:
    """The receiving unit takes the case: it leads from now, with the step's deadline."""
    loaded = _waiting_for(session, context, principal, case_id)
    now = context.clock()
    handed = routing.take_over(session, context, loaded, now)
    case = loaded.case
    append_case_event(
        session, case, actor=principal, at=now, kind="transfer_accepted", payload=handed
    )
    if case.assigned_to_id is not None:  # the sender's case worker hands it on
        case.assigned_to_id, case.assigned_at = None, None
        append_case_event(
            session, case, actor=principal, at=now, kind="unassigned",
            payload={"previous": loaded.assignee, "reason": "handed_over"},
        )  # fmt: skip
        loaded.assignee = None
    flush_or_conflict(session)
    return present(session, context, principal, loaded, endpoint)


def decline_transfer(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    reason: str,
    endpoint: str,
) -> CaseRead:
    """The receiving unit refuses, with a reason: the case stays with the sender, who names
    another unit. The refusing unit no longer sees the victim's identity."""
    loaded = _waiting_for(session, context, principal, case_id)
    now = context.clock()
    declined = routing.withdraw(session, context, loaded, now)
    append_case_event(
        session, loaded.case, actor=principal, at=now, kind="transfer_declined",
        payload=erasable.seal(context, loaded.case, loaded.victim, declined, note=reason),
    )  # fmt: skip
    flush_or_conflict(session)
    return present(session, context, principal, loaded, endpoint)


def reroute_transfer(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    to_unit: str,
    endpoint: str,
) -> CaseRead:
    """The sender names the unit the step goes to (after a refusal, or instead of waiting)."""
    loaded = _open(session, context, principal, case_id)
    if not (principal.works_cases and principal.serves(loaded.units.lead_path)):
        raise Forbidden(
            f"the case is with unit {loaded.units.lead_code}; its case workers and supervisors, "
            "or those of a unit above it, name the unit it goes to"
        )
    case, now = loaded.case, context.clock()
    target = routing.requested_unit(session, to_unit, case.ministry)
    previous = routing.withdraw(session, context, loaded, now) if case.transfer_to_unit_id else None
    routing.hand_over(session, context, loaded, target, now)
    append_case_event(
        session, case, actor=principal, at=now, kind="transfer_rerouted",
        payload={"from_unit": loaded.units.lead_code, "to_unit": target.code,
                 "instead_of": previous["to_unit"] if previous else None},
    )  # fmt: skip
    flush_or_conflict(session)
    return present(session, context, principal, loaded, endpoint)


def _waiting_for(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> LoadedCase:
    loaded = _open(session, context, principal, case_id)
    if loaded.case.transfer_to_unit_id is None:
        raise NoTransfer("no hand-over waits for this case")
    if not (principal.works_cases and principal.serves(loaded.units.transfer_path)):
        raise Forbidden(
            f"the hand-over waits for unit {loaded.units.transfer_code}; its case workers and "
            "supervisors, or those of a unit above it, accept or decline it"
        )
    return loaded


def _open(session: Session, context: AppContext, principal: Principal, case_id: str) -> LoadedCase:
    loaded = readable(session, context, principal, case_id)  # 404 unless visible
    if loaded.case.due_at is None:
        raise CaseClosed("the case is closed; nobody hands it over any more")
    return loaded
