"""The legal track: criminal cases (perkara) with their victims and suspects, counts by period
and region, and each victim's own legal track. No victim identity anywhere here; a suspect's
identity only in `SuspectRead.identity`, for those who may see it (each look is logged)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from schemas.common import CountryCode, PastDate, StrictModel, examples
from schemas.unit import REGION_CODE, UNIT_CODE

Stage = Literal["investigation", "prosecution", "trial", "verdict", "closed", "terminated"]
WitnessStatus = Literal["not_needed", "summoned", "testified", "released"]
SuspectRole = Literal[
    "recruiter", "transporter", "harbourer", "employer", "financier", "broker", "other"
]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]


class CriminalCaseCreate(StrictModel):
    model_config = examples(
        {
            "police_report_number": "LP/B/123/III/2025/SPKT/POLDA NTT",
            "reported_on": "2025-03-20",
            "region_code": "53.71",
        }
    )

    police_report_number: str = Field(
        min_length=3, max_length=100, description="the police report (laporan polisi) number"
    )
    reported_on: PastDate = Field(description="the date of the police report")
    police_unit: str | None = Field(
        default=None,
        pattern=UNIT_CODE,
        description="the POLRI unit investigating; default: the caller's unit",
    )
    region_code: str | None = Field(
        default=None,
        pattern=REGION_CODE,
        description="where the offence was reported (Kemendagri code); default: the unit's",
    )
    spdp_on: PastDate | None = Field(
        default=None, description="the prosecutor was notified of the investigation (SPDP)"
    )


class StageChange(StrictModel):
    model_config = examples({"stage": "prosecution", "on": "2025-05-02", "expected_version": 1})

    stage: Stage
    on: PastDate = Field(description="the date the criminal case reached the stage")
    expected_version: int = Field(ge=1, description="the criminal case's `version` as read")
    spdp_on: PastDate | None = Field(default=None, description="the date of the SPDP, if now known")


class SuspectIdentity(StrictModel):
    full_name: str = Field(min_length=1, max_length=200)
    other_names: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=10
    )
    identity_document: str | None = Field(default=None, max_length=64)
    birth_date: PastDate | None = None
    address: str | None = Field(default=None, max_length=300)


class SuspectCreate(StrictModel):
    model_config = examples(
        {
            "identity": {"full_name": "Budi Santoso", "other_names": ["Pak Bos"]},
            "sex": "male",
            "nationality": "ID",
            "role": "recruiter",
        }
    )

    identity: SuspectIdentity
    sex: Literal["female", "male", "unknown"]
    nationality: CountryCode
    role: SuspectRole


class VictimLink(StrictModel):
    model_config = examples({"case_id": "5f0c5a6e-8d3b-4f47-9d55-0e5c1f1b2a3c"})

    case_id: str = Field(min_length=1, max_length=64, description="the NRM case of the victim")


class SuspectRead(BaseModel):
    id: str
    sex: str
    nationality: str
    role: str
    identity_visible: bool
    identity: SuspectIdentity | None = Field(
        description="only for those who may see it (POLRI, KEJAKSAAN); each look is logged"
    )


class SuspectPage(BaseModel):
    items: list[SuspectRead]
    next_cursor: str | None


class LinkedVictim(BaseModel):
    case_id: str
    reference: str = Field(description="the case's pseudonymous reference; never an identity")
    witness_status: WitnessStatus


class CriminalCaseSummary(BaseModel):
    id: str
    reference: str
    police_report_number: str
    police_unit: str
    region_code: str
    stage: Stage
    reported_on: date
    stage_on: date
    version: int


class CriminalCaseRead(CriminalCaseSummary):
    spdp_on: date | None
    victims: list[LinkedVictim]
    suspect_count: int


class CriminalCasePage(BaseModel):
    items: list[CriminalCaseSummary]
    next_cursor: str | None


class CountRow(BaseModel):
    region_code: str | None = Field(description="null in the total")
    region_name: str | None
    criminal_cases: int
    victims: int = Field(description="distinct NRM cases linked to these criminal cases")
    suspects: int


class CountsRead(BaseModel):
    reported_from: date
    reported_to: date
    by: Literal["province", "regency"]
    rows: list[CountRow]
    total: CountRow


class LegalCaseRef(BaseModel):
    id: str
    reference: str
    police_report_number: str
    stage: Stage


class CourtDecisionRead(BaseModel):
    court_name: str | None
    decision_number: str | None
    decided_on: date | None


class RestitutionRead(BaseModel):
    ordered_by: Literal["court"] = Field(
        default="court",
        description="restitution is set by the court's judgment, never by "
        "police or LPSK (UU 21/2007 Art. 48-50; PERMA 1/2022)",
    )
    amount_idr: int | None
    status: str | None
    paid_idr: int | None


class LpskRead(BaseModel):
    applied_on: date | None
    due_on: date | None = Field(description="the last day for LPSK's written decision")
    decision: str | None
    decided_on: date | None
    late: bool = Field(description="decided after `due_on`, or undecided past it")
    legal_basis: str


class LegalTrackRead(BaseModel):
    case_id: str
    reference: str
    criminal_cases: list[LegalCaseRef] = Field(
        description="the criminal cases this victim is linked to that the caller may see"
    )
    witness_status: WitnessStatus
    agreed_to_testify: bool | None = Field(description="null: not asked yet")
    witness_hold: bool = Field(description="repatriation waits for the testimony")
    court_decision: CourtDecisionRead
    restitution: RestitutionRead
    lpsk: LpskRead
    recorded_in_workflow: dict[str, object] = Field(
        description="the workflow's own legal-track facts (v1: record_police_report, "
        "record_lpsk_decision, record_restitution), latest of each"
    )


class WitnessRecord(StrictModel):
    kind: Literal["witness"]
    witness_status: WitnessStatus
    agreed_to_testify: bool | None = Field(
        default=None, description="the victim's own choice to testify, when it is asked"
    )


class CourtDecisionRecord(StrictModel):
    kind: Literal["court_decision"]
    court_name: str = Field(min_length=3, max_length=120)
    decision_number: Text100
    decided_on: PastDate
    restitution_amount_idr: int | None = Field(
        default=None, ge=0, le=10**15, description="restitution the court ordered for this victim"
    )


class RestitutionPaymentRecord(StrictModel):
    kind: Literal["restitution_payment"]
    status: Literal["partially_paid", "paid", "not_paid"]
    paid_idr: int = Field(ge=0, le=10**15)


class LpskApplicationRecord(StrictModel):
    kind: Literal["lpsk_application"]
    applied_on: PastDate


class LpskDecisionRecord(StrictModel):
    kind: Literal["lpsk_decision"]
    decision: Literal["protection_granted", "protection_refused"]
    decided_on: PastDate
    decision_number: str | None = Field(default=None, max_length=100)


LegalRecord = Annotated[
    WitnessRecord
    | CourtDecisionRecord
    | RestitutionPaymentRecord
    | LpskApplicationRecord
    | LpskDecisionRecord,
    Field(discriminator="kind"),
]


class LegalRecordRequest(StrictModel):
    model_config = examples(
        {"record": {"kind": "witness", "witness_status": "summoned", "agreed_to_testify": True}}
    )

    record: LegalRecord


class LpskLateItem(BaseModel):
    case_id: str
    reference: str
    applied_on: date
    due_on: date
    decided_on: date | None
    days_late: int


class LpskLatePage(BaseModel):
    items: list[LpskLateItem]
    next_cursor: str | None


class CriminalCaseQuery(StrictModel):
    limit: int = Field(default=25, ge=1, description="page size; the server caps it")
    cursor: str | None = Field(default=None, max_length=512)
    stage: Stage | None = None


class CountsQuery(StrictModel):
    reported_from: date = Field(description="first day of the period (police report date)")
    reported_to: date = Field(description="last day of the period, included")
    by: Literal["province", "regency"] = Field(
        default="province",
        description="province: by province; regency: by the region code "
        "as recorded (a regency or city where known, else the province)",
    )
