"""Use cases of the legal track: criminal cases (perkara), their suspects and victims, counts,
and each victim's own legal track. Each is one unit of work; none commits.

Every change is an event: a criminal case's on the `criminal_cases` stream, a victim's legal
track on the case's own stream (same transaction), each with its `legal_basis`. Nothing here
moves a case in its workflow: the legal track never blocks services. What it feeds the workflow
is one fact, the witness hold (workflows/guards.py::no_witness_hold).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from schemas.auth import Role
from schemas.common import WIB
from schemas.legal import (
    CountRow,
    CountsRead,
    CriminalCaseCreate,
    CriminalCasePage,
    CriminalCaseRead,
    CriminalCaseSummary,
    LinkedVictim,
    StageChange,
    SuspectCreate,
    SuspectIdentity,
    SuspectPage,
    SuspectRead,
    VictimLink,
)
from service.audit.log import append_case_event, append_stream_event
from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Conflict, Forbidden, Invalid, NotFound, VersionConflict
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.legal import repository as repo
from service.legal.visibility import sees_suspect_identity
from service.models import (
    CriminalCase,
    CriminalCaseVictim,
    LegalTrack,
    Suspect,
    SuspectIdentityAccess,
)
from service.units import service as units
from workflows.legal import (
    ENDED_STAGES,
    POLICE,
    PROSECUTION,
)
from workflows.regions import load_regions

STREAM = "criminal_cases"
PAGE_MAX = 100
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Who records each stage (design choice: the police hand the file over and stop an
# investigation (SP3); the prosecution service takes it to trial and records the verdict).
STAGE_RECORDERS = {
    "investigation": {POLICE},
    "prosecution": {POLICE, PROSECUTION},
    "trial": {PROSECUTION},
    "verdict": {PROSECUTION},
    "closed": {POLICE, PROSECUTION},
    "terminated": {POLICE, PROSECUTION},
}
STAGE_BASIS = {
    "investigation": "KUHAP Art. 106 (penyidikan)",
    "prosecution": "KUHAP Art. 110 and 138 (penyerahan berkas kepada penuntut umum)",
    "trial": "KUHAP Art. 143 (pelimpahan perkara ke pengadilan)",
    "verdict": "KUHAP Art. 191-193 (putusan)",
    "closed": "design choice - the case is over for this record",
    "terminated": "KUHAP Art. 109(2) (penghentian penyidikan, SP3) or Art. 140(2) (SKPP)",
}


# --- criminal cases ------------------------------------------------------------------------


def create_criminal_case(
    session: Session, context: AppContext, principal: Principal, data: CriminalCaseCreate
) -> CriminalCaseRead:
    """POLRI opens the record of an investigation from its police report."""
    if not (principal.works_cases and principal.ministry == POLICE):
        raise Forbidden("only POLRI case workers and supervisors open criminal cases")
    assert principal.user_id is not None and principal.unit_id is not None
    unit = units.find(session, data.police_unit) if data.police_unit else None
    if data.police_unit and (
        unit is None or unit.ministry != POLICE or not principal.serves(unit.path)
    ):
        raise Invalid("police_unit: not a POLRI unit of yours (your unit or one below it)")
    unit = unit or units.by_id(session, principal.unit_id)
    assert unit is not None and unit.id is not None
    region_code = data.region_code or unit.region_code
    if region_code is None:
        raise Invalid("region_code: required when the police unit has no region")
    region = load_regions().get(region_code)
    if region is None:
        raise Invalid(f"region_code: {region_code!r} is not a Kemendagri region code")
    if data.spdp_on is not None and data.spdp_on < data.reported_on:
        raise Invalid("spdp_on: the SPDP cannot come before the police report")
    if repo.by_report_number(session, data.police_report_number) is not None:
        raise Conflict("police_report_number: a criminal case has this report number already")
    now = context.clock()
    record = CriminalCase(
        reference="PKR-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8)),
        police_report_number=data.police_report_number,
        police_unit_id=unit.id,
        region_code=region.code,
        province_code=region.province,
        stage="investigation",
        reported_on=data.reported_on,
        spdp_on=data.spdp_on,
        stage_on=data.reported_on,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    flush_or_conflict(session)
    _event(
        session,
        principal,
        now,
        "criminal_case_opened",
        record,
        {
            "police_unit": unit.code,
            "region_code": record.region_code,
            "reported_on": record.reported_on.isoformat(),
            "legal_basis": "KUHAP Art. 108 (laporan polisi); UU 21/2007 (TPPO)",
        },
    )
    return _read(session, record, unit.code)


def list_criminal_cases(
    session: Session,
    context: AppContext,
    principal: Principal,
    stage: str | None,
    cursor: str | None,
    limit: int,
) -> CriminalCasePage:
    scope = scope_of(list="criminal_cases", who=str(principal.user_id), stage=stage)
    paging = Paging.of(context.settings.keys.secret_key, scope, cursor, limit, PAGE_MAX)
    after = (str(paging.after[0]), str(paging.after[1])) if paging.after else None
    rows = repo.criminal_cases_page(session, principal, after, paging.fetch, stage)
    page, next_cursor = paging.page(
        rows, lambda row: [row[0].reported_on.isoformat(), str(row[0].id)]
    )
    return CriminalCasePage(items=[_summary(c, code) for c, code in page], next_cursor=next_cursor)


def read_criminal_case(
    session: Session, context: AppContext, principal: Principal, criminal_case_id: str
) -> CriminalCaseRead:
    record, unit_code = _readable(session, principal, criminal_case_id)
    return _read(session, record, unit_code)


def change_stage(
    session: Session,
    context: AppContext,
    principal: Principal,
    criminal_case_id: str,
    data: StageChange,
) -> CriminalCaseRead:
    record, unit_code = _readable(session, principal, criminal_case_id, for_update=True)
    if not (principal.works_cases and principal.ministry in STAGE_RECORDERS[data.stage]):
        raise Forbidden(
            f"stage: {data.stage!r} is recorded by {', '.join(sorted(STAGE_RECORDERS[data.stage]))}"
        )
    if data.expected_version != record.version:
        raise VersionConflict(
            f"expected_version: the criminal case is at version {record.version}; read it again"
        )
    if record.stage in ENDED_STAGES:
        raise Conflict(f"stage: the criminal case has ended ({record.stage})")
    if data.stage == record.stage:
        raise Conflict(f"stage: the criminal case is in {record.stage!r} already")
    if data.on < record.stage_on:
        raise Invalid(f"on: before the current stage began ({record.stage_on.isoformat()})")
    spdp = data.spdp_on or record.spdp_on
    if spdp is not None and spdp < record.reported_on:
        raise Invalid("spdp_on: the SPDP cannot come before the police report")
    now = context.clock()
    before = record.stage
    record.stage, record.stage_on, record.spdp_on, record.updated_at = (
        data.stage,
        data.on,
        spdp,
        now,
    )
    flush_or_conflict(session)
    _event(
        session,
        principal,
        now,
        "criminal_case_stage",
        record,
        {
            "from_stage": before,
            "to_stage": data.stage,
            "on": data.on.isoformat(),
            "spdp_on": spdp.isoformat() if spdp else None,
            "legal_basis": STAGE_BASIS[data.stage],
        },
    )
    return _read(session, record, unit_code)


def add_suspect(
    session: Session,
    context: AppContext,
    principal: Principal,
    criminal_case_id: str,
    data: SuspectCreate,
) -> SuspectRead:
    """The suspect's identity is sealed at once; the answer does not show it back."""
    record, _ = _readable(session, principal, criminal_case_id)
    if not (principal.works_cases and principal.ministry in (POLICE, PROSECUTION)):
        raise Forbidden("suspects are recorded by POLRI and KEJAKSAAN")
    assert principal.user_id is not None
    now = context.clock()
    suspect = Suspect(
        criminal_case_id=record.id,
        identity_ciphertext=b"",
        sex=data.sex,
        nationality=data.nationality,
        role=data.role,
        added_at=now,
        added_by_id=principal.user_id,
    )
    suspect.identity_ciphertext = context.cipher.encrypt(
        data.identity.model_dump(mode="json"), suspect.id.bytes
    )
    session.add(suspect)
    flush_or_conflict(session)
    _event(
        session,
        principal,
        now,
        "suspect_added",
        record,
        {
            "suspect": str(suspect.id),
            "role": suspect.role,
            "legal_basis": "KUHAP Art. 1(14) (tersangka)",
        },
    )
    return _suspect(suspect, None)


