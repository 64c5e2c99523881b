"""The transition core: check a command against a case, then move the case and write its event.

Both firing a transition and approving a pending one go through here, so a transition means
the same whoever fires it and whenever. Nothing here commits: the flush is the compare-and-set
on the case row, and the unit of work commits once, at the end of the request.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

import workflows
from service.audit.log import append_case_event, append_case_event_now
from service.cases import erasable, four_eyes, routing
from service.cases.aggregate import LoadedCase
from service.cases.command import Command
from service.kit import metrics
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Forbidden, GuardRefused, InvalidTransition, PayloadInvalid
from service.kit.principal import Principal
from service.models import CaseFile, CaseMinistry, Consent
from service.sla import clock
from service.units import service as units
from workflows import StateSpec, TransitionSpec


def check(
    context: AppContext, principal: Principal, loaded: LoadedCase, command: Command
) -> tuple[TransitionSpec, StateSpec]:
    """409 if the trigger does not leave the state, 403 if not the caller's, 422 if refused."""
    case = loaded.case
    engine = context.registry.engine(case.workflow_name, case.workflow_version)
    try:
        row = engine.resolve(case.state, command.trigger)
    except workflows.InvalidTransition as exc:
        raise InvalidTransition(f"trigger: {exc}") from exc
    if not (principal.works_cases and principal.ministry in row.ministries):
        raise Forbidden(
            f"{principal.ministry or principal.role} may not fire {row.trigger!r} from "
            f"{row.source!r}; that belongs to {', '.join(row.ministries)}"
        )
    if principal.ministry == case.ministry and not principal.serves(loaded.units.responsible_path):
        raise Forbidden(
            f"the step belongs to unit {loaded.units.transfer_code or loaded.units.lead_code}; "
            "its case workers and supervisors, or those of a unit above it, act on it"
        )
    facts = workflows.CaseFacts(
        is_child=case.is_child,
        nationality=case.nationality,
        referring_ministry=case.referring_ministry,
        ministries_involved=frozenset(loaded.handled),
        consent_recipients=frozenset(loaded.consent_recipients),
        objects_to_country_notification=case.objects_to_country_notification,
        witness_status=loaded.witness.status,
        agreed_to_testify=loaded.witness.agreed_to_testify,
    )
    try:
        dest = engine.fire(
            row,
            facts=facts,
            actor=workflows.Actor(ministry=principal.ministry, role=principal.role),
            payload=command.payload,
            override_reason=command.consent_override_reason,
        )
    except workflows.PayloadInvalid as exc:
        raise PayloadInvalid(exc.errors) from exc
    except workflows.GuardRefused as exc:
        raise GuardRefused(exc.reason) from exc
    return row, dest


