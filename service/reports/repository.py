"""Queries of the reports: the history (events), and of the case row only what never changes
after intake (the coarse, non-identifying facts kept in clear: sex, age at intake, nationality,
province, country of exploitation, channel) and the referral's coded context (`victim.
trafficking`: exploitation types, recruitment method, means of control; never its free text).

`scope` is a ministry (the cases it referred or led, `case_ministry`) or None (national).
Nothing here decrypts an identity: no report needs one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlmodel import Session, col

from service.models import CaseEvent, CaseFile, CaseMinistry, MinistryMove, Victim

STATE_EVENT_KINDS = ("created", "transition")
LEAD_EVENT_KINDS = ("created", "transition", "transfer_accepted")
_BATCH = 5000


class CaseFact(NamedTuple):
    case_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    registered_at: datetime  # the creation event's instant
    sex: str
    age: int | None
    is_child: bool
    nationality: str
    province: str | None
    country: str | None
    channel: str
    trafficking: dict[str, Any]


class StateEntry(NamedTuple):
    case_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    state: str
    at: datetime


class EventGroup(NamedTuple):
    """How many events of one kind, trigger and move happened in one WIB month."""

    month: str
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    events: int


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _in_scope(statement: S, scope: str | None) -> S:
    if scope is None:
        return statement
    touched = select(col(CaseMinistry.case_id)).where(col(CaseMinistry.ministry) == scope)
    return statement.where(col(CaseEvent.case_id).in_(touched))


def _moves_state() -> ColumnElement[bool]:
    """A creation, or a transition to another state (a record in place moves nothing)."""
    return or_(
        col(CaseEvent.from_state).is_(None), col(CaseEvent.from_state) != col(CaseEvent.to_state)
    )


def case_facts(session: Session, scope: str | None, until: datetime) -> Iterator[CaseFact]:
    """Every case registered before `until`, with its intake facts."""
    statement = (
        select(
            col(CaseFile.id), col(CaseFile.workflow_name), col(CaseFile.workflow_version),
            col(CaseEvent.at), col(CaseFile.sex), col(CaseFile.age_at_intake),
            col(CaseFile.is_child), col(CaseFile.nationality), col(CaseFile.province_of_origin),
            col(CaseFile.country_of_exploitation), col(CaseFile.referral_channel),
            col(Victim.trafficking),
        )
        .join(CaseFile, col(CaseFile.id) == col(CaseEvent.case_id))
        .join(Victim, col(Victim.case_id) == col(CaseFile.id))
        .where(col(CaseEvent.kind) == "created", col(CaseEvent.at) < until)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    for row in session.execute(_in_scope(statement, scope)):
        yield CaseFact(*row)


def states_as_of(session: Session, scope: str | None, until: datetime) -> dict[uuid.UUID, str]:
    """The state each case was in just before `until`: its last state event before then."""
    last = _in_scope(
        select(func.max(col(CaseEvent.seq)).label("seq"))
        .where(col(CaseEvent.kind).in_(STATE_EVENT_KINDS), col(CaseEvent.to_state).is_not(None),
               col(CaseEvent.at) < until)
        .group_by(col(CaseEvent.case_id)),
        scope,
    ).subquery()  # fmt: skip
    statement = (
        select(col(CaseEvent.case_id), col(CaseEvent.to_state))
        .join(last, col(CaseEvent.seq) == last.c.seq)
        .execution_options(yield_per=_BATCH)
    )
    return {case_id: state for case_id, state in session.execute(statement)}


def first_moves(
    session: Session, scope: str | None, triggers: frozenset[str], start: datetime, until: datetime
) -> dict[uuid.UUID, datetime]:
    """Per case, the first transition by one of `triggers` that moved it, if within the range."""
    statement = _in_scope(
        select(col(CaseEvent.case_id), func.min(col(CaseEvent.at)))
        .where(col(CaseEvent.kind) == "transition", col(CaseEvent.trigger).in_(triggers),
               _moves_state(), col(CaseEvent.at) < until)
        .group_by(col(CaseEvent.case_id)),
        scope,
    )  # fmt: skip
    return {case_id: at for case_id, at in session.execute(statement) if at >= start}


def lead_units(session: Session, scope: str | None, until: datetime) -> dict[uuid.UUID, str]:
    """The unit leading each case just before `until`: named by its creation, then by each
    accepted hand-over (`transfer_accepted`, or a transition carrying `_accepted_handover`)."""
    statement = _in_scope(
        select(col(CaseEvent.case_id), col(CaseEvent.kind), col(CaseEvent.payload))
        .where(col(CaseEvent.kind).in_(LEAD_EVENT_KINDS), col(CaseEvent.at) < until)
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        .execution_options(yield_per=_BATCH),
        scope,
    )
    lead: dict[uuid.UUID, str] = {}
    for case_id, kind, payload in session.execute(statement):
        payload = payload or {}
        if kind == "created":
            lead[case_id] = str(payload.get("unit", ""))
        elif kind == "transfer_accepted" and payload.get("to_unit"):
            lead[case_id] = str(payload["to_unit"])
        elif isinstance(accepted := payload.get("_accepted_handover"), dict):
            lead[case_id] = str(accepted.get("to_unit", lead.get(case_id, "")))
    return lead


def state_entries(session: Session, scope: str | None, until: datetime) -> Iterator[StateEntry]:
    """Every entry into a state before `until`, grouped by case, oldest first within a case."""
    statement = _in_scope(
        select(
            col(CaseEvent.case_id), col(CaseFile.workflow_name), col(CaseFile.workflow_version),
            col(CaseEvent.to_state), col(CaseEvent.at),
        )
        .join(CaseFile, col(CaseFile.id) == col(CaseEvent.case_id))
        .where(col(CaseEvent.kind).in_(STATE_EVENT_KINDS), col(CaseEvent.to_state).is_not(None),
               _moves_state(), col(CaseEvent.at) < until)
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        .execution_options(yield_per=_BATCH),
        scope,
    )  # fmt: skip
    for row in session.execute(statement):
        yield StateEntry(*row)


def monthly_moves(
    session: Session,
    scope: str | None,
    months: list[tuple[str, datetime]],
    until: datetime,
    triggers: frozenset[str],
    states: frozenset[str],
) -> list[EventGroup]:
    """Creations, and the transitions by one of `triggers` or into one of `states`, from the
    first month's start to `until`, counted by month (and, for transitions, trigger and move).
    Two aggregates, each an index-only range: the creations grouped by month alone, however
    many cases there are, then the few milestone transitions. Nationally the range is of
    `ix_case_event_moves` (kind, at, ...) on the events; for a ministry, of
    `ix_ministry_move_range` (ministry, kind, at, ...) on `ministry_move`, the same moves once
    per ministry whose scope (`case_ministry`) holds the case, kept by triggers (a semi-join
    of the events with `case_ministry` cost three times the national count for a ministry
    holding a million cases). `months` are (YYYY-MM, the instant it starts), in order."""
    event: type[CaseEvent] | type[MinistryMove] = CaseEvent if scope is None else MinistryMove
    month = _month_of(session, col(event.at), [start for _, start in months])
    in_range = [col(event.at) >= months[0][1], col(event.at) < until]
    if scope is not None:
        in_range.insert(0, col(MinistryMove.ministry) == scope)
    created = (
        select(month, func.count()).where(col(event.kind) == "created", *in_range).group_by(month)
    )
    moves = (
        select(month, col(event.trigger), col(event.from_state), col(event.to_state), func.count())
        .where(col(event.kind) == "transition", *in_range,
               col(event.from_state) != col(event.to_state),
               or_(col(event.trigger).in_(triggers), col(event.to_state).in_(states)))
        .group_by(month, col(event.trigger), col(event.from_state), col(event.to_state))
    )  # fmt: skip
    labels = [label for label, _ in months]

    def label(bucket: int | str) -> str:
        return labels[bucket - 1] if isinstance(bucket, int) else bucket

    return [
        *(EventGroup(label(bucket), "created", None, None, None, n)
          for bucket, n in session.execute(created)),
        *(EventGroup(label(bucket), "transition", trigger, source, dest, n)
          for bucket, trigger, source, dest, n in session.execute(moves)),
    ]  # fmt: skip


def _month_of(session: Session, at: Any, starts: list[datetime]) -> Any:
    """Which month an instant falls in. PostgreSQL: its bucket among the months' first instants
    (`width_bucket`, a binary search per row: a million rows in well under a second; formatting
    each instant in WIB costs three times as much). SQLite: YYYY-MM in WIB (UTC+7 all year)."""
    if session.get_bind().dialect.name == "postgresql":
        bounds = bindparam("month_starts", starts, type_=ARRAY(TIMESTAMP(timezone=True)))
        return func.width_bucket(at, bounds)
    return func.strftime("%Y-%m", at, "+7 hours")


def ministry_moves_of_events() -> Select[*tuple[Any, ...]]:
    """`ministry_move` as the events and `case_ministry` say it should be: every creation and
    every transition to another state, once per ministry whose scope holds its case."""
    event, scope = CaseEvent, CaseMinistry
    return (
        select(col(scope.ministry), col(event.seq), col(event.kind), col(event.at),
               col(event.trigger), col(event.from_state), col(event.to_state))
        .join(scope, col(scope.case_id) == col(event.case_id))
        .where(or_(col(event.kind) == "created",
                   (col(event.kind) == "transition")
                   & (col(event.from_state) != col(event.to_state))))
    )  # fmt: skip


def ministry_moves(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every row of `ministry_move`, as (ministry, event seq, kind, at, trigger, from, to)."""
    statement = _kept_moves().execution_options(yield_per=_BATCH)
    for row in session.execute(statement):
        yield tuple(row)


