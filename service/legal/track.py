"""Use cases of a victim's legal track: witness, court decision and restitution, LPSK and
its decision deadline. Each fact is an event on the case's own stream, in the same
transaction; nothing here moves the case in its workflow (the legal track never blocks
services). The one fact the workflow reads is the witness hold (guards.no_witness_hold).
"""

from __future__ import annotations

from sqlmodel import Session

from schemas.auth import Role
from schemas.common import WIB
from schemas.legal import (
    CourtDecisionRead,
    LegalCaseRef,
    LegalRecordRequest,
    LegalTrackRead,
    LpskLateItem,
    LpskLatePage,
    LpskRead,
    RestitutionRead,
)
from service.audit.log import append_case_event
from service.cases import service as cases
from service.cases.visibility import visibility as case_visibility
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Conflict, Forbidden, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.legal import repository as repo
from service.legal.records import apply_record, recorders
from service.models import CaseFile, LegalTrack, Victim
from workflows.legal import LPSK, LPSK_DECISION_BASIS, is_witness_held

PAGE_MAX = 100


def read_legal_track(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> LegalTrackRead:
    case, _ = _track_case(session, context, principal, case_id)
    return _track(session, context, principal, case)


def record_legal(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    body: LegalRecordRequest,
) -> LegalTrackRead:
    """One fact of the victim's legal track, as an event on the case's stream."""
    case, erased = _track_case(session, context, principal, case_id)
    record = body.record
    allowed = recorders(record.kind)
    if not (principal.works_cases and principal.ministry in allowed):
        raise Forbidden(f"record: {record.kind!r} is recorded by {', '.join(sorted(allowed))}")
    if erased:
        raise Conflict("case_id: the case was erased")
    track = repo.legal_track(session, case.id)
    now = context.clock()
    if track is None:
        track = LegalTrack(case_id=case.id, updated_at=now)
        session.add(track)
    payload = apply_record(track, record, repo.stages_of_linked(session, case.id))
    track.updated_at = now
    append_case_event(session, case, actor=principal, at=now, kind="legal_record", payload=payload)
    flush_or_conflict(session)
    return _track(session, context, principal, case)


def lpsk_late(
    session: Session, context: AppContext, principal: Principal, cursor: str | None, limit: int
) -> LpskLatePage:
    """LPSK decisions on protection that came, or are still due, after their deadline."""
    is_lpsk_supervisor = (
        principal.works_cases and principal.role == Role.SUPERVISOR and (principal.ministry == LPSK)
    )
    if not (principal.role == Role.AUDITOR or is_lpsk_supervisor):
        raise Forbidden("the late LPSK decisions are for LPSK supervisors and auditors")
    today = context.clock().astimezone(WIB).date()
    scope = scope_of(list="lpsk_late", who=str(principal.user_id))
    paging = Paging.of(context.settings.keys.secret_key, scope, cursor, limit, PAGE_MAX)
    after = (str(paging.after[0]), str(paging.after[1])) if paging.after else None
    visible = case_visibility(principal, context.registry)
    rows = repo.lpsk_late_page(session, visible, today, after, paging.fetch)
    page, next_cursor = paging.page(
        rows,
        lambda row: [
            row[0].lpsk_due_on.isoformat() if row[0].lpsk_due_on else "",
            str(row[0].case_id),
        ],
    )
    items = []
    for track, reference in page:
        assert track.lpsk_applied_on is not None and track.lpsk_due_on is not None
        until = track.lpsk_decided_on or today
        items.append(
            LpskLateItem(
                case_id=str(track.case_id),
                reference=reference,
                applied_on=track.lpsk_applied_on,
                due_on=track.lpsk_due_on,
                decided_on=track.lpsk_decided_on,
                days_late=(until - track.lpsk_due_on).days,
            )
        )
    return LpskLatePage(items=items, next_cursor=next_cursor)


def _track_case(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> tuple[CaseFile, bool]:
    """The case, if the caller may see it, or (POLRI, KEJAKSAAN) may see a criminal case it is
    linked to; 404 otherwise, whether or not it exists. Also: whether it was erased."""
    try:
        loaded = cases.readable(session, context, principal, case_id)
    except NotFound:
        parsed = repo.parse_id(case_id)
        case = repo.case_via_criminal_case(session, principal, parsed) if parsed else None
        if case is None:
            raise
        victim = session.get(Victim, case.id)
        return case, victim is None or victim.erased_at is not None
    return loaded.case, loaded.victim.erased_at is not None


def _track(
    session: Session, context: AppContext, principal: Principal, case: CaseFile
) -> LegalTrackRead:
    track = repo.legal_track(session, case.id) or LegalTrack(case_id=case.id)
    today = context.clock().astimezone(WIB).date()
    due = track.lpsk_due_on
    late = due is not None and (track.lpsk_decided_on or today) > due
    return LegalTrackRead(
        case_id=str(case.id),
        reference=case.reference,
        criminal_cases=[
            LegalCaseRef(
                id=str(c.id),
                reference=c.reference,
                police_report_number=c.police_report_number,
                stage=c.stage,
            )
            for c in repo.criminal_cases_of(session, principal, case.id)
        ],
        witness_status=track.witness_status,
        agreed_to_testify=track.agreed_to_testify,
        witness_hold=is_witness_held(track.witness_status, bool(track.agreed_to_testify)),
        court_decision=CourtDecisionRead(
            court_name=track.court_name,
            decision_number=track.court_decision_number,
            decided_on=track.court_decided_on,
        ),
        restitution=RestitutionRead(
            amount_idr=track.restitution_amount_idr,
            status=track.restitution_status,
            paid_idr=track.restitution_paid_idr,
        ),
        lpsk=LpskRead(
            applied_on=track.lpsk_applied_on,
            due_on=due,
            decision=track.lpsk_decision,
            decided_on=track.lpsk_decided_on,
            late=late,
            legal_basis=LPSK_DECISION_BASIS,
        ),
        recorded_in_workflow=dict(case.legal),
    )
