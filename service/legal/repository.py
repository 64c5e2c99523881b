"""Every query of the legal track; which criminal cases a caller sees is in visibility.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, distinct, func, select, tuple_
from sqlmodel import Session, col

from service.kit.principal import Principal
from service.legal.visibility import criminal_case_visibility
from service.models import (
    CaseFile,
    CaseMinistry,
    CriminalCase,
    CriminalCaseVictim,
    LegalTrack,
    Suspect,
    SuspectIdentityAccess,
    Unit,
)


def parse_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def readable_criminal_case(
    session: Session, principal: Principal, criminal_case_id: str, *, for_update: bool = False
) -> tuple[CriminalCase, str] | None:
    """The criminal case and its police unit's code, if `principal` may see it."""
    parsed = parse_id(criminal_case_id)
    if parsed is None:
        return None
    statement = (
        select(CriminalCase, col(Unit.code))
        .join(Unit, col(Unit.id) == col(CriminalCase.police_unit_id))
        .where(col(CriminalCase.id) == parsed, criminal_case_visibility(principal))
    )
    if for_update:
        statement = statement.with_for_update(of=CriminalCase)
    row = session.execute(statement).first()
    return (row[0], row[1]) if row is not None else None


def by_report_number(session: Session, number: str) -> CriminalCase | None:
    statement = select(CriminalCase).where(col(CriminalCase.police_report_number) == number)
    return session.execute(statement).scalars().first()


def criminal_cases_page(
    session: Session,
    principal: Principal,
    after: tuple[str, str] | None,
    limit: int,
    stage: str | None,
) -> Sequence[tuple[CriminalCase, str]]:
    """Newest report first, then by id: keyset on (`reported_on`, `id`) descending."""
    statement = (
        select(CriminalCase, col(Unit.code))
        .join(Unit, col(Unit.id) == col(CriminalCase.police_unit_id))
        .where(criminal_case_visibility(principal))
        .order_by(col(CriminalCase.reported_on).desc(), col(CriminalCase.id).desc())
        .limit(limit)
    )
    if stage is not None:
        statement = statement.where(col(CriminalCase.stage) == stage)
    if after is not None:
        reported_on, last_id = date.fromisoformat(after[0]), uuid.UUID(after[1])
        statement = statement.where(
            tuple_(col(CriminalCase.reported_on), col(CriminalCase.id))
            < tuple_(reported_on, last_id)
        )
    return [(row[0], row[1]) for row in session.execute(statement).all()]


def linked_victims(
    session: Session, criminal_case_id: uuid.UUID
) -> Sequence[tuple[uuid.UUID, str, str | None]]:
    """(case id, case reference, witness status) of the victims linked, by reference."""
    statement = (
        select(col(CaseFile.id), col(CaseFile.reference), col(LegalTrack.witness_status))
        .join(CriminalCaseVictim, col(CriminalCaseVictim.case_id) == col(CaseFile.id))
        .outerjoin(LegalTrack, col(LegalTrack.case_id) == col(CaseFile.id))
        .where(col(CriminalCaseVictim.criminal_case_id) == criminal_case_id)
        .order_by(col(CaseFile.reference))
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement).all()]


def suspect_count(session: Session, criminal_case_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(Suspect.criminal_case_id) == criminal_case_id)
    return int(session.execute(statement).scalar_one())


