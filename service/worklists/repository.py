"""Queries of the work lists: ministry queues, watch lists, escalations, "my cases".

Every list is a keyset page over open cases (`due_at IS NOT NULL`) ordered by (`due_at`, `id`);
each matches an index of `case_file` (see the model). A list's criteria (led by the caller's
ministry, supported by it, escalated to it, assigned to the caller, or an auditor's) select only
cases that `visibility` lets the caller read — `tests/test_queues.py` holds this — so the lists
do not repeat that predicate: OR-ed with their own criteria it blinds PostgreSQL's estimates and
turned a deep page into a scan and a sort.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, false, func, literal, true, tuple_
from sqlmodel import Session, col, select

from schemas.queue import QueueQuery
from service.kit.principal import Principal
from service.models import CaseEscalation, CaseFile, Unit, UserAccount
from workflows import SlaLevel

Row = tuple[CaseFile, str | None]


@dataclass(frozen=True)
class Position:
    """Where a page ended: the lists are ordered by (`due_at`, `id`)."""

    due_at: datetime
    id: uuid.UUID


def page(
    session: Session,
    criteria: Sequence[ColumnElement[bool]],
    after: Position | None,
    limit: int,
) -> list[Row]:
    """One page of open cases matching `criteria`, with the username of each one's assignee.

    The username is a scalar subquery, not a join: with a join PostgreSQL misjudged a deep
    page's keyset condition, hash-joined and sorted the whole rest of the queue (2 s at 1M).
    """
    due_at, case_id = col(CaseFile.due_at), col(CaseFile.id)
    assignee = (
        select(UserAccount.username)
        .where(col(UserAccount.id) == col(CaseFile.assigned_to_id))
        .scalar_subquery()
    )
    statement = (
        select(CaseFile, assignee)
        .where(due_at.is_not(None), *criteria)
        .order_by(due_at, case_id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(due_at, case_id) > tuple_(after.due_at, after.id))
    return [(case, username) for case, username in session.exec(statement)]


def led_by_unit(unit_id: int) -> ColumnElement[bool]:
    return col(CaseFile.unit_id) == unit_id


def waiting_for_unit(unit_id: int) -> ColumnElement[bool]:
    return col(CaseFile.transfer_to_unit_id) == unit_id


def led_by(ministry: str) -> ColumnElement[bool]:
    return col(CaseFile.ministry) == ministry


def at_least(level: SlaLevel) -> ColumnElement[bool]:
    """Inlined, not bound: the planner proves the partial index `ix_case_file_escalated`."""
    return col(CaseFile.sla_level) >= literal(int(level), literal_execute=True)


def at_level(level: SlaLevel) -> ColumnElement[bool]:
    """Escalated counts every rung of the ladder (stages 3 and above)."""
    if level is SlaLevel.ESCALATED:
        return at_least(level)
    return col(CaseFile.sla_level) == literal(int(level), literal_execute=True)


def assigned_to(user_id: int | None) -> ColumnElement[bool]:
    return col(CaseFile.assigned_to_id) == user_id if user_id is not None else false()


def queue_filters(
    query: QueueQuery, principal: Principal, now: datetime
) -> list[ColumnElement[bool]]:
    """The filters of a queue request, as conditions on `case_file`."""
    due_at = col(CaseFile.due_at)
    conditions: list[ColumnElement[bool]] = []
    if query.state is not None:
        conditions.append(col(CaseFile.state) == query.state)
    if query.phase is not None:
        conditions.append(col(CaseFile.phase) == query.phase)
    if query.overdue is not None:
        conditions.append(due_at <= now if query.overdue else due_at > now)
    if query.assigned == "me":
        conditions.append(assigned_to(principal.user_id))
    elif query.assigned == "unassigned":
        conditions.append(col(CaseFile.assigned_to_id).is_(None))
    if query.child is not None:
        conditions.append(col(CaseFile.is_child) == query.child)
    if query.nationality is not None:
        conditions.append(col(CaseFile.nationality) == query.nationality)
    if query.province is not None:
        conditions.append(col(CaseFile.province_of_origin) == query.province)
    if query.referral_from is not None:
        conditions.append(col(CaseFile.referral_date) >= query.referral_from)
    if query.referral_to is not None:
        conditions.append(col(CaseFile.referral_date) <= query.referral_to)
    return conditions or [true()]


def escalations_reached(
    session: Session, case_ids: list[uuid.UUID]
) -> Sequence[tuple[uuid.UUID, str, str]]:
    """(case id, rung, Task Force unit code) of each rung the current steps reached, in order."""
    if not case_ids:
        return []
    statement = (
        select(CaseEscalation.case_id, CaseEscalation.level, Unit.code)
        .join(CaseFile, col(CaseFile.id) == col(CaseEscalation.case_id))
        .join(Unit, col(Unit.id) == col(CaseEscalation.unit_id))
        .where(
            col(CaseEscalation.case_id).in_(case_ids),
            col(CaseEscalation.reached_at) >= col(CaseFile.state_entered_at),
        )
        .order_by(col(CaseEscalation.reached_at), _RUNG_ORDER)  # the highest rung last
    )
    return session.exec(statement).all()


# one sweep may climb several rungs at once (a late sweep): their `reached_at` is the same
_RUNG_ORDER = case(
    {"district": 0, "province": 1, "national": 2}, value=col(CaseEscalation.level), else_=3
)


def open_case_counts(session: Session, now: datetime) -> list[tuple[str, bool, int]]:
    """(lead ministry, overdue, open cases): one pass over `ix_case_file_queue` (ministry,
    due_at of the open cases), never a row of the table."""
    overdue = col(CaseFile.due_at) < now
    query = (
        select(col(CaseFile.ministry), overdue, func.count())
        .where(col(CaseFile.due_at).is_not(None))
        .group_by(col(CaseFile.ministry), overdue)
    )
    return [(str(m), bool(late), int(n)) for m, late, n in session.exec(query).all()]
