"""Service levels of one step: a warning, a breach, and escalations up the Task Force ladder.

A step entered at `entered` and due at `due` is *warned* once `warn_at` (the definition's
fraction, 0.75 for the NRM) of its wall-clock span has passed, *breached* at `due` (told to
the lead unit's supervisors), and *escalated* to the first rung of the definition's ladder (the
Task Force of the lead unit's district, say) once it has stayed overdue for the state's
`escalate_after`, then to each further rung after that rung's own period. Levels only rise
while the case stays in the step; entering a new step starts again at `ON_TRACK`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Literal

from workflows.calendar import Calendar
from workflows.model import Deadline, Definition, StateSpec

SlaLabel = Literal["on_track", "warning", "breached", "escalated"]


class SlaLevel(IntEnum):
    ON_TRACK = 0
    WARNED = 1
    BREACHED = 2
    ESCALATED = 3

    @property
    def label(self) -> SlaLabel:
        return _LABELS[self]


_LABELS: dict[SlaLevel, SlaLabel] = {
    SlaLevel.ON_TRACK: "on_track",
    SlaLevel.WARNED: "warning",
    SlaLevel.BREACHED: "breached",
    SlaLevel.ESCALATED: "escalated",
}
SLA_LABELS = tuple(_LABELS.values())


def label_of(stage: int) -> SlaLabel:
    """A stored stage (0 on track, 1 warned, 2 breached, 3 + n escalated to rung n) as a label."""
    return SlaLevel(min(stage, SlaLevel.ESCALATED)).label


@dataclass(frozen=True)
class Checkpoints:
    """The instants at which a step reaches each stage: a warning, the breach, then one per rung
    of the escalation ladder (none without `escalate_after`).

    A *stage* is what the case row stores in `sla_level`: 0 on track, 1 warned, 2 breached,
    3 + n escalated to the ladder's rung n. Stages only rise while the case stays in the step.
    """

    warn: datetime
    due: datetime
    escalations: tuple[datetime, ...]
    breaches: bool = True
    """False for a stay: its care-plan review falls due at `warn`, and nothing follows."""

    def at(self, stage: int) -> datetime | None:
        if stage <= SlaLevel.ON_TRACK:
            return None
        if stage == SlaLevel.WARNED:
            return self.warn
        if not self.breaches:
            return None
        if stage == SlaLevel.BREACHED:
            return self.due
        rung = stage - SlaLevel.ESCALATED
        return self.escalations[rung] if rung < len(self.escalations) else None

    def next_after(self, stage: int) -> datetime | None:
        """When the stage after `stage` is reached; None once nothing is left to record."""
        return self.at(stage + 1)

    def to_record(self, stage: int, now: datetime) -> list[int]:
        """The stages above `stage` reached by `now`, in order.

        A warning that the breach has already overtaken is not recorded: it would warn nobody.
        """
        reached = []
        higher = stage + 1
        while (at := self.at(higher)) is not None and at <= now:
            reached.append(higher)
            higher += 1
        if SlaLevel.WARNED in reached and SlaLevel.BREACHED in reached:
            reached.remove(SlaLevel.WARNED)
        return reached


def checkpoints(
    definition: Definition,
    state: StateSpec,
    entered: datetime,
    due: datetime,
    calendar: Calendar,
    escalate_after: Deadline | None = None,
) -> Checkpoints:
    """`escalate_after` overrides the state's (a hand-over waiting for acceptance has its own).

    A stay (a state with a care-plan `review` and no deadline) only warns, when the review
    falls due: a missed review is the lead unit's to catch up, not a breach of the stay."""
    if state.review is not None and escalate_after is None:
        return Checkpoints(warn=due, due=due, escalations=(), breaches=False)
    warn = entered + (due - entered) * definition.warn_at
    return Checkpoints(
        warn=warn,
        due=due,
        escalations=_ladder(definition, calendar, due, escalate_after or state.escalate_after),
    )


def start_checkpoints(
    definition: Definition, requested: datetime, start_due: datetime, calendar: Calendar
) -> Checkpoints:
    """A service request that must start by `start_due`: warned, breached at `start_due`, and
    escalated up the same ladder as a step (first the definition's `escalation.after` past
    the breach). Only the start has a clock; a started service has none."""
    warn = requested + (start_due - requested) * definition.warn_at
    escalations = _ladder(definition, calendar, start_due, definition.escalate_after)
    return Checkpoints(warn=warn, due=start_due, escalations=escalations)


def _ladder(
    definition: Definition, calendar: Calendar, due: datetime, first: Deadline | None
) -> tuple[datetime, ...]:
    escalations: list[datetime] = []
    if first is not None:
        escalations.append(calendar.due_at(due, first))
        for rung in definition.ladder[1:]:
            assert rung.after is not None  # the loader requires it above the first rung
            escalations.append(calendar.due_at(escalations[-1], rung.after))
    return tuple(escalations)