def _kept_moves() -> Select[*tuple[Any, ...]]:
    move = MinistryMove
    return select(
        col(move.ministry), col(move.event_seq), col(move.kind), col(move.at), col(move.trigger),
        col(move.from_state), col(move.to_state),
    )  # fmt: skip


def lock_ministry_moves(session: Session) -> None:
    """For a rebuild: on PostgreSQL, lock the table, so that the writers whose triggers add
    rows wait (an event committed between the delete and the refill would otherwise come
    twice), and, like a migration, lift the statement limit (a million cases' two million
    rows took 2.5 minutes, compared and refilled, on the 2-core VM). SQLite's writer already
    holds the database."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(text("LOCK TABLE ministry_move IN EXCLUSIVE MODE"))


def ministry_moves_differing(session: Session) -> int:
    """How many rows `ministry_move` holds that the events do not say, plus those it lacks."""
    kept, expected = _kept_moves(), ministry_moves_of_events()
    return sum(
        int(session.execute(select(func.count()).select_from(rows.subquery())).scalar_one())
        for rows in (kept.except_(expected), expected.except_(kept))
    )


def rebuild_ministry_moves(session: Session) -> int:
    """Recompute `ministry_move` from the events (the triggers keep it; this is for a database
    whose triggers were off, or to prove it): empty it, refill it, and say how many rows."""
    lock_ministry_moves(session)
    session.execute(delete(MinistryMove))
    columns = ["ministry", "event_seq", "kind", "at", "trigger", "from_state", "to_state"]
    session.execute(insert(MinistryMove).from_select(columns, ministry_moves_of_events()))
    session.flush()
    return int(session.execute(select(func.count()).select_from(MinistryMove)).scalar_one())
