"""Moving one case to another version of its workflow (a reviewed mapping, workflows/migration.py).

The move is a change of the case like a transition: the row's state, phase, lead ministry and
pin to a definition version change together with one `workflow_migrated` event on the case's
chain, and the case's `version` grows by one (the contract's history: the events that change
the state chain `to_state` -> `from_state` and number exactly `version`). The flush is the
compare-and-set on the case row: a case changed meanwhile is a conflict and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.audit.log import append_case_event
from service.cases import repository as repo
from service.cases import routing
from service.cases.aggregate import LoadedCase
from service.cases.repository import MigrationCandidate
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import NotFound, VersionConflict
from service.kit.principal import Principal
from service.models import CaseMinistry
from service.sla import clock
from service.units import service as units
from workflows import Definition, StateSpec
from workflows.migration import CaseAt, Decision, MappingFile, decide

MIGRATED = "workflow_migrated"

# Opens the services a mapping names, as started, in the move's transaction (the feature that
# owns service requests gives it: `cases` uses no other feature).
OpenServices = Callable[[LoadedCase, Sequence[str], datetime], None]


def candidates(
    session: Session, source: Definition, case_ids: Sequence[uuid.UUID] | None
) -> list[MigrationCandidate]:
    """The cases pinned to the source version (or those of `case_ids` that are)."""
    return repo.cases_on_version(session, source.name, source.version, case_ids)


def decision_for(
    mapping: MappingFile, source: Definition, target: Definition, case: MigrationCandidate
) -> Decision:
    at = CaseAt(case.state, case.pending_trigger, case.pending_ministry)
    return decide(mapping, source, target, at)


@dataclass(frozen=True)
class Moved:
    decision: Decision
    event_seq: int | None = None  # None: the case stays (`decision.refusal` says why)


def migrate_case(
    session: Session,
    context: AppContext,
    actor: Principal,
    case_id: uuid.UUID,
    expected_version: int,
    mapping: MappingFile,
    source: Definition,
    target: Definition,
    open_services: OpenServices | None = None,
) -> Moved:
    """Decide again on the case as it is now and move it; 409 `version_conflict` if it changed
    since `expected_version` was read (nothing is written), 404 if it is no longer pinned to
    the source version."""
    loaded = repo.load_any(session, context.registry, case_id, context.clock())
    if loaded is None:
        raise NotFound("case not found")
    case = loaded.case
    if (case.workflow_name, case.workflow_version) != (source.name, source.version):
        raise NotFound(f"the case is no longer on {source.name} v{source.version}")
    if case.version != expected_version:
        raise VersionConflict(f"the case is at version {case.version}, not {expected_version}")
    pending = repo.pending_approval(session, case.id) if loaded.approval_pending else None
    at = CaseAt(case.state, *((pending.trigger, pending.ministry) if pending else ()))
    decision = decide(mapping, source, target, at)
    if not decision.moves:
        return Moved(decision)
    assert decision.to_state is not None
    previous_ministry = case.ministry
    payload = _move(session, context, loaded, target, target.state(decision.to_state))
    payload.update({
        "from": {"name": source.name, "version": source.version},
        "to": {"name": target.name, "version": target.version},
        "mapping_checksum": mapping.checksum,
        "services": list(decision.services),
    })  # fmt: skip
    if reason := mapping.reasons.get(decision.from_state):
        payload["reason"] = reason
    event = append_case_event(
        session, case, actor=actor, at=case.updated_at, kind=MIGRATED,
        from_state=decision.from_state, to_state=decision.to_state, payload=payload,
    )  # fmt: skip
    if case.ministry != previous_ministry:
        _unassign(session, actor, loaded)
    flush_or_conflict(session)
    if decision.services and open_services is not None:
        open_services(loaded, decision.services, case.updated_at)
    return Moved(decision, event.seq)


def _move(
    session: Session, context: AppContext, loaded: LoadedCase, target: Definition, dest: StateSpec
) -> dict[str, Any]:
    """The row follows the target definition: pin, state, phase, lead ministry (and its unit),
    the step's due date; returns what the event records beyond the versions."""
    case, now = loaded.case, context.clock()
    extra: dict[str, Any] = {}
    previous_ministry = case.ministry
    case.workflow_version = target.version
    case.state, case.phase, case.ministry = dest.name, dest.phase, dest.ministry
    clock.retime_step(context, case, dest)
    if dest.ministry not in loaded.handled:
        session.add(CaseMinistry(case_id=case.id, ministry=dest.ministry, since=now))
        loaded.handled.add(dest.ministry)
    if dest.ministry != previous_ministry:  # like a transition: the step goes to a unit of it
        if case.transfer_to_unit_id is not None:  # a hand-over to the old ministry is void
            extra["_withdrawn_handover"] = routing.withdraw(session, context, loaded, now)
        current = units.by_id(session, case.unit_id)
        assert current is not None
        lead = routing.unit_for_step(session, case, current, dest, {}, None)
        routing.hand_over(session, context, loaded, lead, now)
        if case.transfer_to_unit_id is not None:
            extra["_handover"] = {"from_unit": current.code, "to_unit": lead.code}
    case.version += 1
    case.updated_at = now
    return extra


def _unassign(session: Session, actor: Principal, loaded: LoadedCase) -> None:
    """A case whose step now belongs to another ministry leaves its case worker, as on a
    hand-over by a transition (after the migration's event)."""
    case = loaded.case
    if case.assigned_to_id is None:
        return
    case.assigned_to_id, case.assigned_at = None, None
    append_case_event(
        session, case, actor=actor, at=case.updated_at, kind="unassigned",
        payload={"previous": loaded.assignee, "to_ministry": case.ministry,
                 "reason": "handed_over"},
    )  # fmt: skip
    loaded.assignee = None
