"""Retention and erasure: what of a closed case is kept, how long, and its erasure.

Kept for ever (pseudonymous): the case row (reference, states, dates, ministries, sex, age at
intake, nationality, province of origin), the events and their hashes, consents, units. Erased
`retention_years` after closure unless a legal hold is set, or earlier on request (the right to
erasure), always by a command that is itself an event on the case's chain: the identity
ciphertext, the case's data key (so the sealed free text of every event can never be opened
again: cases/erasable.py), the victim's profile, the free text of the referral, of the legal
track's latest facts and of the case's approval requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.audit.log import append_case_event
from service.cases.duplicates import repository as duplicates_repo
from service.cases.erasable import ERASED, lineage, trigger_schema
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import CaseErased, CaseOpen, Invalid, LegalHold, NotFound
from service.kit.principal import SYSTEM, Principal
from service.models import Approval, CaseFile, Victim
from workflows import Definition
from workflows.payload import map_free_text

REFERRAL_FREE_TEXT = (
    "referring_organisation", "places_of_exploitation", "labour_industry", "recruitment_place",
)  # fmt: skip
RETENTION_BATCH = 100


@dataclass(frozen=True)
class Erasure:
    case_id: str
    reference: str
    erased_at: datetime
    event_seq: int | None


def erase_case(
    session: Session, context: AppContext, actor: Principal, case_id: str, reason: str
) -> Erasure:
    """Erase a closed case's personal data now (409 if open, already erased or on hold)."""
    case, victim = _closed_case(session, case_id)
    if victim.legal_hold is not None:
        raise LegalHold(f"the case is under a legal hold ({victim.legal_hold}); release it first")
    return _erase(session, context, actor, case, victim, reason)


def set_legal_hold(
    session: Session, context: AppContext, actor: Principal, case_id: str, reason: str | None
) -> None:
    """Set (with a reason) or release (None) a legal hold: retention then spares the case."""
    case, victim = _case(session, case_id)
    if victim.erased_at is not None:
        raise CaseErased("the case is already erased")
    if (victim.legal_hold is None) == (reason is None):
        state = "holds" if reason is not None else "does not hold"
        raise Invalid(f"case_id: the case already {state} a legal hold")
    victim.legal_hold = reason
    kind = "legal_hold_set" if reason is not None else "legal_hold_released"
    append_case_event(
        session, case, actor=actor, at=context.clock(), kind=kind,
        payload={"reason": reason} if reason is not None else {},
    )  # fmt: skip
    flush_or_conflict(session)


def erase_past_retention(context: AppContext) -> int:
    """Erase every closed case past retention and not on hold, a batch per transaction."""
    erased = 0
    while True:
        with context.database.transaction() as session:
            now = context.clock()
            cutoff = _years_before(now, context.settings.retention_years)
            due = session.exec(
                select(CaseFile, Victim)
                .join(Victim, col(Victim.case_id) == col(CaseFile.id))
                .where(
                    col(CaseFile.closed_at) <= cutoff,
                    col(Victim.erased_at).is_(None),
                    col(Victim.legal_hold).is_(None),
                )
                .order_by(col(CaseFile.closed_at), col(CaseFile.id))
                .limit(RETENTION_BATCH)
            ).all()
            reason = f"retention: {context.settings.retention_years} years after closure"
            for case, victim in due:
                _erase(session, context, SYSTEM, case, victim, reason)
        erased += len(due)
        if len(due) < RETENTION_BATCH:
            return erased


def _erase(
    session: Session,
    context: AppContext,
    actor: Principal,
    case: CaseFile,
    victim: Victim,
    reason: str,
) -> Erasure:
    now = context.clock()
    definitions = lineage(context.registry, case.workflow_name, case.workflow_version)
    victim.identity_ciphertext = None
    victim.data_key = None
    victim.profile = {}
    victim.trafficking = {k: v for k, v in victim.trafficking.items()
                          if k not in REFERRAL_FREE_TEXT}  # fmt: skip
    victim.erased_at = now
    victim.document_index = None  # the blind index and blocks derive from the identity
    duplicates_repo.drop_blocks(session, case.id)
    for forget in context.on_erase:  # e.g. a manifest row's keyed hash of the identity
        forget(session, case.id)
    case.legal = {
        trigger: map_free_text(trigger_schema(definitions, trigger), fact, lambda _text: ERASED)
        for trigger, fact in case.legal.items()
    }
    for approval in session.exec(select(Approval).where(col(Approval.case_id) == case.id)):
        _scrub(approval, definitions)
    event = append_case_event(
        session, case, actor=actor, at=now, kind="erased",
        payload={"reason": reason, "erased": ["identity", "case_key", "profile",
                                              "referral_free_text", "legal_free_text"]},
    )  # fmt: skip
    flush_or_conflict(session)
    return Erasure(str(case.id), case.reference, now, event.seq)


def _scrub(approval: Approval, definitions: list[Definition]) -> None:
    schema = trigger_schema(definitions, approval.trigger)
    approval.payload = map_free_text(schema, approval.payload, lambda _text: ERASED)
    for field in ("note", "consent_override_reason", "decision_reason"):
        if getattr(approval, field) is not None:
            setattr(approval, field, ERASED)


def _case(session: Session, case_id: str) -> tuple[CaseFile, Victim]:
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        parsed = None
    case = session.get(CaseFile, parsed) if parsed else None
    victim = session.get(Victim, parsed) if parsed else None
    if case is None or victim is None:
        raise NotFound("case not found")
    return case, victim


def _closed_case(session: Session, case_id: str) -> tuple[CaseFile, Victim]:
    case, victim = _case(session, case_id)
    if case.closed_at is None:
        raise CaseOpen("the case is open: close it (or wait for its closure) before erasing")
    if victim.erased_at is not None:
        raise CaseErased(f"the case was erased on {victim.erased_at.isoformat()}")
    return case, victim


def _years_before(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)
