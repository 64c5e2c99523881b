"""Group decisions: one trigger with one payload fired at many cases, and the one decision of a
supervisor on the approvals that a sensitive trigger made.

Each case goes through exactly what a single request does: `cases.service.readable` (a case the
caller may not see is refused as `not_found`, exactly as an id that does not exist),
the optional `expected_version`, `transition_core.check` (trigger, ministry, unit, payload
schema, guards), then `transition_core.apply` or `four_eyes.request`; approving a member runs
`approvals.service.approve`, which re-checks the requester against the case as it is now. Every
event names the group (`_group` on a move, `group_id` on a request and its decision).

Transactions: cases are taken in batches of `BATCH_CASES`, one transaction per batch, each case
in its own savepoint. A refused case rolls back alone and the others go on; each case's
compare-and-set is its own flush; a commit per batch, not per case, saves most of the commits'
cost (569 approvals, see bench/RESULTS.md), while a batch stays short enough that it neither
holds locks for long nor loses much to a crash (a retry refuses what already moved).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session

from schemas.approval import ApprovalStatus
from schemas.arrival import GroupCaseResult, GroupDecisionRead, GroupOutcome, GroupTransitionRequest
from schemas.auth import Role
from service.approvals import service as approvals
from service.arrivals import service as arrivals
from service.cases import four_eyes, idempotency
from service.cases.aggregate import LoadedCase
from service.cases.command import Command
from service.cases.idempotency import Answer
from service.cases.service import readable_many
from service.cases.transition_core import apply, check
from service.cases.visibility import visibility
from service.groups import repository as repo
from service.kit.context import AppContext
from service.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RequestInProgress,
    VersionConflict,
)
from service.kit.principal import Principal
from service.models import GroupDecision

T = TypeVar("T")
UseCase = Callable[[Session, AppContext, Principal], T]
Runner = Callable[[UseCase[Any]], Any]  # `Run.now`: one unit of work per call
BATCH_CASES = 50
MAX_CASES = 2000


@dataclass
class Outcomes:
    group: GroupDecision | None = None
    results: list[GroupCaseResult] = field(default_factory=list)

    def count(self, outcome: GroupOutcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def fire_group(
    run: Runner, request: GroupTransitionRequest, endpoint: str, key: str | None = None
) -> GroupDecisionRead:
    """Fire one trigger at many cases: per case, moved, waiting for approval, or refused.

    With an Idempotency-Key `key`, a retry with the same request answers the first answer and
    makes no second group (a different request with the key: 422; while the first still
    runs: 409 `request_in_progress`, naming its group)."""
    group_id = uuid.uuid4()
    keyed = Keyed(key, "group-transitions", request.model_dump(mode="json"), str(group_id))
    opened = run(lambda s, c, p: keyed.claim(s, c, p) or _open_group(s, c, p, group_id, request))
    if isinstance(opened, GroupDecisionRead):
        return opened
    command = Command(request.trigger, request.payload, request.note, None)
    outcomes = Outcomes()
    for batch in _batches(opened):
        run(partial(_fire_batch, group_id=group_id, command=command, request=request,
                    case_ids=batch, outcomes=outcomes))  # fmt: skip
    done: GroupDecisionRead = run(
        lambda s, c, p: keyed.store(s, c, p, _finish(s, p, group_id, outcomes))
    )
    return done


def decide_group(
    run: Runner, group_id: str, approve: bool, reason: str, endpoint: str, key: str | None = None
) -> GroupDecisionRead:
    """One decision for every case of the group still waiting; each re-checked as it is now.
    With an Idempotency-Key, a retry answers the first decision's answer again."""
    scope = f"group-approvals/{group_id}/{'approve' if approve else 'reject'}"
    keyed = Keyed(key, scope, {"reason": reason}, group_id)
    member_ids = run(lambda s, c, p: keyed.claim(s, c, p) or _members_to_decide(s, p, group_id))
    if isinstance(member_ids, GroupDecisionRead):
        return member_ids
    outcomes = Outcomes()
    for batch in _batches(member_ids):
        run(partial(_decide_batch, members=batch, approve=approve, reason=reason,
                    endpoint=endpoint, outcomes=outcomes))  # fmt: skip
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    decided: GroupDecisionRead = run(
        lambda s, c, p: keyed.store(s, c, p, _decided(s, c, p, group_id, status, outcomes))
    )
    return decided


