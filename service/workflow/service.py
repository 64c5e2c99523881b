"""Reading published workflow definitions, and drawing them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from schemas.common import LabelRead
from schemas.workflow import (
    DeadlineRead,
    EmergencyRead,
    EscalationRead,
    RungRead,
    ServiceKindRead,
    StateRead,
    TransitionRead,
    WorkflowRead,
    WorkflowSummary,
)
from service.cases.service import readable, visited_states
from service.kit.context import AppContext
from service.kit.errors import NotFound
from service.kit.principal import Principal
from service.models import WorkflowDefinitionRow
from workflows import PHASES, Deadline, Definition, Label, StateSpec, mermaid
from workflows.model import ServiceSpec


def list_workflows(session: Session, context: AppContext) -> list[WorkflowSummary]:
    rows = session.exec(
        select(WorkflowDefinitionRow).order_by(
            col(WorkflowDefinitionRow.name), col(WorkflowDefinitionRow.version)
        )
    )
    latest: dict[str, int] = {}
    for name, version in context.registry.engines:
        latest[name] = max(latest.get(name, 0), version)
    return [
        WorkflowSummary(
            name=row.name,
            version=row.version,
            title=_label(context.registry.engine(row.name, row.version).definition.title),
            checksum=row.checksum,
            published_at=row.published_at,
            current=latest.get(row.name) == row.version,
        )
        for row in rows
    ]


def get_workflow(context: AppContext, name: str, version: int | None = None) -> WorkflowRead:
    return describe(_definition(context, name, version))


def draw(
    session: Session,
    context: AppContext,
    principal: Principal,
    name: str,
    case_id: str | None = None,
    version: int | None = None,
) -> str:
    """Mermaid text; with a case, drawn at the case's own version with its state marked."""
    if case_id is None:
        return mermaid(_definition(context, name, version))
    case = readable(session, context, principal, case_id).case
    if case.workflow_name != name:
        raise NotFound("case not found")
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    return mermaid(definition, current=case.state)


@dataclass(frozen=True)
class CaseMap:
    """Where a case stands in its workflow: each phase's states, the current one, those it
    passed through and those it may go to next (the page draws it without a 3 MB script)."""

    phases: list[tuple[str, list[StateSpec]]]
    current: str
    visited: frozenset[str]
    reachable: frozenset[str]


def case_map(session: Session, context: AppContext, principal: Principal, case_id: str) -> CaseMap:
    case = readable(session, context, principal, case_id).case
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    visited = visited_states(session, context, principal, case_id)
    return CaseMap(
        phases=[
            (phase, [s for s in definition.states.values() if s.phase == phase]) for phase in PHASES
        ],
        current=case.state,
        visited=frozenset(visited - {case.state}),
        reachable=frozenset(row.dest for row in definition.exits(case.state)) - {case.state},
    )


def describe(definition: Definition) -> WorkflowRead:
    return WorkflowRead(
        name=definition.name,
        version=definition.version,
        title=_label(definition.title),
        checksum=definition.checksum,
        initial=definition.initial,
        ministries={code: _label(label) for code, label in definition.ministries.items()},
        escalation=EscalationRead(
            to=definition.escalate_to,
            ladder=[RungRead(level=r.level, after=_deadline(r.after)) for r in definition.ladder],
        ),
        states=[
            StateRead(
                name=s.name,
                phase=s.phase,
                ministry=s.ministry,
                supporting=list(s.supporting),
                terminal=s.terminal,
                deadline=_deadline(s.deadline),
                escalate_after=_deadline(s.escalate_after),
                legal_basis=s.legal_basis,
                label=_label(s.label),
                review=_deadline(s.review),
            )
            for s in definition.states.values()
        ],
        transitions=[
            TransitionRead(
                trigger=t.trigger,
                source=t.source,
                dest=t.dest,
                ministries=list(t.ministries),
                payload_schema=dict(t.payload_schema),
                guards=list(t.guards),
                sensitive=t.sensitive,
                consent=t.consent,
                track=t.track,
                closes_with=list(t.closes_with),
                label=_label(t.label),
                lawful_basis=t.lawful_basis,
                care_plan_review=t.care_plan_review,
            )
            for t in definition.transitions
        ],
        services=[_service(spec) for spec in definition.services.values()],
    )


def _service(spec: ServiceSpec) -> ServiceKindRead:
    start = _deadline(spec.start_within)
    assert start is not None
    emergency = None
    if spec.emergency is not None:
        urgent = _deadline(spec.emergency.start_within)
        assert urgent is not None
        emergency = EmergencyRead(
            start_within=urgent,
            legal_basis=spec.emergency.legal_basis,
            lawful_basis=spec.emergency.lawful_basis,
        )
    return ServiceKindRead(
        kind=spec.kind,
        ministry=spec.ministry,
        label=_label(spec.label),
        start_within=start,
        legal_basis=spec.legal_basis,
        lawful_bases=list(spec.lawful_bases),
        emergency=emergency,
    )


def _definition(context: AppContext, name: str, version: int | None) -> Definition:
    engine = (
        context.registry.latest(name)
        if version is None
        else context.registry.engines.get((name, version))
    )
    if engine is None:
        raise NotFound(f"no published workflow {name!r}" + (f" v{version}" if version else ""))
    return engine.definition


def _label(label: Label) -> LabelRead:
    return LabelRead(id=label.id, en=label.en)


def _deadline(deadline: Deadline | None) -> DeadlineRead | None:
    return DeadlineRead(amount=deadline.amount, unit=deadline.unit) if deadline else None