def suspects_page(
    session: Session, criminal_case_id: uuid.UUID, after: str | None, limit: int
) -> Sequence[Suspect]:
    statement = (
        select(Suspect)
        .where(col(Suspect.criminal_case_id) == criminal_case_id)
        .order_by(col(Suspect.id))
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(col(Suspect.id) > uuid.UUID(after))
    return session.execute(statement).scalars().all()


def is_linked(session: Session, criminal_case_id: uuid.UUID, case_id: uuid.UUID) -> bool:
    statement = select(CriminalCaseVictim).where(
        col(CriminalCaseVictim.criminal_case_id) == criminal_case_id,
        col(CriminalCaseVictim.case_id) == case_id,
    )
    return session.execute(statement).first() is not None


def criminal_cases_of(
    session: Session, principal: Principal, case_id: uuid.UUID
) -> Sequence[CriminalCase]:
    """The criminal cases `case_id` is linked to that `principal` may see."""
    statement = (
        select(CriminalCase)
        .join(CriminalCaseVictim, col(CriminalCaseVictim.criminal_case_id) == CriminalCase.id)
        .where(col(CriminalCaseVictim.case_id) == case_id, criminal_case_visibility(principal))
        .order_by(col(CriminalCase.reported_on))
    )
    return session.execute(statement).scalars().all()


def stages_of_linked(session: Session, case_id: uuid.UUID) -> set[str]:
    """The stages of every criminal case the case is linked to (whoever may see them)."""
    statement = (
        select(col(CriminalCase.stage))
        .join(CriminalCaseVictim, col(CriminalCaseVictim.criminal_case_id) == CriminalCase.id)
        .where(col(CriminalCaseVictim.case_id) == case_id)
    )
    return set(session.execute(statement).scalars().all())


def case_via_criminal_case(
    session: Session, principal: Principal, case_id: uuid.UUID
) -> CaseFile | None:
    """The case, if it is linked to a criminal case `principal` may see."""
    linked = (
        select(CriminalCaseVictim.case_id)  # type: ignore[call-overload]
        .join(CriminalCase, col(CriminalCase.id) == col(CriminalCaseVictim.criminal_case_id))
        .where(col(CriminalCaseVictim.case_id) == case_id, criminal_case_visibility(principal))
    )
    statement = select(CaseFile).where(col(CaseFile.id) == case_id, col(CaseFile.id).in_(linked))
    return session.execute(statement).scalars().first()


def legal_track(session: Session, case_id: uuid.UUID) -> LegalTrack | None:
    return session.get(LegalTrack, case_id)


def record_suspect_look(session: Session, look: SuspectIdentityAccess) -> None:
    session.add(look)


def lpsk_late_page(
    session: Session,
    visible: ColumnElement[bool],
    today: date,
    after: tuple[str, str] | None,
    limit: int,
) -> Sequence[tuple[LegalTrack, str]]:
    """Applications decided after their due day, or undecided past it; oldest due first."""
    late = (col(LegalTrack.lpsk_decided_on).is_(None) & (col(LegalTrack.lpsk_due_on) < today)) | (
        col(LegalTrack.lpsk_decided_on) > col(LegalTrack.lpsk_due_on)
    )
    statement = (
        select(LegalTrack, col(CaseFile.reference))
        .join(CaseFile, col(CaseFile.id) == col(LegalTrack.case_id))
        .where(col(LegalTrack.lpsk_applied_on).is_not(None), late, visible)
        .order_by(col(LegalTrack.lpsk_due_on), col(LegalTrack.case_id))
        .limit(limit)
    )
    if after is not None:
        due, last = date.fromisoformat(after[0]), uuid.UUID(after[1])
        statement = statement.where(
            tuple_(col(LegalTrack.lpsk_due_on), col(LegalTrack.case_id)) > tuple_(due, last)
        )
    return [(row[0], row[1]) for row in session.execute(statement).all()]


CountKey = str


def counts(
    session: Session, reported_from: date, reported_to: date, by_province: bool
) -> tuple[list[tuple[CountKey, int, int, int]], tuple[int, int, int]]:
    """Per region (province, or the code as recorded), and in total: criminal cases reported
    in the period, the distinct victims linked to them, and their suspects."""
    region = col(CriminalCase.province_code) if by_province else col(CriminalCase.region_code)
    in_period = (col(CriminalCase.reported_on) >= reported_from) & (
        col(CriminalCase.reported_on) <= reported_to
    )
    cases = dict(
        session.execute(select(region, func.count()).where(in_period).group_by(region)).all()
    )
    victims_q = (
        select(region, func.count(distinct(col(CriminalCaseVictim.case_id))))
        .join(CriminalCaseVictim, col(CriminalCaseVictim.criminal_case_id) == CriminalCase.id)
        .where(in_period)
        .group_by(region)
    )
    victims = dict(session.execute(victims_q).all())
    suspects_q = (
        select(region, func.count(col(Suspect.id)))
        .join(Suspect, col(Suspect.criminal_case_id) == CriminalCase.id)
        .where(in_period)
        .group_by(region)
    )
    suspects = dict(session.execute(suspects_q).all())
    rows = [
        (str(key), int(cases[key]), int(victims.get(key, 0)), int(suspects.get(key, 0)))
        for key in sorted(cases)
    ]
    total_victims = session.execute(
        select(func.count(distinct(col(CriminalCaseVictim.case_id))))
        .join(CriminalCase, col(CriminalCase.id) == col(CriminalCaseVictim.criminal_case_id))
        .where(in_period)
    ).scalar_one()
    total = (sum(r[1] for r in rows), int(total_victims), sum(r[3] for r in rows))
    return rows, total


def lpsk_breaches_due(session: Session, today: date, limit: int) -> Sequence[LegalTrack]:
    """Undecided applications whose last day is past and whose breach is not recorded yet;
    rows another sweeper holds are skipped (PostgreSQL)."""
    statement = (
        select(LegalTrack)
        .where(
            col(LegalTrack.lpsk_applied_on).is_not(None),
            col(LegalTrack.lpsk_decided_on).is_(None),
            col(LegalTrack.lpsk_breach_at).is_(None),
            col(LegalTrack.lpsk_due_on) < today,
        )
        .order_by(col(LegalTrack.lpsk_due_on), col(LegalTrack.case_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.execute(statement).scalars().all()


def reported_per_month(
    session: Session, first: date, last: date, ministry: str | None
) -> dict[str, tuple[int, int, int]]:
    """Criminal cases reported per month (YYYY-MM of `reported_on`) within [first, last], with
    the distinct victims linked to them and their suspects; for a ministry, only the criminal
    cases that name a victim whose case it handled (`case_ministry`)."""
    in_period = (col(CriminalCase.reported_on) >= first) & (col(CriminalCase.reported_on) <= last)
    if ministry is not None:
        handled = select(col(CaseMinistry.case_id)).where(col(CaseMinistry.ministry) == ministry)
        linked = select(col(CriminalCaseVictim.criminal_case_id)).where(
            col(CriminalCaseVictim.case_id).in_(handled)
        )
        in_period = in_period & col(CriminalCase.id).in_(linked)
    per_case = session.execute(
        select(col(CriminalCase.id), col(CriminalCase.reported_on)).where(in_period)
    ).all()
    month_of = {row[0]: row[1].strftime("%Y-%m") for row in per_case}
    result: dict[str, list[int]] = {}
    for month in month_of.values():
        result.setdefault(month, [0, 0, 0])[0] += 1
    if not month_of:
        return {}
    victims = session.execute(
        select(col(CriminalCaseVictim.criminal_case_id), col(CriminalCaseVictim.case_id)).where(
            col(CriminalCaseVictim.criminal_case_id).in_(list(month_of))
        )
    ).all()
    seen: dict[str, set[uuid.UUID]] = {}
    for criminal_case_id, case_id in victims:
        seen.setdefault(month_of[criminal_case_id], set()).add(case_id)
    for month, case_ids in seen.items():
        result[month][1] = len(case_ids)
    suspects = session.execute(
        select(col(Suspect.criminal_case_id), func.count())
        .where(col(Suspect.criminal_case_id).in_(list(month_of)))
        .group_by(col(Suspect.criminal_case_id))
    ).all()
    for criminal_case_id, count in suspects:
        result[month_of[criminal_case_id]][2] += int(count)
    return {month: (c[0], c[1], c[2]) for month, c in result.items()}