@dataclass
class Keyed:
    """A group use case's Idempotency-Key (service/cases/idempotency.py): claimed in its first
    transaction, its answer stored in its last. Between the two the claim is committed and a
    retry is told the first still runs (its group named, to read meanwhile); a crash in
    between leaves the key claimed until `idempotency_ttl_hours`, and the group's cases as
    far as they went (read them with GET /group-approvals/{id})."""

    key: str | None
    scope: str
    body: Any
    group_id: str

    def claim(
        self, session: Session, context: AppContext, principal: Principal
    ) -> GroupDecisionRead | None:
        if self.key is None:
            return None
        try:
            stored = idempotency.claim(session, context, principal, self.key, self.scope, self.body)
        except RequestInProgress as exc:
            raise RequestInProgress(
                f"{exc.detail}; the group decision so far: GET /api/v1/group-approvals/"
                f"{idempotency.pending_note(session, principal, self.key) or '…'}",
                headers=exc.headers,
            ) from exc
        if stored is None:  # ours: a retry meanwhile is told which group to read
            idempotency.note_pending(session, principal, self.key, self.group_id)
            return None
        answer = GroupDecisionRead.model_validate(stored.body)
        _readable(session, principal, answer.id)  # a replay only as the caller may read it now
        if not principal.works_cases:
            raise Forbidden("group decisions are for case workers and supervisors")
        return answer

    def store(self, session: Session, context: AppContext, principal: Principal, answer: T) -> T:
        if self.key is not None:
            assert isinstance(answer, GroupDecisionRead)
            body = answer.model_dump(mode="json")
            idempotency.store(session, context, principal, self.key, Answer(200, body))
        return answer


def read_group(
    session: Session, context: AppContext, principal: Principal, group_id: str
) -> GroupDecisionRead:
    """The group and its waiting, approved and rejected cases (those the caller may see)."""
    group = _readable(session, principal, group_id)
    members = repo.visible_members(session, group.id, visibility(principal, context.registry))
    results = [
        GroupCaseResult(
            case_id=str(a.case_id), outcome=_outcome(a.status), version=v, state=s, reference=r
        )
        for a, v, s, r in members
    ]
    return _present(session, group, Outcomes(group, results))


def waiting_groups(
    session: Session, context: AppContext, principal: Principal, limit: int
) -> list[GroupDecisionRead]:
    """The groups waiting for a decision: the caller's ministry's (auditors: every ministry's);
    counts only, per status of their cases."""
    if not (principal.works_cases or principal.role == Role.AUDITOR):
        raise Forbidden("group decisions are for case workers, supervisors and auditors")
    ministry = None if principal.role == Role.AUDITOR else principal.ministry
    return [
        read_group(session, context, principal, str(group.id))
        for group in repo.of_ministry(session, ministry, "pending", limit)
    ]


def _open_group(
    session: Session,
    context: AppContext,
    principal: Principal,
    group_id: uuid.UUID,
    request: GroupTransitionRequest,
) -> list[str]:
    if not principal.works_cases or principal.ministry is None or principal.user_id is None:
        raise Forbidden("only case workers and supervisors of a ministry fire transitions")
    arrival_id = None
    if request.arrival_id is not None:
        arrival = arrivals.existing(session, principal, request.arrival_id)
        arrival_id = arrival.id
        case_ids = arrivals.visible_case_ids(
            session, context, principal, request.arrival_id, MAX_CASES + 1
        )
    else:
        case_ids = list(dict.fromkeys(request.case_ids or []))
    if len(case_ids) > MAX_CASES:
        raise Conflict(f"case_ids: at most {MAX_CASES} cases in one group decision")
    session.add(
        GroupDecision(
            id=group_id,
            trigger=request.trigger,
            arrival_id=arrival_id,
            ministry=principal.ministry,
            requested_by_id=principal.user_id,
            requested_at=context.clock(),
        )
    )
    return case_ids


def _fire_batch(
    session: Session,
    context: AppContext,
    principal: Principal,
    group_id: uuid.UUID,
    command: Command,
    request: GroupTransitionRequest,
    case_ids: list[str],
    outcomes: Outcomes,
) -> None:
    # One query for the batch's cases, as a single request's `readable` would load each (a
    # case the caller may not see is missing, so refused as not found); each case is then
    # checked and moved on its own, its flush its own compare-and-set.
    loaded, kept = readable_many(session, context, principal, case_ids)
    for case_id in case_ids:
        try:
            with session.begin_nested():
                result = _fire_one(
                    session, context, principal, group_id, command, request, case_id,
                    loaded.get(case_id),
                )  # fmt: skip
        except DomainError as exc:
            result = _refused(case_id, exc)
        outcomes.results.append(result)
    del kept


