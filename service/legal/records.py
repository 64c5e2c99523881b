"""The facts of a victim's legal track: who records each, what each needs first, and the
event payload each leaves (with its `legal_basis`). Pure rules over the track's row."""

from __future__ import annotations

from typing import Any

from schemas.legal import (
    CourtDecisionRecord,
    LpskApplicationRecord,
    LpskDecisionRecord,
    RestitutionPaymentRecord,
    WitnessRecord,
)
from service.kit.errors import Conflict, Invalid
from service.models import LegalTrack
from workflows.legal import LPSK, LPSK_DECISION_BASIS, POLICE, PROSECUTION, lpsk_decision_due

Record = (
    WitnessRecord
    | CourtDecisionRecord
    | RestitutionPaymentRecord
    | LpskApplicationRecord
    | LpskDecisionRecord
)
RECORDERS: dict[str, frozenset[str]] = {
    "witness": frozenset({POLICE, PROSECUTION}),
    # the court decides; the prosecution service, which executes the judgment, records it
    "court_decision": frozenset({PROSECUTION}),
    "restitution_payment": frozenset({PROSECUTION, LPSK}),
    "lpsk_application": frozenset({LPSK}),
    "lpsk_decision": frozenset({LPSK}),
}
LEGAL_BASIS = {
    "witness": "UU 21/2007 Art. 43 (perlindungan saksi dan korban menurut UU 13/2006); design "
    "choice - a victim is held for testimony only if they agreed to testify",
    "court_decision": "UU 21/2007 Art. 48(1) (restitusi, dalam putusan pengadilan); PERMA "
    "1/2022 - not checked against the text",
    "restitution_payment": "UU 21/2007 Art. 50 (pelaksanaan restitusi) - not checked against "
    "the text",
    "lpsk_application": "UU 13/2006 Art. 29 huruf a (permohonan tertulis kepada LPSK)",
    "lpsk_decision": LPSK_DECISION_BASIS,
}
COURT_STAGES = frozenset({"verdict", "closed"})


def recorders(kind: str) -> frozenset[str]:
    return RECORDERS[kind]


def apply_record(track: LegalTrack, record: Record, linked_stages: set[str]) -> dict[str, Any]:
    """Change `track` by `record`, or refuse (409 out of order, 422 inconsistent); the event's
    payload."""
    facts: dict[str, Any]
    if isinstance(record, WitnessRecord):
        if not linked_stages:
            raise Conflict("record: the case is linked to no criminal case")
        track.witness_status = record.witness_status
        if record.agreed_to_testify is not None:
            track.agreed_to_testify = record.agreed_to_testify
        facts = {
            "witness_status": track.witness_status,
            "agreed_to_testify": track.agreed_to_testify,
        }
    elif isinstance(record, CourtDecisionRecord):
        if not linked_stages & COURT_STAGES:
            raise Conflict("record: no criminal case of this victim has reached its verdict")
        track.court_name, track.court_decision_number = record.court_name, record.decision_number
        track.court_decided_on = record.decided_on
        track.restitution_amount_idr = record.restitution_amount_idr
        track.restitution_status = "ordered" if record.restitution_amount_idr else None
        track.restitution_paid_idr = None
        facts = {
            "court_name": record.court_name,
            "decision_number": record.decision_number,
            "decided_on": record.decided_on.isoformat(),
            "restitution_amount_idr": record.restitution_amount_idr,
            "restitution_ordered_by": "court",
        }
    elif isinstance(record, RestitutionPaymentRecord):
        facts = _payment(track, record)
    elif isinstance(record, LpskApplicationRecord):
        if track.lpsk_applied_on is not None and track.lpsk_decided_on is None:
            raise Conflict("record: an LPSK application is waiting for its decision already")
        track.lpsk_applied_on = record.applied_on
        track.lpsk_due_on = lpsk_decision_due(record.applied_on)
        track.lpsk_decision, track.lpsk_decided_on, track.lpsk_breach_at = None, None, None
        facts = {
            "applied_on": record.applied_on.isoformat(),
            "decision_due_on": track.lpsk_due_on.isoformat(),
        }
    else:
        facts = _lpsk_decision(track, record)
    return {"record": record.kind, **facts, "legal_basis": LEGAL_BASIS[record.kind]}


def _payment(track: LegalTrack, record: RestitutionPaymentRecord) -> dict[str, Any]:
    amount = track.restitution_amount_idr
    if amount is None or track.restitution_status is None:
        raise Conflict("record: no restitution was ordered by a court for this victim")
    if record.paid_idr > amount:
        raise Invalid(f"record.paid_idr: more than the {amount} IDR the court ordered")
    expected = {
        "paid": record.paid_idr == amount,
        "not_paid": record.paid_idr == 0,
        "partially_paid": 0 < record.paid_idr < amount,
    }
    if not expected[record.status]:
        raise Invalid(
            f"record.status: {record.status!r} does not match paid_idr {record.paid_idr} "
            f"of {amount} ordered"
        )
    track.restitution_status, track.restitution_paid_idr = record.status, record.paid_idr
    return {"status": record.status, "paid_idr": record.paid_idr, "amount_idr": amount}


def _lpsk_decision(track: LegalTrack, record: LpskDecisionRecord) -> dict[str, Any]:
    if track.lpsk_applied_on is None or track.lpsk_decided_on is not None:
        raise Conflict("record: no LPSK application waits for a decision")
    if record.decided_on < track.lpsk_applied_on:
        raise Invalid("record.decided_on: before the application")
    track.lpsk_decision, track.lpsk_decided_on = record.decision, record.decided_on
    assert track.lpsk_due_on is not None
    return {
        "decision": record.decision,
        "decided_on": record.decided_on.isoformat(),
        "decision_number": record.decision_number,
        "decision_due_on": track.lpsk_due_on.isoformat(),
        "late": record.decided_on > track.lpsk_due_on,
    }