def list_suspects(
    session: Session,
    context: AppContext,
    principal: Principal,
    criminal_case_id: str,
    cursor: str | None,
    limit: int,
    *,
    endpoint: str,
) -> SuspectPage:
    """With identities for POLRI and KEJAKSAAN (one logged look per suspect shown), without
    for auditors."""
    record, _ = _readable(session, principal, criminal_case_id)
    scope = scope_of(list="suspects", criminal_case=str(record.id))
    paging = Paging.of(context.settings.keys.secret_key, scope, cursor, limit, PAGE_MAX)
    after = str(paging.after[0]) if paging.after else None
    rows = repo.suspects_page(session, record.id, after, paging.fetch)
    page, next_cursor = paging.page(rows, lambda suspect: [str(suspect.id)])
    reveal = sees_suspect_identity(principal)
    items = []
    for suspect in page:
        identity = None
        if reveal:
            identity = SuspectIdentity.model_validate(
                context.cipher.decrypt(suspect.identity_ciphertext, suspect.id.bytes)
            )
        items.append(_suspect(suspect, identity))
    if reveal and items:
        assert principal.user_id is not None
        repo.record_suspect_look(
            session,
            SuspectIdentityAccess(
                criminal_case_id=record.id,
                user_id=principal.user_id,
                username=principal.username,
                ministry=principal.ministry,
                role=principal.role,
                endpoint=endpoint[:120],
                at=context.clock(),
            ),
        )
    return SuspectPage(items=items, next_cursor=next_cursor)


