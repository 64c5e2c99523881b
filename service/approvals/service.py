"""Four eyes: a sensitive transition waits for a supervisor of the same ministry who is not the
one who asked. Approving re-checks everything against the case as it is now, then fires it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from schemas.approval import ApprovalPage, ApprovalRead, ApprovalStatus
from schemas.auth import Role
from schemas.case import CaseRead
from service.approvals import repository as repo
from service.audit.log import append_case_event
from service.auth.service import principal_of
from service.cases import erasable
from service.cases.aggregate import LoadedCase
from service.cases.command import Command
from service.cases.four_eyes import present_approval
from service.cases.service import present, readable, readable_many
from service.cases.transition_core import apply, check
from service.cases.visibility import visibility
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Conflict, Forbidden, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import Approval


def list_approvals(
    session: Session,
    context: AppContext,
    principal: Principal,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> ApprovalPage:
    """Supervisors see their ministry's; case workers their own requests; auditors all."""
    if principal.role == Role.SUPERVISOR:
        whose = repo.of_ministry(principal.ministry)
    elif principal.role == Role.CASE_WORKER:
        whose = repo.requested_by(principal.user_id)
    elif principal.role == Role.AUDITOR:
        whose = repo.anyone()
    else:
        raise Forbidden("approvals are for case workers, supervisors and auditors")
    scope = scope_of(list="approvals", role=principal.role, who=principal.user_id, status=status)
    paging = Paging.of(
        context.settings.keys.secret_key, scope, cursor, limit, context.settings.queue_page_max
    )
    rows = repo.page(
        session, visibility(principal, context.registry), whose, status,
        repo.position(paging.after), paging.fetch,
    )  # fmt: skip
    page, next_cursor = paging.page(rows, lambda row: repo.sort_key(row[0]))
    mask = erasable.masking(context, principal)
    items = [present_approval(session, approval, case, mask) for approval, case in page]
    return ApprovalPage(items=items, next_cursor=next_cursor)


def approve(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    reason: str,
    endpoint: str,
    reveal: bool = True,
) -> CaseRead:
    loaded = approve_only(session, context, principal, approval_id, reason)
    return present(session, context, principal, loaded, endpoint, reveal)


def approve_only(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    reason: str,
    batch: DecisionBatch | None = None,
) -> LoadedCase:
    """Approve and fire, re-checking everything against the case as it is now; the case as it
    moved, not presented (a group decision answers per case without a read model). `batch`
    carries what a group decision loaded once for many approvals."""
    approval, loaded = _pending(session, context, principal, approval_id, batch)
    command = Command(
        approval.trigger, approval.payload, approval.note, approval.consent_override_reason
    )
    if batch is None:
        asker = principal_of(session, approval.requested_by_id, approval.ministry)
    else:
        asker = batch.asker(session, approval.requested_by_id, approval.ministry)
    row, dest = check(context, asker, loaded, command)
    approval.status, approval.decided_by_id = ApprovalStatus.APPROVED, principal.user_id
    approval.decided_at, approval.decision_reason = context.clock(), reason
    extra = {
        "_approval": {
            "approval_id": str(approval.id),
            "requested_by": asker.username,
            "requested_at": approval.requested_at.isoformat(),
            "reason": erasable.seal_text(context, loaded.case, loaded.victim, reason),
        }
    }
    if approval.group_id is not None:  # one case of a group decision (service/groups/)
        extra["_approval"]["group_id"] = str(approval.group_id)
    apply(session, context, principal, loaded, row, dest, command, extra)
    return loaded


def reject(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    reason: str,
    batch: DecisionBatch | None = None,
) -> ApprovalRead:
    approval, loaded = _pending(session, context, principal, approval_id, batch)
    return _close(session, context, principal, approval, loaded, ApprovalStatus.REJECTED, reason)


def cancel(
    session: Session, context: AppContext, principal: Principal, approval_id: str
) -> ApprovalRead:
    """The requester withdraws their own request."""
    approval, loaded = _load(session, context, principal, approval_id)
    if approval.requested_by_id != principal.user_id:
        raise Forbidden("only the person who asked may cancel a request")
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"the request is already {approval.status}")
    return _close(session, context, principal, approval, loaded, ApprovalStatus.CANCELLED, None)


def _close(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval: Approval,
    loaded: LoadedCase,
    status: str,
    reason: str | None,
) -> ApprovalRead:
    case, now = loaded.case, context.clock()
    payload = {"approval_id": str(approval.id), "dest": approval.dest}
    if approval.group_id is not None:
        payload["group_id"] = str(approval.group_id)
    approval.status, approval.decided_by_id = status, principal.user_id
    approval.decided_at, approval.decision_reason = now, reason
    append_case_event(
        session, case, actor=principal, at=now, kind=f"approval_{status}", trigger=approval.trigger,
        payload=erasable.seal(context, case, loaded.victim, payload, note=reason),
    )  # fmt: skip
    flush_or_conflict(session)
    return present_approval(session, approval, case)


def _pending(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    batch: DecisionBatch | None = None,
) -> tuple[Approval, LoadedCase]:
    """A pending approval that `principal` may decide: same ministry, supervisor, other person."""
    approval, loaded = _load(session, context, principal, approval_id, batch)
    if principal.role != Role.SUPERVISOR or principal.ministry != approval.ministry:
        raise Forbidden(f"a supervisor of {approval.ministry} decides this request")
    if principal.user_id == approval.requested_by_id:
        raise Forbidden("four eyes: the person who asked cannot decide their own request")
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"the request is already {approval.status}")
    return approval, loaded


def _load(
    session: Session,
    context: AppContext,
    principal: Principal,
    approval_id: str,
    batch: DecisionBatch | None = None,
) -> tuple[Approval, LoadedCase]:
    try:
        approval = session.get(Approval, uuid.UUID(approval_id))
    except ValueError:
        approval = None
    if approval is None:
        raise NotFound("approval not found")
    if batch is None:
        loaded = readable(session, context, principal, str(approval.case_id))  # 404 unless visible
    else:
        loaded = batch.readable(str(approval.case_id))
    return approval, loaded


@dataclass
class DecisionBatch:
    """What a group decision loads once for a batch of approvals, in the batch's transaction:
    the approvals and their cases (of these, only those the decider may see), the units and
    the requesters. Each approval is still decided and re-checked on its own."""

    cases: dict[str, LoadedCase]
    kept: list[Any]  # rows held so that the session's identity map serves them (it is weak)
    askers: dict[tuple[int, str], Principal] = field(default_factory=dict)

    @classmethod
    def load(
        cls, session: Session, context: AppContext, principal: Principal, approval_ids: list[str]
    ) -> DecisionBatch:
        approvals = repo.by_ids(session, [uuid.UUID(a) for a in approval_ids])
        cases, kept = readable_many(
            session, context, principal, [str(a.case_id) for a in approvals]
        )
        return cls(cases, [*approvals, *kept])

    def readable(self, case_id: str) -> LoadedCase:
        loaded = self.cases.get(case_id)
        if loaded is None:
            raise NotFound("case not found")  # as `readable`: invisible or absent alike
        return loaded

    def asker(self, session: Session, user_id: int, ministry: str) -> Principal:
        """The requester as they act now (read once per batch: the same transaction)."""
        key = (user_id, ministry)
        if key not in self.askers:
            self.askers[key] = principal_of(session, user_id, ministry)
        return self.askers[key]