def apply(
    session: Session,
    context: AppContext,
    actor: Principal,
    loaded: LoadedCase,
    row: TransitionSpec,
    dest: StateSpec,
    command: Command,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move the case and write its one event; the flush is the compare-and-set on the row.

    `loaded` is kept true to the database (ministries, consents, assignee) for the answer.
    """
    case, now = loaded.case, context.clock()
    accepted: dict[str, str] | None = None
    led_by = case.unit_id
    if case.transfer_to_unit_id is not None and actor.serves(loaded.units.transfer_path):
        accepted = routing.take_over(session, context, loaded, now)  # acting is accepting
    _move(session, context, case, row, dest, command.payload, now, loaded.handled)
    metrics.count_on_commit(session, metrics.TRANSITIONS, row.trigger, "moved")
    handover: dict[str, str] | None = None
    # A record in place (the legal track) stays where it is; a closed case goes to nobody.
    if row.dest != row.source and not dest.terminal:
        current = units.by_id(session, case.unit_id)
        assert current is not None
        lead = routing.unit_for_step(session, case, current, dest, command.payload, command.to_unit)
        routing.hand_over(session, context, loaded, lead, now)
        if case.transfer_to_unit_id is not None:
            handover = {"from_unit": current.code, "to_unit": lead.code}
    payload = erasable.seal(
        context,
        case,
        loaded.victim,
        command.payload,
        schema=row.payload_schema,
        note=command.note,
    )
    if command.consent_override_reason:
        payload["_consent_override_reason"] = erasable.seal_text(
            context, case, loaded.victim, command.consent_override_reason
        )
    payload.update(extra or {})
    if basis := lawful_basis_of(row):
        payload["_lawful_basis"] = basis
    if accepted is not None:
        payload["_accepted_handover"] = accepted
    if handover is not None:
        payload["_handover"] = handover
    append_case_event_now(
        session, case, actor=actor, at=now, kind="transition", trigger=row.trigger,
        from_state=row.source, to_state=row.dest, payload=payload,
    )  # fmt: skip
    _end_assignment_on_handover(session, context, actor, loaded, row, now, led_by != case.unit_id)
    flush_or_conflict(session)
    _apply_consent(session, loaded, row, command.payload, now)
    if row.dest != row.source and loaded.approval_pending:
        four_eyes.supersede(session, case, now)
        loaded.approval_pending = False


def lawful_basis_of(row: TransitionSpec) -> str | None:
    """What the step's processing rests on, recorded on its event: the consent it records, or
    the basis the definition names for a step that does not wait for consent."""
    return "consent" if row.consent == "record" else row.lawful_basis


def _move(
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
    if row.care_plan_review:
        clock.review_care_plan(context, case, dest, now)
    if row.dest != row.source:
        case.state, case.phase, case.ministry = dest.name, dest.phase, dest.ministry
        clock.enter_step(context, case, dest, now)
        if dest.ministry not in handled:
            session.add(CaseMinistry(case_id=case.id, ministry=dest.ministry, since=now))
            handled.add(dest.ministry)
        if dest.terminal:
            case.closure_reason, case.closed_at = payload["reason"], now
    if row.dest != row.source and row.lawful_basis is not None:
        case.lawful_basis = row.lawful_basis
    if row.consent == "withdraw" and case.lawful_basis == "consent":
        case.lawful_basis = None  # nothing to share on until another basis is recorded
    if row.consent == "record":
        case.lawful_basis = "consent"
        case.objects_to_country_notification = bool(
            payload["consent"].get("objects_to_country_notification")
        )
    case.version += 1
    case.updated_at = now


def _apply_consent(
    session: Session,
    loaded: LoadedCase,
    row: TransitionSpec,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Consent given or withdrawn is part of the transition: nothing is ever deleted."""
    case = loaded.case
    if row.consent == "record":
        consent = payload["consent"]
        loaded.consent_recipients |= set(consent["recipients"])
        session.add_all(
            Consent(
                case_id=case.id,
                purpose=purpose,
                recipient=recipient,
                given_by=consent["by"],
                given_on=date.fromisoformat(consent["given_on"]),
            )
            for purpose in consent["purposes"]
            for recipient in consent["recipients"]
        )
    elif row.consent == "withdraw":
        loaded.consent_recipients = set()
        session.execute(
            update(Consent)
            .where(col(Consent.case_id) == case.id, col(Consent.withdrawn_at).is_(None))
            .values(withdrawn_at=now)
        )


def _end_assignment_on_handover(
    session: Session,
    context: AppContext,
    actor: Principal,
    loaded: LoadedCase,
    row: TransitionSpec,
    now: datetime,
    unit_changed: bool,
) -> None:
    """After the transition's event: a case that changes hands (another ministry, or another
    unit took it over) or closes is unassigned."""
    case = loaded.case
    if case.assigned_to_id is None:
        return
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    same_hands = definition.state(row.source).ministry == case.ministry and not unit_changed
    if same_hands and case.due_at is not None:
        return
    case.assigned_to_id, case.assigned_at = None, None
    append_case_event(
        session, case, actor=actor, at=now, kind="unassigned",
        payload={"previous": loaded.assignee, "to_ministry": case.ministry,
                 "reason": "closed" if case.due_at is None else "handed_over"},
    )  # fmt: skip
    loaded.assignee = None
