"""Service levels on the case row: the clock restarts whenever a case enters a state, and
whenever a hand-over starts to wait for the receiving unit.

`sla_level` is the stage the sweep has recorded for what the case waits on (0 on track, 1
warned, 2 breached, 3 + n escalated to the ladder's rung n) and `sla_next_at` when the next
stage falls due, so the sweep finds its work by one index range and never records a stage
twice. A terminal step has no deadline and so nothing to record.

While a hand-over waits, the case waits on the receiving unit, not on the step: the service
level is the hand-over's (due TRANSFER_DEADLINE after it started, escalated
TRANSFER_ESCALATE_AFTER past that), and it warns, breaches and escalates like any step.
`due_at` still says when the step is due. Acceptance starts the step's clock again for the
receiver; a refusal starts it again for the sender, who must send the case on.
"""

from __future__ import annotations

from datetime import datetime

from service.kit.context import AppContext
from service.models import CaseFile
from workflows import Checkpoints, Deadline, SlaLevel, StateSpec, checkpoints

# Design choices: a receiving office reads its incoming list every working day, so a hand-over
# is due within one business day, and goes up the Task Force ladder one business day later.
TRANSFER_DEADLINE = Deadline(amount=1, unit="business_days")
TRANSFER_ESCALATE_AFTER = Deadline(amount=1, unit="business_days")


def step_checkpoints(context: AppContext, case: CaseFile) -> Checkpoints | None:
    if case.due_at is None:
        return None
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    state = definition.state(case.state)
    if case.transfer_at is not None and case.transfer_due_at is not None:
        return checkpoints(
            definition, state, case.transfer_at, case.transfer_due_at, context.calendar,
            TRANSFER_ESCALATE_AFTER,
        )  # fmt: skip
    return checkpoints(definition, state, case.state_entered_at, case.due_at, context.calendar)


def enter_step(context: AppContext, case: CaseFile, state: StateSpec, now: datetime) -> None:
    """The case enters `state` at `now` (or its lead unit takes it): the step's deadline and
    service level start again."""
    case.state_entered_at = now
    case.due_at = context.calendar.due_at(now, state.clock) if state.clock else None
    _start_clock(context, case)


def retime_step(context: AppContext, case: CaseFile, state: StateSpec) -> None:
    """The case now runs on another definition version (a workflow migration): the step keeps
    the instant it began, its due date and checkpoints are the new definition's, and the stages
    already recorded are not recorded again (stages only rise within a step)."""
    clock = state.clock
    case.due_at = context.calendar.due_at(case.state_entered_at, clock) if clock else None
    points = step_checkpoints(context, case)
    case.sla_next_at = points.next_after(case.sla_level) if points else None


def review_care_plan(context: AppContext, case: CaseFile, state: StateSpec, now: datetime) -> None:
    """A stay's care plan was reviewed at `now`: the next review falls due from now (the stay
    itself goes on; when it was entered does not change)."""
    assert state.review is not None
    case.due_at = context.calendar.due_at(now, state.review)
    if case.transfer_to_unit_id is None:  # a waiting hand-over keeps its own clock
        _start_clock(context, case)


def enter_transfer(context: AppContext, case: CaseFile, now: datetime) -> None:
    """A hand-over starts to wait for the receiving unit (`transfer_to_unit_id` is set)."""
    case.transfer_at = now
    case.transfer_due_at = context.calendar.due_at(now, TRANSFER_DEADLINE)
    _start_clock(context, case)


def end_transfer(context: AppContext, case: CaseFile, state: StateSpec, now: datetime) -> None:
    """The hand-over was accepted (the receiver leads) or withdrawn (the sender keeps the step
    and must send it on): either way the step's clock starts again from now."""
    case.transfer_to_unit_id = case.transfer_at = case.transfer_due_at = None
    enter_step(context, case, state, now)


def _start_clock(context: AppContext, case: CaseFile) -> None:
    points = step_checkpoints(context, case)
    case.sla_level = SlaLevel.ON_TRACK
    case.sla_next_at = points.next_after(SlaLevel.ON_TRACK) if points else None
