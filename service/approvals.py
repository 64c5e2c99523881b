"""Four eyes: a sensitive transition waits for a supervisor of the same ministry who is not the
one who asked. Approving re-checks everything against the case as it is now, then fires it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from schemas.approval import ApprovalRead, PendingTransitionRead
from schemas.case import CaseRead
from service import transitions
from service.cases import present, readable
from service.context import AppContext
from service.errors import ApprovalPending, Conflict, Forbidden, NotFound, VersionConflict
from service.events import append_case_event
from service.idempotency import Answer
from service.models import Approval, CaseFile, UserAccount
from service.principal import Principal
from service.repositories import cases as repo
from service.repositories.cases import LoadedCase
from workflows import TransitionSpec


def request(
    session: Session,
    context: AppContext,
    principal: Principal,
    loaded: LoadedCase,
    row: TransitionSpec,
    command: transitions.Command,
    endpoint: str,
) -> Answer:
    """202: the request is recorded (and is an event); the case stays where it is."""
    assert principal.ministry is not None and principal.user_id is not None
    case = loaded.case
    pending = select(Approval.id).where(
        col(Approval.case_id) == case.id, col(Approval.status) == "pending"
    )
    if loaded.approval_pending or session.exec(pending).first() is not None:
        raise ApprovalPending("a request for this case already waits for approval; decide it first")
    now = context.clock()
    approval = Approval(
        case_id=case.id,
        trigger=row.trigger,
        source=row.source,
        dest=row.dest,
        payload=command.payload,
        note=command.note,
        consent_override_reason=command.consent_override_reason,
        ministry=principal.ministry,
        requested_by_id=principal.user_id,
        requested_at=now,
        state_entered_at=case.state_entered_at,
    )
    session.add(approval)
    append_case_event(
        session, case, actor=principal, at=now, kind="approval_requested", trigger=row.trigger,
        payload={"approval_id": str(approval.id), "dest": row.dest, **command.payload},
        note=command.note,
    )  # fmt: skip
    _flush_or_conflict(session)
    body = PendingTransitionRead(
        approval=_read(session, approval, case),
        case=present(session, context, principal, loaded, endpoint),
    )
    return Answer(status_code=202, body=body.model_dump(mode="json"))


def list_approvals(
    session: Session, context: AppContext, principal: Principal, status: str | None
) -> list[ApprovalRead]:
    """Supervisors see their ministry's; case workers their own requests; auditors all."""
    statement = (
        select(Approval, CaseFile)
        .join(CaseFile, col(CaseFile.id) == col(Approval.case_id))
        .where(repo.visibility(principal, context.registry))
        .order_by(col(Approval.requested_at))
    )
    if principal.role == "supervisor":
        statement = statement.where(col(Approval.ministry) == principal.ministry)
    elif principal.role == "case_worker":
        statement = statement.where(col(Approval.requested_by_id) == principal.user_id)
    elif principal.role != "auditor":
        raise Forbidden("approvals are for case workers, supervisors and auditors")
    if status is not None:
        statement = statement.where(col(Approval.status) == status)
    return [_read(session, a, c) for a, c in session.exec(statement).all()]


def approve(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    reason: str,
    endpoint: str,
) -> CaseRead:
    approval, loaded = _pending(session, context, principal, approval_id)
    requester = session.get(UserAccount, approval.requested_by_id)
    assert requester is not None
    command = transitions.Command(
        approval.trigger, approval.payload, approval.note, approval.consent_override_reason
    )
    asker = Principal(requester.id, requester.username, requester.role, approval.ministry)
    row, dest = transitions.check(context, asker, loaded, command)
    approval.status, approval.decided_by_id = "approved", principal.user_id
    approval.decided_at, approval.decision_reason = context.clock(), reason
    extra = {
        "_approval": {
            "approval_id": str(approval.id),
            "requested_by": requester.username,
            "requested_at": approval.requested_at.isoformat(),
            "reason": reason,
        }
    }
    transitions.apply(session, context, principal, loaded, row, dest, command, extra)
    return present(session, context, principal, loaded, endpoint)


def reject(
    session: Session, context: AppContext, principal: Principal, approval_id: str, reason: str
) -> ApprovalRead:
    approval, loaded = _pending(session, context, principal, approval_id)
    return _close(session, context, principal, approval, loaded.case, "rejected", reason)


def cancel(
    session: Session, context: AppContext, principal: Principal, approval_id: str
) -> ApprovalRead:
    """The requester withdraws their own request."""
    approval, loaded = _load(session, context, principal, approval_id)
    if approval.requested_by_id != principal.user_id:
        raise Forbidden("only the person who asked may cancel a request")
    if approval.status != "pending":
        raise Conflict(f"the request is already {approval.status}")
    return _close(session, context, principal, approval, loaded.case, "cancelled", None)


def _close(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval: Approval,
    case: CaseFile,
    status: str,
    reason: str | None,
) -> ApprovalRead:
    now = context.clock()
    approval.status, approval.decided_by_id = status, principal.user_id
    approval.decided_at, approval.decision_reason = now, reason
    append_case_event(
        session, case, actor=principal, at=now, kind=f"approval_{status}", trigger=approval.trigger,
        payload={"approval_id": str(approval.id), "dest": approval.dest}, note=reason,
    )  # fmt: skip
    _flush_or_conflict(session)
    return _read(session, approval, case)


def _pending(
    session: Session, context: AppContext, principal: Principal, approval_id: str
) -> tuple[Approval, LoadedCase]:
    """A pending approval that `principal` may decide: same ministry, supervisor, other person."""
    approval, loaded = _load(session, context, principal, approval_id)
    if principal.role != "supervisor" or principal.ministry != approval.ministry:
        raise Forbidden(f"a supervisor of {approval.ministry} decides this request")
    if principal.user_id == approval.requested_by_id:
        raise Forbidden("four eyes: the person who asked cannot decide their own request")
    if approval.status != "pending":
        raise Conflict(f"the request is already {approval.status}")
    return approval, loaded


def _load(
    session: Session, context: AppContext, principal: Principal, approval_id: str
) -> tuple[Approval, LoadedCase]:
    try:
        approval = session.get(Approval, uuid.UUID(approval_id))
    except ValueError:
        approval = None
    if approval is None:
        raise NotFound("approval not found")
    loaded = readable(session, context, principal, str(approval.case_id))  # 404 unless visible
    return approval, loaded


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise VersionConflict(
            "the case changed, or a request is already pending for it; read it again"
        ) from exc


def _read(session: Session, approval: Approval, case: CaseFile) -> ApprovalRead:
    def username(user_id: int | None) -> str | None:
        user = session.get(UserAccount, user_id) if user_id is not None else None
        return user.username if user else None

    return ApprovalRead(
        id=str(approval.id),
        case_id=str(case.id),
        case_reference=case.reference,
        trigger=approval.trigger,
        source=approval.source,
        dest=approval.dest,
        payload=approval.payload,
        note=approval.note,
        ministry=approval.ministry,
        requested_by=username(approval.requested_by_id) or "?",
        requested_at=approval.requested_at,
        status=approval.status,
        decided_by=username(approval.decided_by_id),
        decided_at=approval.decided_at,
        decision_reason=approval.decision_reason,
    )
