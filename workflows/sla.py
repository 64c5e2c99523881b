"""Service levels of one step: a warning, a breach, and an escalation to the national Task Force.

A step entered at `entered` and due at `due` is *warned* once `warn_at` (the definition's
fraction, 0.75 for the NRM) of its wall-clock span has passed, *breached* at `due` (escalated
to the lead ministry's supervisors), and *escalated* to the definition's `escalation.to` once
it has stayed overdue for the state's `escalate_after`. Levels only rise while the case stays
in the step; entering a new step starts again at `ON_TRACK`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Literal

from workflows.calendar import Calendar
from workflows.model import Definition, StateSpec

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


@dataclass(frozen=True)
class Checkpoints:
    """The instants at which a step reaches each level (no escalation without `escalate_after`)."""

    warn: datetime
    due: datetime
    escalate: datetime | None

    def at(self, level: SlaLevel) -> datetime | None:
        return {
            SlaLevel.ON_TRACK: None,
            SlaLevel.WARNED: self.warn,
            SlaLevel.BREACHED: self.due,
            SlaLevel.ESCALATED: self.escalate,
        }[level]

    def next_after(self, level: SlaLevel) -> datetime | None:
        """When the level after `level` is reached; None once nothing is left to record."""
        if level is SlaLevel.ESCALATED:
            return None
        return self.at(SlaLevel(level + 1))

    def to_record(self, level: SlaLevel, now: datetime) -> list[SlaLevel]:
        """The levels above `level` reached by `now`, in order.

        A warning that the breach has already overtaken is not recorded: it would warn nobody.
        """
        reached = [
            higher
            for higher in SlaLevel
            if higher > level and (at := self.at(higher)) is not None and at <= now
        ]
        if SlaLevel.WARNED in reached and SlaLevel.BREACHED in reached:
            reached.remove(SlaLevel.WARNED)
        return reached


def checkpoints(
    definition: Definition,
    state: StateSpec,
    entered: datetime,
    due: datetime,
    calendar: Calendar,
) -> Checkpoints:
    warn = entered + (due - entered) * definition.warn_at
    escalate = calendar.due_at(due, state.escalate_after) if state.escalate_after else None
    return Checkpoints(warn=warn, due=due, escalate=escalate)
