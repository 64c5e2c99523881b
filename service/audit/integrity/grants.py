"""Who may see a case, recomputed from its events; pure, no database.

Every row of `case_ministry` (the ministries that referred or led a case: who may read it) and
of `case_unit` (the units that referred, led or were handed it: who may see the victim's
identity, and until when) is written together with an event of the case, which says enough to
write it again:

- `created`: the actor's ministry and the first state's lead ministry; the referring unit
  (`referring_unit`, referred) and the first lead unit (`unit`), since the event's instant;
- `transition`: the lead ministry of `to_state`; `_accepted_handover` (the acting unit took
  the step: the sender leaves, the receiver leads), then `_handover` (the step now waits for
  the named unit, which joins);
- `workflow_migrated`: from here on the case runs on the version named `to` (its states' lead
  ministries are that version's); the lead ministry of `to_state`; `_withdrawn_handover` (a
  hand-over to the old lead ministry is void: the unit it waited for is withdrawn), then
  `_handover`;
- `transfer_accepted`: the sender leaves, the receiver leads;
- `transfer_declined`: the unit that was waited for is withdrawn;
- `transfer_rerouted`: the unit it waited for (`instead_of`) is withdrawn, the named unit joins
  (unless it is the lead unit);
- `service_requested`: the service's owning ministry may read the case, its unit joins.

A unit that leaves keeps its row with `left_at` (the referrer's row never changes); a unit
withdrawn keeps its row with `withdrawn_at`; a unit that joins again is back without either.
`expected` replays one case's events; `compare` names each row that is not what they say: a
row added behind the API (a ministry or unit granted sight), deleted, or changed (`left_at`,
`withdrawn_at` cleared). A case created before units existed (its `created` event names no
`unit`) has its units checked no further.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.audit.integrity.slices import payload_value
from service.audit.integrity.verifier import Broken, Record

LeadMinistry = Callable[[str, int, str], str | None]  # (workflow, version, state) -> ministry


@dataclass
class UnitRow:
    """A `case_unit` row as the events say it must be (instants as canonical text)."""

    referred: bool
    since: str
    left_at: str | None = None
    withdrawn_at: str | None = None


@dataclass
class Expected:
    ministries: set[str] = field(default_factory=set)
    units: dict[str, UnitRow] | None = None  # None: the case predates units
    lead: str | None = None


def check_cases(
    events: Iterable[tuple[str, Record]],
    ministries: Iterable[tuple[str, str]],
    units: Iterable[tuple[str, tuple[str, bool, Any, Any, Any]]],
    lead_ministry: LeadMinistry,
    skip: Collection[str] = (),
) -> Iterator[Broken]:
    """Every case's rows against its events, case by case. Each input is (case key, item) in
    the order of the case id column (32 hex digits: the same order in all three); a case in
    `skip` (its stream already reported broken) is not reported again."""
    tagged = heapq.merge(
        ((key, 0, event) for key, event in events),
        ((key, 1, ministry) for key, ministry in ministries),
        ((key, 2, unit) for key, unit in units),
        key=lambda item: item[0],
    )
    for key, items in itertools.groupby(tagged, key=lambda item: item[0]):
        found: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for _key, tag, value in items:
            found[tag].append(value)
        if key in skip:
            continue
        case_events, case_ministries, case_units = found
        want = expected(case_events, lead_ministry)
        rows = {code: UnitRow(referred, since, left, withdrawn)
                for code, referred, since, left, withdrawn in case_units}  # fmt: skip
        yield from compare(case_id_of(key), want, case_ministries, rows)


def event_item(row: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """A row of the events' statement (case id, kind, ministry, to_state, at, payload as
    stored) as `check_cases` takes it."""
    case, kind, ministry, to_state, at, payload = row
    return case_key(case), {"kind": kind, "ministry": ministry, "to_state": to_state,
                            "at": at, "payload": payload_value(payload)}  # fmt: skip


def ministry_item(row: Sequence[Any]) -> tuple[str, str]:
    case, ministry = row
    return case_key(case), ministry


def unit_item(row: Sequence[Any]) -> tuple[str, tuple[str, bool, Any, Any, Any]]:
    case, code, referred, since, left, withdrawn = row
    return case_key(case), (code, bool(referred), since, left, withdrawn)


def case_key(raw: Any) -> str:
    """A stored case id (a UUID, or SQLite's 32 hex digits) as the key the rows are merged by."""
    return str(raw).replace("-", "")


def case_id_of(key: str) -> str:
    """A case key (32 hex digits) as the dashed case id the problems name."""
    return f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"


def lead_table(definitions: Iterable[Any]) -> dict[tuple[str, int, str], str | None]:
    """Each published (workflow, version, state)'s lead ministry: `LeadMinistry` as plain data,
    for a worker process."""
    return {(d.name, d.version, name): state.ministry
            for d in definitions for name, state in d.states.items()}  # fmt: skip


def lead_from(table: Mapping[tuple[str, int, str], str | None]) -> LeadMinistry:
    def lead(workflow: str, version: int, state: str) -> str | None:
        try:
            return table.get((workflow, version, state))
        except TypeError:  # a tampered event naming its workflow by something unhashable
            return None

    return lead


def expected(events: Iterable[Record], lead_ministry: LeadMinistry) -> Expected:
    """One case's grants from its events, in stream order."""
    result = Expected()
    workflow: tuple[str, int] | None = None
    for e in events:
        payload: Mapping[str, Any] = e["payload"] if isinstance(e["payload"], dict) else {}
        at, kind = e["at"], e["kind"]
        if kind == "created":
            workflow = (payload.get("workflow"), payload.get("workflow_version"))  # type: ignore[assignment]
            if e["ministry"] is not None:
                result.ministries.add(e["ministry"])
            if "unit" in payload:
                _created(result, payload, at)
        if kind == "workflow_migrated" and isinstance(to := payload.get("to"), dict):
            workflow = (to.get("name"), to.get("version"))  # type: ignore[assignment]
        if e["to_state"] is not None and workflow is not None:
            ministry = lead_ministry(workflow[0], workflow[1], e["to_state"])
            if ministry is not None:
                result.ministries.add(ministry)
        if kind == "service_requested" and isinstance(payload.get("ministry"), str):
            result.ministries.add(payload["ministry"])
        if result.units is None:
            continue
        if kind == "workflow_migrated" and isinstance(
            void := payload.get("_withdrawn_handover"), dict
        ):
            _withdraw(result, void.get("to_unit"), at)
        if kind in ("transition", "workflow_migrated"):
            if isinstance(accepted := payload.get("_accepted_handover"), dict):
                _take_over(result, accepted, at)
            if isinstance(handover := payload.get("_handover"), dict):
                _join(result, handover.get("to_unit"), at)
        elif kind == "transfer_accepted":
            _take_over(result, payload, at)
        elif kind == "service_requested":
            _join(result, payload.get("unit"), at)
        elif kind == "transfer_declined":
            _withdraw(result, payload.get("to_unit"), at)
        elif kind == "transfer_rerouted":
            _withdraw(result, payload.get("instead_of"), at)
            if payload.get("to_unit") != result.lead:
                _join(result, payload.get("to_unit"), at)
    return result


def compare(
    case_id: str,
    want: Expected,
    ministries: Iterable[str],
    units: Mapping[str, UnitRow],
) -> list[Broken]:
    """The problems of one case's rows against what its events say."""
    problems = []
    found = set(ministries)
    for ministry in sorted(found - want.ministries):
        reason = f"ministry {ministry} may read the case, but no event of the case made it so: "
        problems.append(_broken("grant_ministry", case_id, reason + "added behind the API"))
    for ministry in sorted(want.ministries - found):
        reason = f"ministry {ministry} referred or led the case but its row is missing"
        problems.append(_broken("grant_ministry", case_id, reason))
    if want.units is None:
        return problems
    for code in sorted(units.keys() | want.units.keys()):
        row, should = units.get(code), want.units.get(code)
        if should is None:
            reason = f"unit {code} sees the case, but no event of the case made it so: added "
            problems.append(_broken("grant_unit", case_id, reason + "behind the API"))
        elif row is None:
            reason = f"unit {code} referred, led or was handed the case but its row is missing"
            problems.append(_broken("grant_unit", case_id, reason))
        elif row != should:
            reason = f"unit {code}'s row is {_describe(row)} but the events say {_describe(should)}"
            problems.append(_broken("grant_unit", case_id, reason))
    return problems


def _created(result: Expected, payload: Mapping[str, Any], at: str) -> None:
    referrer, lead = payload.get("referring_unit"), payload.get("unit")
    result.units = {}
    if isinstance(referrer, str):
        result.units[referrer] = UnitRow(referred=True, since=at)
    if isinstance(lead, str) and lead != referrer:
        result.units[lead] = UnitRow(referred=False, since=at)
    result.lead = lead if isinstance(lead, str) else None


def _take_over(result: Expected, handed: Mapping[str, Any], at: str) -> None:
    sender, receiver = handed.get("from_unit"), handed.get("to_unit")
    assert result.units is not None
    row = result.units.get(sender) if isinstance(sender, str) else None
    if row is not None and not row.referred:
        row.left_at = at
    _join(result, receiver, at)
    result.lead = receiver if isinstance(receiver, str) else None


def _join(result: Expected, code: object, at: str) -> None:
    assert result.units is not None
    if not isinstance(code, str):
        return
    row = result.units.get(code)
    if row is None:
        result.units[code] = UnitRow(referred=False, since=at)
    else:
        row.left_at = row.withdrawn_at = None


def _withdraw(result: Expected, code: object, at: str) -> None:
    assert result.units is not None
    row = result.units.get(code) if isinstance(code, str) else None
    if row is not None and not row.referred and code != result.lead:
        row.withdrawn_at = at


def _describe(row: UnitRow) -> str:
    parts = [f"since {row.since}", "referred" if row.referred else "not referred"]
    parts.append(f"left {row.left_at}" if row.left_at else "not left")
    parts.append(f"withdrawn {row.withdrawn_at}" if row.withdrawn_at else "not withdrawn")
    return "(" + ", ".join(parts) + ")"


def _broken(code: str, case_id: str, reason: str) -> Broken:
    return Broken(code, reason, stream=case_id.replace("-", ""), case_id=case_id)