def link_victim(
    session: Session,
    context: AppContext,
    principal: Principal,
    criminal_case_id: str,
    data: VictimLink,
) -> CriminalCaseRead:
    """POLRI links a victim's case it may see to its criminal case: the victim's legal track
    begins (an event on the case's stream)."""
    record, unit_code = _readable(session, principal, criminal_case_id)
    if not (principal.works_cases and principal.ministry == POLICE):
        raise Forbidden("victims are linked to a criminal case by POLRI")
    loaded = cases.readable(session, context, principal, data.case_id)
    case = loaded.case
    if loaded.victim.erased_at is not None:
        raise Conflict("case_id: the case was erased")
    if repo.is_linked(session, record.id, case.id):
        raise Conflict("case_id: the case is linked to this criminal case already")
    assert principal.user_id is not None
    now = context.clock()
    session.add(
        CriminalCaseVictim(
            criminal_case_id=record.id,
            case_id=case.id,
            linked_at=now,
            linked_by_id=principal.user_id,
        )
    )
    if repo.legal_track(session, case.id) is None:
        session.add(LegalTrack(case_id=case.id, updated_at=now))
    append_case_event(
        session,
        case,
        actor=principal,
        at=now,
        kind="legal_linked",
        payload={
            "criminal_case": record.reference,
            "legal_basis": "design choice - a victim "
            "is linked to the criminal case in which they are a witness",
        },
    )
    flush_or_conflict(session)
    return _read(session, record, unit_code)


