"""The published workflow definition, as the contract shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.common import LabelRead, StrictModel, examples


class DeadlineRead(BaseModel):
    amount: int
    unit: str


class StateRead(BaseModel):
    name: str
    phase: str
    ministry: str
    supporting: list[str]
    terminal: bool
    deadline: DeadlineRead | None
    escalate_after: DeadlineRead | None
    legal_basis: str
    label: LabelRead
    review: DeadlineRead | None = Field(
        default=None,
        description="a stay: its care plan is reviewed this often (a missed review warns, it "
        "never breaches); such a state has no deadline",
    )


class RungRead(BaseModel):
    level: str = Field(description="district, province or national: whose Task Force")
    after: DeadlineRead | None = Field(
        description="how long after the rung below; the first rung: the state's escalate_after "
        "past the breach"
    )


class EscalationRead(BaseModel):
    to: str = Field(description="the ministry code of the Task Force")
    ladder: list[RungRead]


class TransitionRead(BaseModel):
    trigger: str
    source: str
    dest: str
    ministries: list[str]
    payload_schema: dict[str, Any]
    guards: list[str]
    sensitive: bool
    consent: str | None
    track: str | None
    closes_with: list[str]
    label: LabelRead
    lawful_basis: str | None = Field(
        default=None,
        description="the basis (UU 27/2022 Art. 20(2)) of a step that processes data without "
        "consent: vital_interest, legal_obligation, public_task, ...",
    )
    care_plan_review: bool = False


class EmergencyRead(BaseModel):
    start_within: DeadlineRead
    legal_basis: str
    lawful_basis: str


class ServiceKindRead(BaseModel):
    """A kind of service that runs beside the pathway: its owner and the time it has to start."""

    kind: str
    ministry: str
    label: LabelRead
    start_within: DeadlineRead
    legal_basis: str
    lawful_bases: list[str]
    emergency: EmergencyRead | None


class WorkflowSummary(BaseModel):
    name: str
    version: int
    title: LabelRead
    checksum: str
    published_at: datetime
    current: bool


class WorkflowRead(BaseModel):
    name: str
    version: int
    title: LabelRead
    checksum: str
    initial: str
    ministries: dict[str, LabelRead]
    escalation: EscalationRead
    states: list[StateRead]
    transitions: list[TransitionRead]
    services: list[ServiceKindRead] = Field(
        default_factory=list, description="service requests that run beside the pathway (v3 on)"
    )


# --- migrating running cases between versions (service/workflow/migrations.py) ---

MigrationOutcome = Literal["would_move", "moved", "refused", "skipped"]


class MigrationRequest(StrictModel):
    model_config = examples(
        {"mapping": {"from": {"name": "nrm-indonesia", "version": 1},
                     "to": {"name": "nrm-indonesia", "version": 2},
                     "states": {"referred": "referred", "screening": "screening"}},
         "dry_run": True},
    )  # fmt: skip

    mapping: dict[str, Any] = Field(
        description="the reviewed mapping file as an object: from, to, states, reasons"
    )
    dry_run: bool = Field(default=True, description="only say what would move (the default)")
    checksum: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="the dry run's mapping checksum; required to apply",
    )
    cases: list[uuid.UUID] | None = Field(
        default=None, max_length=1000, description="only these cases (default: every case)"
    )


class CaseMigrationRead(BaseModel):
    case_id: str
    reference: str
    from_state: str
    to_state: str | None
    outcome: MigrationOutcome
    code: str | None = Field(
        default=None, description="why it stays: unmapped, terminal, approval_pending, "
        "changed (concurrently), not_on_source"
    )  # fmt: skip
    reason: str | None = None
    services: list[str] = Field(default_factory=list)
    event_seq: int | None = None


class MigrationRead(BaseModel):
    workflow: str
    from_version: int
    to_version: int
    checksum: str = Field(description="the mapping's checksum: give it back to apply")
    dry_run: bool
    counts: dict[str, int] = Field(description="cases per outcome")
    cases: list[CaseMigrationRead]
