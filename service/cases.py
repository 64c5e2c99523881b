"""Case use cases: intake, read, transition, history. Each is one unit of work; none commits."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

import workflows
from schemas.case import CaseCreate, CaseRead, HistoryRead, TransitionRequest
from schemas.common import WIB
from service import assignments, sla
from service.chain import GENESIS
from service.context import AppContext
from service.errors import (
    Forbidden,
    GuardRefused,
    Invalid,
    InvalidTransition,
    NotFound,
    PayloadInvalid,
    VersionConflict,
)
from service.events import append_case_event
from service.idempotency import Answer, idempotent
from service.models import CaseFile, CaseMinistry, Consent, Victim
from service.presenters import REFERRAL_COLUMNS, present_case, present_event
from service.principal import Principal
from service.registry import DEFAULT_WORKFLOW
from service.repositories import cases as repo
from workflows import Definition, StateSpec, TransitionSpec

ADULT_AGE = 18
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on a phone
IDENTITY_FIELDS = (
    "full_name", "other_names", "birth_date", "identity_document", "district_of_origin", "contact",
)  # fmt: skip


def register_case(
    session: Session,
    context: AppContext,
    principal: Principal,
    data: CaseCreate,
    idempotency_key: str | None = None,
) -> Answer:
    """Intake: the case starts in the workflow's initial state, pinned to its latest version."""
    if not principal.works_cases or principal.ministry is None:
        raise Forbidden("only case workers and supervisors of a ministry register referrals")
    engine = context.registry.latest(data.workflow or DEFAULT_WORKFLOW)
    if engine is None:
        raise Invalid(f"workflow: no published workflow is called {data.workflow!r}")
    body = data.model_dump(mode="json")
    return idempotent(
        session, principal, idempotency_key, "POST /cases", body,
        lambda: _register(session, context, principal, data, engine.definition),
    )  # fmt: skip