def count_criminal_cases(
    session: Session,
    context: AppContext,
    principal: Principal,
    reported_from: date,
    reported_to: date,
    by: str,
) -> CountsRead:
    """Aggregates over every criminal case (no case is named): for auditors, POLRI, KEJAKSAAN
    and the Task Force."""
    allowed = {POLICE, PROSECUTION, "GUGUS_TUGAS"}
    if not (
        principal.role == Role.AUDITOR or (principal.works_cases and principal.ministry in allowed)
    ):
        raise Forbidden(
            "counts of criminal cases are for auditors, POLRI, KEJAKSAAN and the Task Force"
        )
    if reported_to < reported_from:
        raise Invalid("reported_to: before reported_from")
    rows, total = repo.counts(session, reported_from, reported_to, by == "province")
    regions = load_regions()

    def name(code: str) -> str | None:
        region = regions.get(code)
        return region.name if region else None

    return CountsRead(
        reported_from=reported_from,
        reported_to=reported_to,
        by=by,
        rows=[
            CountRow(
                region_code=code, region_name=name(code), criminal_cases=c, victims=v, suspects=s
            )
            for code, c, v, s in rows
        ],
        total=CountRow(
            region_code=None,
            region_name=None,
            criminal_cases=total[0],
            victims=total[1],
            suspects=total[2],
        ),
    )


# --- helpers -------------------------------------------------------------------------------


def _readable(
    session: Session, principal: Principal, criminal_case_id: str, *, for_update: bool = False
) -> tuple[CriminalCase, str]:
    found = repo.readable_criminal_case(session, principal, criminal_case_id, for_update=for_update)
    if found is None:
        raise NotFound("criminal case not found")
    return found


def _event(
    session: Session,
    principal: Principal,
    at: Any,
    kind: str,
    record: CriminalCase,
    payload: dict[str, Any],
) -> None:
    append_stream_event(
        session,
        STREAM,
        actor=principal,
        at=at,
        kind=kind,
        payload={"criminal_case": record.reference, "stage": record.stage, **payload},
    )


def _summary(record: CriminalCase, unit_code: str) -> CriminalCaseSummary:
    return CriminalCaseSummary(
        id=str(record.id),
        reference=record.reference,
        police_report_number=record.police_report_number,
        police_unit=unit_code,
        region_code=record.region_code,
        stage=record.stage,
        reported_on=record.reported_on,
        stage_on=record.stage_on,
        version=record.version,
    )


def _read(session: Session, record: CriminalCase, unit_code: str) -> CriminalCaseRead:
    victims = [
        LinkedVictim(
            case_id=str(case_id), reference=reference, witness_status=status or "not_needed"
        )
        for case_id, reference, status in repo.linked_victims(session, record.id)
    ]
    return CriminalCaseRead(
        **_summary(record, unit_code).model_dump(),
        spdp_on=record.spdp_on,
        victims=victims,
        suspect_count=repo.suspect_count(session, record.id),
    )


def _suspect(suspect: Suspect, identity: SuspectIdentity | None) -> SuspectRead:
    return SuspectRead(
        id=str(suspect.id),
        sex=suspect.sex,
        nationality=suspect.nationality,
        role=suspect.role,
        identity_visible=identity is not None,
        identity=identity,
    )


# --- monthly figures for the reports (service/reports: MONTHLY_FIGURES) ---------------------


def _per_month(
    session: Session, scope: str | None, start: datetime, until: datetime, which: int
) -> dict[str, int]:
    first = start.astimezone(WIB).date()
    last = (until - timedelta(microseconds=1)).astimezone(WIB).date()
    rows = repo.reported_per_month(session, first, last, scope)
    return {month: counts[which] for month, counts in rows.items() if counts[which]}


def criminal_cases_per_month(
    session: Session, _context: AppContext, scope: str | None, start: datetime, until: datetime
) -> dict[str, int]:
    """Criminal cases by the month of their police report (for a ministry: those naming a
    victim whose case it handled)."""
    return _per_month(session, scope, start, until, 0)


def criminal_case_victims_per_month(
    session: Session, _context: AppContext, scope: str | None, start: datetime, until: datetime
) -> dict[str, int]:
    """Distinct victims linked to the criminal cases reported in each month."""
    return _per_month(session, scope, start, until, 1)


def suspects_per_month(
    session: Session, _context: AppContext, scope: str | None, start: datetime, until: datetime
) -> dict[str, int]:
    """Suspects of the criminal cases reported in each month."""
    return _per_month(session, scope, start, until, 2)
