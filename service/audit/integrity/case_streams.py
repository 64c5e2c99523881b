"""Each case checked on its own: its stream's links, its row's head, its grants. The part of the
verifier that runs case by case, by ranges of case id (service/audit/verify_pool.py), so that
no process holds more than one case at a time.

The events of a case are read in `seq` order, as the walk reads them, and checked as the walk
checks them: each event's `stream_seq` and `prev_hash` against the one before it (its hash is
recomputed with the log's slices: integrity/slices.py), then the case row's count, last hash,
version and state against the stream (or the stream is reported as having no head), then, if
neither found a problem, the case's `case_ministry` and `case_unit` rows against what its
events say (integrity/grants.py).

Each problem comes back with its place in the walk's order (verifier.Place): a link at its
event's seq among the events, a head among the heads by case id, a missing head after the
walk by its stream's first seq, grants by case id. The parent merges them into one verdict,
the walk's, leaving out the grants of a case whose events fail their hash.

A log that does not keep each case's events on that case's stream (an event whose `case_id`
names another case than its stream, possible only behind the API) is `irregular`: the caller
walks it event by event instead.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.audit.integrity.export_format import head_record
from service.audit.integrity.grants import (
    LeadMinistry,
    UnitRow,
    case_id_of,
    case_key,
    compare,
    expected,
)
from service.audit.integrity.slices import LINK, VERSION_KINDS, link_problem, payload_value
from service.audit.integrity.verifier import (
    EVENTS,
    FINISH,
    GRANTS,
    HEADS,
    Broken,
    Place,
    Record,
    StreamState,
    head_missing,
    head_problems,
)

# the columns of an event row, in this order (service/audit/repository.py reads them so)
EVENT_COLUMNS = ("seq", "stream", "stream_seq", "case_id", "kind", "ministry", "to_state", "at",
                 "payload", "prev_hash", "hash")  # fmt: skip


def head_of(row: Sequence[Any], case_text: Any = None) -> dict[str, Any]:
    """A case row's head (id as stored text, count, last hash, version, state) as the
    verifier's head record; `case_text` turns a stored id into its canonical text where the
    database does not (SQLite)."""
    raw_id, count, head, version, state = row
    text_id = raw_id if case_text is None else case_text(raw_id)
    return head_record(text_id.replace("-", ""), count, head, text_id, version, state)


@dataclass
class CasesResult:
    """What the cases of a range found: plain data (a worker's result is pickled back)."""

    streams: int = 0  # cases with events
    problems: list[tuple[Place, Broken]] = field(default_factory=list)
    irregular: bool = False


def check_cases(
    events: Iterable[Sequence[Any]],
    heads: Iterable[Record],
    ministries: Iterable[tuple[str, str]],
    units: Iterable[tuple[str, tuple[str, bool, Any, Any, Any]]],
    lead_ministry: LeadMinistry,
) -> CasesResult:
    """The cases of the four inputs, each in the order of the case id column: `events` rows as
    EVENT_COLUMNS (`at` canonical text, the payload as stored text), `heads` the case rows as
    head records (export_format.head_record), `ministries` and `units` as grants.check_cases
    takes them."""
    result = CasesResult()
    try:
        _check(result, events, heads, ministries, units, lead_ministry)
    except (TypeError, ValueError, AttributeError, OverflowError, KeyError):
        result = CasesResult(irregular=True)
    return result


def _check(
    result: CasesResult,
    events: Iterable[Sequence[Any]],
    heads: Iterable[Record],
    ministries: Iterable[tuple[str, str]],
    units: Iterable[tuple[str, tuple[str, bool, Any, Any, Any]]],
    lead_ministry: LeadMinistry,
) -> None:
    tagged = heapq.merge(
        ((head["stream"], 0, head) for head in heads),
        ((case_key(row[3]), 1, row) for row in events),
        ((case, 2, ministry) for case, ministry in ministries),
        ((case, 3, unit) for case, unit in units),
        key=lambda item: item[0],
    )
    for case, items in itertools.groupby(tagged, key=lambda item: item[0]):
        found: tuple[list[Any], list[Any], list[Any], list[Any]] = ([], [], [], [])
        for _case, tag, value in items:
            found[tag].append(value)
        case_heads, case_events, case_ministries, case_units = found
        case_id = case_id_of(case)
        state, broken, replay = _stream(result, case, case_id, case_events)
        for head in case_heads:  # one at most: the case row's
            for problem in head_problems(head, state):
                result.problems.append(((HEADS, 0, case), problem))
                broken = True
        if not case_heads and state is not None:
            result.problems.append(((FINISH, 0, state.first_seq), head_missing(case, state)))
        if broken:
            continue
        rows = {code: UnitRow(referred, since, left, withdrawn)
                for code, referred, since, left, withdrawn in case_units}  # fmt: skip
        want = expected(replay, lead_ministry)
        for problem in compare(case_id, want, case_ministries, rows):
            result.problems.append(((GRANTS, case), problem))


def _stream(
    result: CasesResult, case: str, case_id: str, rows: list[Sequence[Any]]
) -> tuple[StreamState | None, bool, list[Record]]:
    """One case's events in seq order: its stream as the walk leaves it (None: no event),
    whether a link is broken, and the events as the grants replay them."""
    if not rows:
        return None, False, []
    result.streams += 1
    state = StreamState(case_id, rows[0][0])
    broken = False
    replay: list[Record] = []
    for row in rows:
        seq, stream, stream_seq, _case_id, kind, ministry, to_state, at, payload, prev, hashed = row
        if stream != case or type(seq) is not int or type(stream_seq) is not int:
            raise ValueError("an event of a case on another stream")
        if stream_seq != state.count + 1 or prev != state.head:
            code, reason = link_problem(state.count, state.head, stream_seq, prev)
            result.problems.append(((EVENTS, seq, LINK), Broken(
                code, reason, seq=seq, stream=stream, stream_seq=stream_seq,
                case_id=state.case_id)))  # fmt: skip
            broken = True
        state.count, state.head, state.last_seq = stream_seq, hashed, seq
        if to_state is not None:
            state.state = to_state
        if kind in VERSION_KINDS:
            state.transitions += 1
        replay.append({"kind": kind, "ministry": ministry, "to_state": to_state, "at": at,
                       "payload": payload_value(payload)})  # fmt: skip
    return state, broken, replay
