"""The workflow definition as immutable values: what the loader builds and everything else reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

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
# The services a victim may receive beside the main pathway (PP 9/2008; UU 21/2007 Art. 51-52).
SERVICE_KINDS: tuple[str, ...] = (
    "health", "psychosocial", "shelter", "social_rehabilitation", "legal_aid", "lpsk_protection",
    "restitution", "family_tracing", "education_vocational", "economic_reintegration",
)  # fmt: skip
# UU 27/2022 (PDP) Art. 20(2): the lawful bases of processing personal data. `consent` is (a);
# the others are the ones a step of the NRM may rest on without the victim's consent.
LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interest",
    "public_task",
    "legitimate_interest",
]
LAWFUL_BASES: tuple[LawfulBasis, ...] = get_args(LawfulBasis)


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
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit.removesuffix('s') if self.amount == 1 else unit}"


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
    review: Deadline | None = None
    """A stay (a shelter, protection abroad, reintegration): no due date, a care plan reviewed
    every `review` instead. A missed review warns the lead unit; it is never a breach."""

    @property
    def clock(self) -> Deadline | None:
        """What the step's `due_at` counts: its deadline, or the next care-plan review."""
        return self.deadline or self.review


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
    lawful_basis: LawfulBasis | None = None
    """The basis (UU 27/2022 Art. 20(2)) of a step that processes data without consent."""
    care_plan_review: bool = False
    """The row records a review of the care plan: the next review falls due from now."""


@dataclass(frozen=True)
class Emergency:
    """A shorter start for an urgent request of a service, and the basis it may rest on."""

    start_within: Deadline
    legal_basis: str
    lawful_basis: LawfulBasis


@dataclass(frozen=True)
class ServiceSpec:
    """A service that runs beside the main pathway, owned by one ministry: it must START
    within `start_within` of the request (UU 21/2007 Art. 52(1)); how long it lasts is not
    a deadline. `lawful_bases`: the bases other than consent a request may rest on."""

    kind: str
    ministry: str
    label: Label
    start_within: Deadline
    legal_basis: str
    lawful_bases: tuple[LawfulBasis, ...] = ()
    emergency: Emergency | None = None


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
    services: Mapping[str, ServiceSpec] = field(default_factory=dict)
    escalate_after: Deadline | None = None
    """`escalation.after`: how long past a breach the first rung of the ladder is told."""
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
