"""Rows to read schemas, showing each caller only what they may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.case import ActionRead, CaseRead, EventRead
from schemas.common import LabelRead
from schemas.queue import CaseSummary
from schemas.referral import ReferralRead
from schemas.victim import VictimRead, VictimSummary
from service.cases.aggregate import UnitsOfCase
from service.kit.encryption import IdentityCipher
from service.kit.principal import Principal
from service.models import CaseEvent, CaseFile, Victim
from workflows import Definition, label_of
from workflows.payload import map_free_text

# The referral fields that live as columns (to be queried); the rest stay in `victim.trafficking`.
REFERRAL_COLUMNS = {
    "channel": "referral_channel",
    "referral_date": "referral_date",
    "country_of_exploitation": "country_of_exploitation",
}
AGE_BANDS = ((0, 8), (9, 17), (18, 29), (30, 38), (39, 47))


def age_band(age: int | None) -> str:
    """CTDC-style bands, so that an exact age (and so a birth date) is never shown."""
    if age is None:
        return "unknown"
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return f"{AGE_BANDS[-1][1] + 1}+"


def pseudonymous(case: CaseFile) -> VictimSummary:
    return VictimSummary(
        pseudonym=case.reference,
        sex=case.sex,
        age_band=age_band(case.age_at_intake),
        is_child=case.is_child,
        nationality=case.nationality,
        province_of_origin=case.province_of_origin,
    )


def may_see_identity(principal: Principal, identity_units: set[int]) -> bool:
    """Need to know: case workers and supervisors of the units that referred or handled the
    case (a unit that handed it on, for a while after: cases/repository.py)."""
    return principal.works_cases and principal.unit_id in identity_units


def present_case(
    case: CaseFile,
    victim: Victim,
    *,
    principal: Principal,
    definition: Definition,
    units: UnitsOfCase,
    consent_recipients: set[str],
    assignee: str | None,
    cipher: IdentityCipher,
    reveal: bool = True,
) -> CaseRead:
    """With `reveal` false the identity stays closed even for those who may see it (a page
    shows it only on a deliberate look, each one logged)."""
    state = definition.state(case.state)
    return CaseRead(
        id=str(case.id),
        reference=case.reference,
        workflow=case.workflow_name,
        workflow_version=case.workflow_version,
        state=case.state,
        state_label=LabelRead(id=state.label.id, en=state.label.en),
        phase=case.phase,
        ministry=case.ministry,
        unit=units.lead_code,
        transfer_to=units.transfer_code,
        transfer_due_at=case.transfer_due_at,
        supporting=list(state.supporting),
        version=case.version,
        due_at=case.due_at,
        state_entered_at=case.state_entered_at,
        sla=label_of(case.sla_level),
        assigned_to=assignee,
        referring_ministry=case.referring_ministry,
        closure_reason=case.closure_reason,
        lawful_basis=case.lawful_basis,
        closed_at=case.closed_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
        legal=case.legal if principal.works_cases else _masked_legal(case.legal, definition),
        consent_recipients=sorted(consent_recipients),
        victim=_victim(
            case, victim, reveal and may_see_identity(principal, units.identity), cipher
        ),
        referral=_referral(case, victim),
        actions=_actions(case, principal, definition, units),
    )


def present_event(event: CaseEvent, payload: dict[str, Any], note: str | None) -> EventRead:
    """`payload` and `note` as the caller may see them (cases/erasable.py opens them)."""
    assert event.seq is not None
    return EventRead(
        seq=event.seq,
        kind=event.kind,
        trigger=event.trigger,
        from_state=event.from_state,
        to_state=event.to_state,
        actor=event.actor,
        actor_role=event.actor_role,
        ministry=event.ministry,
        at=event.at,
        payload=payload,
        note=note,
        hash=event.hash,
        prev_hash=event.prev_hash,
    )


def _masked_legal(legal: dict[str, Any], definition: Definition) -> dict[str, Any]:
    """The legal track's latest facts with their free text hidden, as the log seals it."""
    schemas = {row.trigger: row.payload_schema for row in definition.transitions}
    return {
        trigger: map_free_text(schemas.get(trigger), fact, lambda _text: "[sealed]")
        for trigger, fact in legal.items()
    }


def _victim(
    case: CaseFile, victim: Victim, identity_visible: bool, cipher: IdentityCipher
) -> VictimRead:
    identity: dict[str, Any] = {}
    identity_visible = identity_visible and victim.identity_ciphertext is not None
    if identity_visible and victim.identity_ciphertext is not None:
        identity = cipher.decrypt(victim.identity_ciphertext, case.id.bytes)
    return VictimRead(
        **pseudonymous(case).model_dump(),
        languages=victim.profile.get("languages", []),
        has_disability=victim.profile.get("has_disability"),
        identity_visible=identity_visible,
        **identity,
    )


def _referral(case: CaseFile, victim: Victim) -> ReferralRead:
    columns = {field: getattr(case, column) for field, column in REFERRAL_COLUMNS.items()}
    return ReferralRead.model_validate({**victim.trafficking, **columns})


def _actions(
    case: CaseFile, principal: Principal, definition: Definition, units: UnitsOfCase
) -> list[ActionRead]:
    """What the caller may fire now: their ministry's rows, and for the lead ministry only
    where the step is their unit's (or a unit's below theirs)."""
    if not principal.works_cases:
        return []
    if principal.ministry == case.ministry and not principal.serves(units.responsible_path):
        return []
    return [
        ActionRead(
            trigger=row.trigger,
            dest=row.dest,
            label=LabelRead(id=row.label.id, en=row.label.en),
            sensitive=row.sensitive,
        )
        for row in definition.exits(case.state)
        if principal.ministry in row.ministries
    ]


def present_summary(
    case: CaseFile, assignee: str | None, now: datetime, unit_codes: dict[int, str] | None = None
) -> CaseSummary:
    """A list view's case: pseudonymous whoever asks, so a list never carries an identity."""
    codes = unit_codes or {}
    return CaseSummary(
        unit=codes.get(case.unit_id),
        transfer_to=codes.get(case.transfer_to_unit_id) if case.transfer_to_unit_id else None,
        transfer_due_at=case.transfer_due_at,
        id=str(case.id),
        reference=case.reference,
        workflow=case.workflow_name,
        workflow_version=case.workflow_version,
        state=case.state,
        phase=case.phase,
        ministry=case.ministry,
        version=case.version,
        due_at=case.due_at,
        state_entered_at=case.state_entered_at,
        overdue=case.due_at is not None and case.due_at <= now,
        sla=label_of(case.sla_level),
        assigned_to=assignee,
        referral_date=case.referral_date,
        victim=pseudonymous(case),
    )
