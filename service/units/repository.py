"""Queries of units."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.models import CaseFile, Unit


def by_code(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(col(Unit.code) == code)).first()


def by_id(session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def national(session: Session, ministry: str) -> Unit | None:
    statement = select(Unit).where(col(Unit.ministry) == ministry, col(Unit.level) == "national")
    return session.exec(statement.order_by(col(Unit.id))).first()


def at_place(
    session: Session, ministry: str, level: str, *, region_code: str | None = None,
    country: str | None = None,
) -> Unit | None:  # fmt: skip
    """The oldest active unit of `ministry` at exactly this level and place."""
    statement = select(Unit).where(
        col(Unit.ministry) == ministry, col(Unit.level) == level, col(Unit.is_active).is_(True)
    )
    if region_code is not None:
        statement = statement.where(col(Unit.region_code) == region_code)
    if country is not None:
        statement = statement.where(col(Unit.country) == country)
    return session.exec(statement.order_by(col(Unit.id))).first()


def open_of(session: Session, ministry: str) -> Sequence[Unit]:
    statement = select(Unit).where(col(Unit.ministry) == ministry, col(Unit.is_active).is_(True))
    return session.exec(statement.order_by(col(Unit.path))).all()


def units_after(
    session: Session, after_id: int, limit: int, ministry: str | None
) -> Sequence[Unit]:
    statement = select(Unit).where(col(Unit.id) > after_id)
    if ministry is not None:
        statement = statement.where(col(Unit.ministry) == ministry)
    return session.exec(statement.order_by(col(Unit.id)).limit(limit)).all()


def codes_of(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Unit.id, Unit.code).where(col(Unit.id).in_(sorted(ids))))
    return {unit_id: code for unit_id, code in rows if unit_id is not None}


def open_cases(session: Session, unit_id: int) -> int:
    """Open cases whose step belongs to the unit or waits for it to accept them."""
    statement = select(func.count()).where(
        col(CaseFile.due_at).is_not(None),
        (col(CaseFile.unit_id) == unit_id) | (col(CaseFile.transfer_to_unit_id) == unit_id),
    )
    return int(session.exec(statement).one())


def within(session: Session, unit: Unit) -> Sequence[Unit]:
    """The unit and every unit below it (its path is a prefix of theirs)."""
    statement = select(Unit).where(
        (col(Unit.id) == unit.id) | col(Unit.path).startswith(unit.path + ".")
    )
    return session.exec(statement.order_by(col(Unit.path))).all()


def in_region(session: Session, region_code: str) -> Sequence[Unit]:
    """Every unit placed in a province (and its districts and cities) or in one district."""
    statement = select(Unit).where(
        (col(Unit.region_code) == region_code) | col(Unit.region_code).startswith(region_code + ".")
    )
    return session.exec(statement.order_by(col(Unit.ministry), col(Unit.path))).all()
