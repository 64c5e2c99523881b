"""Four eyes, as part of the case: a sensitive transition becomes a pending request.

A sensitive transition does not move the case: it becomes one pending request (one per case,
held by a unique index), which a supervisor later decides (service/approvals/). The pending
request belongs to the case aggregate like its consents: the case's load reads it, and a
request is superseded when the case moves on without it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from schemas.approval import ApprovalRead, ApprovalStatus, PendingTransitionRead
from service.audit.log import append_case_event
from service.cases import erasable
from service.cases import repository as repo
from service.cases.aggregate import LoadedCase
from service.cases.command import Command
from service.cases.idempotency import Answer
from service.cases.service import present, readable
from service.kit import metrics
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import ApprovalPending
from service.kit.principal import Principal
from service.models import Approval, CaseFile, UserAccount
from workflows import TransitionSpec


def request(
    session: Session,
    context: AppContext,
    principal: Principal,
    loaded: LoadedCase,
    row: TransitionSpec,
    command: Command,
    endpoint: str,
    reveal: bool = True,
) -> Answer:
    """202: the request is recorded (and is an event); the case stays where it is."""
    approval = record_request(session, context, principal, loaded, row, command)
    body = PendingTransitionRead(
        approval=present_approval(session, approval, loaded.case),
        case=present(session, context, principal, loaded, endpoint, reveal),
    )
    return Answer(status_code=202, body=body.model_dump(mode="json"))


def record_request(
    session: Session,
    context: AppContext,
    principal: Principal,
    loaded: LoadedCase,
    row: TransitionSpec,
    command: Command,
    group_id: uuid.UUID | None = None,
) -> Approval:
    """The request and its event, unpresented. With `group_id`, the request is one case of a
    group decision (service/groups/), which answers per case without a read model."""
    metrics.count_on_commit(session, metrics.TRANSITIONS, row.trigger, "pending_approval")
    assert principal.ministry is not None and principal.user_id is not None
    case = loaded.case
    pending = select(Approval.id).where(
        col(Approval.case_id) == case.id, col(Approval.status) == ApprovalStatus.PENDING
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
        group_id=group_id,
    )
    session.add(approval)
    grouped = {"group_id": str(group_id)} if group_id is not None else {}
    append_case_event(
        session, case, actor=principal, at=now, kind="approval_requested", trigger=row.trigger,
        payload={
            "approval_id": str(approval.id), "dest": row.dest, **grouped,
            **erasable.seal(context, case, loaded.victim, command.payload,
                            schema=row.payload_schema, note=command.note),
        },
    )  # fmt: skip
    flush_or_conflict(session)
    return approval


def pending_request(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> ApprovalRead | None:
    """The request waiting on a case the caller may see, if any (at most one per case)."""
    loaded = readable(session, context, principal, case_id)
    approval = repo.pending_approval(session, loaded.case.id)
    if approval is None:
        return None
    return present_approval(session, approval, loaded.case, erasable.masking(context, principal))


def supersede(session: Session, case: CaseFile, now: datetime) -> None:
    """The case moved on: a request to move it from where it was can no longer be decided."""
    session.execute(
        update(Approval)
        .where(col(Approval.case_id) == case.id, col(Approval.status) == ApprovalStatus.PENDING)
        .values(status=ApprovalStatus.SUPERSEDED, decided_at=now)
    )


def present_approval(
    session: Session, approval: Approval, case: CaseFile, mask: erasable.Mask | None = None
) -> ApprovalRead:
    """`mask` (auditors: cases/erasable.py) hides the request's free text, as the log does."""

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
        payload=mask.payload(case, approval.trigger, approval.payload)
        if mask
        else approval.payload,
        note=mask.text(approval.note) if mask else approval.note,
        ministry=approval.ministry,
        requested_by=username(approval.requested_by_id) or "?",
        requested_at=approval.requested_at,
        status=approval.status,
        decided_by=username(approval.decided_by_id),
        decided_at=approval.decided_at,
        decision_reason=mask.text(approval.decision_reason) if mask else approval.decision_reason,
    )
