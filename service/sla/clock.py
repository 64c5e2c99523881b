"""Service levels on the case row: the clock restarts whenever a case enters a state.

`sla_level` is what the sweep has recorded for the current step and `sla_next_at` when the
next level falls due, so the sweep finds its work by one index range and never records a
level twice. A terminal step has no deadline and so nothing to record.
"""

from __future__ import annotations

from datetime import datetime

from service.kit.context import AppContext
from service.models import CaseFile
from workflows import Checkpoints, SlaLevel, StateSpec, checkpoints


def step_checkpoints(context: AppContext, case: CaseFile) -> Checkpoints | None:
    if case.due_at is None:
        return None
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    state = definition.state(case.state)
    return checkpoints(definition, state, case.state_entered_at, case.due_at, context.calendar)


def enter_step(context: AppContext, case: CaseFile, state: StateSpec, now: datetime) -> None:
    """The case enters `state` at `now`: its deadline and service level start again."""
    case.state_entered_at = now
    case.due_at = context.calendar.due_at(now, state.deadline) if state.deadline else None
    _start_clock(context, case)


def _start_clock(context: AppContext, case: CaseFile) -> None:
    points = step_checkpoints(context, case)
    case.sla_level = SlaLevel.ON_TRACK
    case.sla_next_at = points.next_after(SlaLevel.ON_TRACK) if points else None