def _register(
    session: Session,
    context: AppContext,
    principal: Principal,
    data: CaseCreate,
    definition: Definition,
) -> Answer:
    assert principal.ministry is not None and principal.user_id is not None
    now = context.clock()
    initial = definition.state(definition.initial)
    today = now.astimezone(WIB).date()
    age = _age(data.victim.birth_date, data.victim.age_estimate, today)
    referral = data.referral.model_dump(mode="json")
    case = CaseFile(
        reference=_new_reference(),
        workflow_name=definition.name,
        workflow_version=definition.version,
        state=initial.name,
        phase=initial.phase,
        ministry=initial.ministry,
        head_hash=GENESIS,
        state_entered_at=now,
        due_at=_due(context, initial, now),
        is_child=(age is not None and age < ADULT_AGE) or data.victim.presumed_child,
        sex=data.victim.sex,
        age_at_intake=age,
        nationality=data.victim.nationality,
        province_of_origin=data.victim.province_of_origin,
        referring_ministry=principal.ministry,
        referral_channel=data.referral.channel,
        referral_date=data.referral.referral_date or today,
        country_of_exploitation=data.referral.country_of_exploitation,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    sla.start_clock(context, case)
    victim_data = data.victim.model_dump(mode="json")
    victim = Victim(
        case_id=case.id,
        identity_ciphertext=context.cipher.seal(
            {k: victim_data[k] for k in IDENTITY_FIELDS}, case.id.bytes
        ),
        profile={k: victim_data[k] for k in ("languages", "has_disability", "presumed_child")},
        trafficking={k: v for k, v in referral.items() if k not in REFERRAL_COLUMNS},
    )
    session.add(case)
    session.flush()  # the case row exists before anything that refers to it
    session.add(victim)
    handled = {principal.ministry, initial.ministry}
    session.add_all(CaseMinistry(case_id=case.id, ministry=m, since=now) for m in sorted(handled))
    append_case_event(
        session, case, actor=principal, at=now, kind="created", to_state=initial.name,
        payload={
            "reference": case.reference,
            "workflow": definition.name,
            "workflow_version": definition.version,
            "referral_channel": case.referral_channel,
            "is_child": case.is_child,
        },
    )  # fmt: skip
    session.flush()
    read = present_case(
        case, victim, principal=principal, definition=definition, handled=handled,
        consent_recipients=set(), cipher=context.cipher,
    )  # fmt: skip
    return Answer(status_code=201, body=read.model_dump(mode="json"))


def read_case(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> CaseRead:
    case = _readable(session, context, principal, case_id)
    return _present(session, context, principal, case)


def read_history(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> HistoryRead:
    case = _readable(session, context, principal, case_id)
    return HistoryRead(items=[present_event(e) for e in repo.history(session, case.id)])


def fire_transition(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request: TransitionRequest,
    idempotency_key: str | None = None,
) -> Answer:
    body = request.model_dump(mode="json")
    return idempotent(
        session, principal, idempotency_key, f"POST /cases/{case_id}/transitions", body,
        lambda: _transition(session, context, principal, case_id, request),
    )  # fmt: skip


def _transition(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request: TransitionRequest,
) -> Answer:
    case = _readable(session, context, principal, case_id)
    if case.version != request.expected_version:
        raise VersionConflict(
            f"expected_version is {request.expected_version} but the case is at version "
            f"{case.version}; read it again"
        )
    engine = context.registry.engine(case.workflow_name, case.workflow_version)
    try:
        row = engine.resolve(case.state, request.trigger)
    except workflows.InvalidTransition as exc:
        raise InvalidTransition(f"trigger: {exc}") from exc
    if not (principal.works_cases and principal.ministry in row.ministries):
        raise Forbidden(
            f"{principal.ministry or principal.role} may not fire {row.trigger!r} from "
            f"{row.source!r}; that belongs to {', '.join(row.ministries)}"
        )
    handled = repo.handled_by(session, case.id)
    dest = _fire(session, engine, case, row, principal, request, handled)
    now = context.clock()
    _apply(session, context, case, row, dest, request.payload, now, handled)
    event_payload = dict(request.payload)
    if request.consent_override_reason and principal.role == "supervisor":
        event_payload["consent_override_reason"] = request.consent_override_reason
    append_case_event(
        session, case, actor=principal, at=now, kind="transition", trigger=row.trigger,
        from_state=row.source, to_state=row.dest, payload=event_payload, note=request.note,
    )  # fmt: skip
    assignments.end_on_handover(session, context, principal, case, row, now)
    try:
        session.flush()  # the compare-and-set: fails if another writer moved the case first
    except (StaleDataError, IntegrityError) as exc:
        raise VersionConflict(
            "the case changed while this transition was applied; read it again"
        ) from exc
    _apply_consent(session, case, row, request.payload, now)
    return Answer(
        status_code=200,
        body=_present(session, context, principal, case, handled).model_dump(mode="json"),
    )


def _fire(
    session: Session,
    engine: workflows.Engine,
    case: CaseFile,
    row: TransitionSpec,
    principal: Principal,
    request: TransitionRequest,
    handled: set[str],
) -> StateSpec:
    facts = workflows.CaseFacts(
        is_child=case.is_child,
        nationality=case.nationality,
        referring_ministry=case.referring_ministry,
        ministries_involved=frozenset(handled),
        consent_recipients=frozenset(repo.active_consent_recipients(session, case.id)),
        objects_to_country_notification=case.objects_to_country_notification,
    )
    try:
        return engine.fire(
            row,
            facts=facts,
            actor=workflows.Actor(ministry=principal.ministry, role=principal.role),
            payload=request.payload,
            override_reason=request.consent_override_reason,
        )
    except workflows.PayloadInvalid as exc:
        raise PayloadInvalid(exc.errors) from exc
    except workflows.GuardRefused as exc:
        raise GuardRefused(exc.reason) from exc


def _apply(
    session: Session,
    context: AppContext,
    case: CaseFile,
    row: TransitionSpec,
    dest: StateSpec,
    payload: dict[str, Any],
    now: datetime,
    handled: set[str],
) -> None:
    """Move the case row; a legal-track row also keeps its payload as the latest legal fact."""
    if row.track == "legal":
        case.legal = {**case.legal, row.trigger: payload}
    if row.dest != row.source:
        case.state, case.phase, case.ministry = dest.name, dest.phase, dest.ministry
        case.state_entered_at = now
        case.due_at = _due(context, dest, now)
        sla.start_clock(context, case)
        if dest.ministry not in handled:
            session.add(CaseMinistry(case_id=case.id, ministry=dest.ministry, since=now))
            handled.add(dest.ministry)
        if dest.terminal:
            case.closure_reason, case.closed_at = payload["reason"], now
    case.version += 1
    case.updated_at = now


def _apply_consent(
    session: Session, case: CaseFile, row: TransitionSpec, payload: dict[str, Any], now: datetime
) -> None:
    """Consent given or withdrawn is part of the transition: nothing is ever deleted."""
    if row.consent == "record":
        _record_consent(session, case, payload["consent"])
    elif row.consent == "withdraw":
        session.execute(
            update(Consent)
            .where(col(Consent.case_id) == case.id, col(Consent.withdrawn_at).is_(None))
            .values(withdrawn_at=now)
        )


def _record_consent(session: Session, case: CaseFile, consent: dict[str, Any]) -> None:
    given_on = date.fromisoformat(consent["given_on"])
    session.add_all(
        Consent(
            case_id=case.id,
            purpose=purpose,
            recipient=recipient,
            given_by=consent["by"],
            given_on=given_on,
        )
        for purpose in consent["purposes"]
        for recipient in consent["recipients"]
    )
    case.objects_to_country_notification = bool(consent.get("objects_to_country_notification"))


def _readable(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> CaseFile:
    case = repo.get_readable(session, principal, context.registry, case_id)
    if case is None:
        raise NotFound("case not found")
    return case


def _present(
    session: Session,
    context: AppContext,
    principal: Principal,
    case: CaseFile,
    handled: set[str] | None = None,
) -> CaseRead:
    return present_case(
        case,
        repo.victim_of(session, case.id),
        principal=principal,
        definition=context.registry.engine(case.workflow_name, case.workflow_version).definition,
        handled=handled if handled is not None else repo.handled_by(session, case.id),
        consent_recipients=repo.active_consent_recipients(session, case.id),
        cipher=context.cipher,
    )


def _due(context: AppContext, state: StateSpec, now: datetime) -> datetime | None:
    return context.calendar.due_at(now, state.deadline) if state.deadline else None


def _age(birth_date: date | None, estimate: int | None, today: date) -> int | None:
    if birth_date is None:
        return estimate
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def _new_reference() -> str:
    return "NRM-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
