"""The workflow definition as immutable values: what the loader builds and everything else reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Phase = Literal["identification", "rehabilitation", "repatriation", "reintegration", "closure"]
PHASES: tuple[Phase, ...] = (
    "identification",
    "rehabilitation",
    "repatriation",
    "reintegration",
    "closure",
)
DeadlineUnit = Literal["minutes", "hours", "days", "business_days"]
ConsentEffect = Literal["record", "withdraw"]
EscalationLevel = Literal["district", "province", "national"]
ESCALATION_LEVELS: tuple[EscalationLevel, ...] = ("district", "province", "national")


@dataclass(frozen=True)
class Label:
    id: str
    en: str


@dataclass(frozen=True)
class Deadline:
    """How long a step may take: calendar time, or Indonesian business days (WIB)."""

    amount: int
    unit: DeadlineUnit

    def describe(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class Rung:
    """One level of the escalation ladder: the Task Force of the lead unit's district, of its
    province, or the national one. The first rung is reached the state's `escalate_after` past
    the breach; each later rung `after` the rung before it."""

    level: EscalationLevel
    after: Deadline | None


@dataclass(frozen=True)
class StateSpec:
    name: str
    phase: Phase
    ministry: str
    supporting: tuple[str, ...]
    label: Label
    legal_basis: str
    deadline: Deadline | None
    escalate_after: Deadline | None
    terminal: bool


@dataclass(frozen=True)
class TransitionSpec:
    """One row per (trigger, source): the unit the contract publishes and the engine fires."""

    trigger: str
    source: str
    dest: str
    ministries: tuple[str, ...]
    payload_schema: Mapping[str, Any]
    guards: tuple[str, ...]
    label: Label
    sensitive: bool
    consent: ConsentEffect | None
    track: Literal["legal"] | None = None
    closes_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    title: Label
    initial: str
    ministries: Mapping[str, Label]
    states: Mapping[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    warn_at: float
    escalate_to: str
    ladder: tuple[Rung, ...]
    checksum: str
    source: Mapping[str, Any] = field(repr=False, compare=False)
    _by_key: dict[tuple[str, str], TransitionSpec] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_source: dict[str, tuple[TransitionSpec, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._by_key.update({(t.trigger, t.source): t for t in self.transitions})
        for name in self.states:
            self._by_source[name] = tuple(t for t in self.transitions if t.source == name)

    def state(self, name: str) -> StateSpec:
        return self.states[name]

    def transition(self, trigger: str, source: str) -> TransitionSpec | None:
        return self._by_key.get((trigger, source))

    def exits(self, source: str) -> tuple[TransitionSpec, ...]:
        return self._by_source.get(source, ())

    def supporting_states(self, ministry: str) -> frozenset[str]:
        """States in which `ministry` supports (and so may watch) the case."""
        return frozenset(s.name for s in self.states.values() if ministry in s.supporting)