def _fire_one(
    session: Session,
    context: AppContext,
    principal: Principal,
    group_id: uuid.UUID,
    command: Command,
    request: GroupTransitionRequest,
    case_id: str,
    loaded: LoadedCase | None,
) -> GroupCaseResult:
    if loaded is None:
        raise NotFound("case not found")  # invisible or absent alike, as `readable`
    expected = request.expected_versions.get(case_id)
    if expected is not None and loaded.case.version != expected:
        raise VersionConflict(
            f"expected_version is {expected} but the case is at version {loaded.case.version}"
        )
    row, dest = check(context, principal, loaded, command)
    case = loaded.case
    if row.sensitive:
        four_eyes.record_request(session, context, principal, loaded, row, command, group_id)
        return GroupCaseResult(
            case_id=case_id, outcome="pending_approval", version=case.version, state=case.state
        )
    apply(session, context, principal, loaded, row, dest, command, {"_group": str(group_id)})
    return GroupCaseResult(case_id=case_id, outcome="moved", version=case.version, state=case.state)


def _finish(
    session: Session, principal: Principal, group_id: uuid.UUID, outcomes: Outcomes
) -> GroupDecisionRead:
    repo.close_if_nothing_waits(session, group_id)
    session.flush()
    group = repo.get(session, group_id)
    assert group is not None
    session.refresh(group)
    return _present(session, group, outcomes)


def _members_to_decide(
    session: Session, principal: Principal, group_id: str
) -> list[tuple[str, str]]:
    """A group that `principal` may decide: a supervisor of its ministry who did not ask."""
    group = _readable(session, principal, group_id)
    if principal.role != Role.SUPERVISOR or principal.ministry != group.ministry:
        raise Forbidden(f"a supervisor of {group.ministry} decides this group")
    if principal.user_id == group.requested_by_id:
        raise Forbidden("four eyes: the person who asked cannot decide their own group")
    if group.status != "pending":
        raise Conflict(f"the group is already {group.status}")
    return repo.member_ids(session, group.id, ApprovalStatus.PENDING)  # (approval, case)


def _decide_batch(
    session: Session,
    context: AppContext,
    principal: Principal,
    members: list[tuple[str, str]],
    approve: bool,
    reason: str,
    endpoint: str,
    outcomes: Outcomes,
) -> None:
    batch = approvals.DecisionBatch.load(session, context, principal, [a for a, _ in members])
    for approval_id, case_id in members:
        try:
            with session.begin_nested():
                if approve:
                    case = approvals.approve_only(
                        session, context, principal, approval_id, reason, batch
                    ).case
                    result = GroupCaseResult(
                        case_id=str(case.id), outcome="approved", version=case.version,
                        state=case.state,
                    )  # fmt: skip
                else:
                    decided = approvals.reject(
                        session, context, principal, approval_id, reason, batch
                    )
                    result = GroupCaseResult(case_id=decided.case_id, outcome="rejected")
        except DomainError as exc:  # the case id was in the group its own ministry made
            result = _refused(case_id, exc)
        outcomes.results.append(result)


def _decided(
    session: Session,
    context: AppContext,
    principal: Principal,
    group_id: str,
    status: str,
    outcomes: Outcomes,
) -> GroupDecisionRead:
    group = _readable(session, principal, group_id)
    if group.status != "pending":
        raise Conflict(f"the group is already {group.status}")
    group.status, group.decided_by_id, group.decided_at = status, principal.user_id, context.clock()
    session.flush()
    return _present(session, group, outcomes)


def _readable(session: Session, principal: Principal, group_id: str) -> GroupDecision:
    """The group, for its ministry's case workers and supervisors and for auditors; 404 else."""
    try:
        group = repo.get(session, uuid.UUID(group_id))
    except ValueError:
        group = None
    ours = principal.works_cases and group is not None and group.ministry == principal.ministry
    if group is None or not (ours or principal.role == Role.AUDITOR):
        raise NotFound("group decision not found")
    return group


def _refused(case_id: str, exc: DomainError) -> GroupCaseResult:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return GroupCaseResult(case_id=case_id, outcome="refused", code=exc.code, detail=detail)


def _outcome(status: str) -> GroupOutcome:
    return {
        ApprovalStatus.PENDING: "pending_approval",
        ApprovalStatus.APPROVED: "approved",
        ApprovalStatus.REJECTED: "rejected",
    }.get(ApprovalStatus(status), "refused")  # type: ignore[return-value]


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH_CASES):
        yield items[start : start + BATCH_CASES]


def _present(session: Session, group: GroupDecision, outcomes: Outcomes) -> GroupDecisionRead:
    return GroupDecisionRead(
        id=str(group.id), trigger=group.trigger, status=group.status, ministry=group.ministry,
        requested_by=repo.username(session, group.requested_by_id) or "?",
        requested_at=group.requested_at, decided_by=repo.username(session, group.decided_by_id),
        decided_at=group.decided_at, moved=outcomes.count("moved"),
        pending=outcomes.count("pending_approval"), approved=outcomes.count("approved"),
        rejected=outcomes.count("rejected"), refused=outcomes.count("refused"),
        results=outcomes.results,
    )  # fmt: skip
