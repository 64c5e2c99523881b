"""The SLA sweep: records due warnings, breaches and escalations as events on each case's chain.

An escalation climbs the definition's ladder: the Task Force of the lead unit's district, then
of its province, then the national one (units.task_force picks each; a rung with no Task Force
unit passes to the one above, and a Task Force the step already reached is not told twice).
Each Task Force unit reached gets a `case_escalation` row: what it may see, read-only.

It runs as `nrm sla sweep` (cron) and every `NRM_SLA_SWEEP_SECONDS` inside `nrm serve`, in
every worker. Candidates come by one index range (`sla_next_at <= now`), in batches, each batch
its own transaction so that a long sweep never holds many locks for long. Each level is
recorded once however many sweepers run: on PostgreSQL a sweeper skips rows another one has
locked (`FOR UPDATE SKIP LOCKED`) and re-reads `sla_next_at` after the other commits; on SQLite
writers are serialised; and any write that still races loses the row's compare-and-set
(`event_count`) and is skipped. Terminal cases have no `sla_next_at` and are never read.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from schemas.auth import Role
from service.audit.log import append_case_event
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Conflict
from service.kit.principal import SYSTEM
from service.models import CaseEscalation, CaseFile, ServiceRequest, Unit
from service.sla import repository as repo
from service.sla.clock import step_checkpoints
from service.units import service as units
from workflows import SlaLevel
from workflows.sla import start_checkpoints

log = logging.getLogger("nrm.sla")
EVENT_KINDS = {
    SlaLevel.WARNED: "sla_warning",
    SlaLevel.BREACHED: "sla_breach",
    SlaLevel.ESCALATED: "escalated",
}


SERVICE_EVENT_KINDS = {
    SlaLevel.WARNED: "service_sla_warning",
    SlaLevel.BREACHED: "service_sla_breach",
    SlaLevel.ESCALATED: "service_escalated",
}


@dataclass
class SweepReport:
    """What a sweep recorded. `services` counts the service requests whose start clock it
    moved; their warnings, breaches and escalations count with the steps'."""

    cases: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    skipped: int = 0
    services: int = 0

    def add(self, other: SweepReport) -> None:
        for name in ("cases", "warnings", "breaches", "escalations", "skipped", "services"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count(self, level: SlaLevel) -> None:
        if level is SlaLevel.WARNED:
            self.warnings += 1
        elif level is SlaLevel.BREACHED:
            self.breaches += 1
        else:
            self.escalations += 1

    def __str__(self) -> str:
        return (
            f"{_count(self.cases, 'case')}: {_count(self.warnings, 'warning')}, "
            f"{_count(self.breaches, 'breach', 'breaches')}, "
            f"{_count(self.escalations, 'escalation')} to a Task Force, {self.skipped} skipped"
            + (f"; {_count(self.services, 'service request')}" if self.services else "")
        )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def sweep(context: AppContext, batch_size: int | None = None) -> SweepReport:
    """Record every SLA level due by now; safe to run again, or concurrently, at any time."""
    now = context.clock()
    size = batch_size or context.settings.sla_sweep_batch
    report = SweepReport()
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        ids: list[uuid.UUID] = []
        done = SweepReport()
        try:
            with context.database.transaction() as session:
                cases = repo.sla_due(session, now, after, size)
                batch = _Batch(session, [case.id for case in cases])
                with session.no_autoflush:  # what the loop reads, the batch does not write
                    for case in cases:
                        ids.append(case.id)
                        assert case.sla_next_at is not None
                        after = (case.sla_next_at, case.id)
                        _record(batch, context, case, now, done)
                flush_or_conflict(session)
            report.add(done)
        except Conflict:  # another writer moved the case meanwhile
            _one_by_one(context, ids, now, report)
        if len(ids) < size:
            break
    _sweep_services(context, now, size, report)
    return report


def _one_by_one(
    context: AppContext, ids: list[uuid.UUID], now: datetime, report: SweepReport
) -> None:
    for case_id in ids:
        done = SweepReport()
        try:
            with context.database.transaction() as session:
                case = repo.sla_due_case(session, case_id, now)
                if case is not None:
                    _record(_Batch(session, [case_id]), context, case, now, done)
                flush_or_conflict(session)
            report.add(done)
        except Conflict:  # another writer moved the case meanwhile
            report.skipped += 1


class _Batch:
    """What one transaction of the sweep consults, each read once for all its cases: the units
    (by id, and each rung's Task Force) and the Task Forces its cases have reached. So the
    loop over the cases sends no query, and their events are inserted together by the one
    flush at the end (a query per case flushed the batch's pending rows case by case, and
    cost two thirds of the sweep's time)."""

    def __init__(self, session: Session, case_ids: list[uuid.UUID]) -> None:
        self.session = session
        self.units = units.Lookup(session)
        self.reached = repo.escalations_of(session, case_ids)


def _record(
    batch: _Batch, context: AppContext, case: CaseFile, now: datetime, report: SweepReport
) -> None:
    """Append one event per stage reached and move the case's SLA columns past them."""
    points = step_checkpoints(context, case)
    if points is None:  # unreachable: entering a terminal state clears `sla_next_at`
        report.skipped += 1
        return
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    lead = batch.units.by_id(case.unit_id)
    for stage in points.to_record(case.sla_level, now):
        level = SlaLevel(min(stage, SlaLevel.ESCALATED))
        payload = _payload(batch, case, lead, stage, points.at(stage))
        if not points.breaches:  # a stay: its care plan's review is due, nothing is late
            payload["care_plan_review"] = True
        if level is SlaLevel.ESCALATED:
            rung = definition.ladder[stage - SlaLevel.ESCALATED]
            target = batch.units.task_force(definition.escalate_to, rung.level, lead)
            payload["notify"] = {"ministry": definition.escalate_to, "rung": rung.level}
            if not _escalate(batch, case, target, rung.level, now, payload):
                case.sla_level = stage  # that Task Force already has it: nobody new to tell
                continue
        append_case_event(
            batch.session, case, actor=SYSTEM, at=now, kind=EVENT_KINDS[level], payload=payload
        )
        case.sla_level = stage
        report.count(level)
    case.sla_next_at = points.next_after(case.sla_level)
    report.cases += 1


def _sweep_services(context: AppContext, now: datetime, size: int, report: SweepReport) -> None:
    """Service requests not started in time: one event per stage on the case's chain. A batch
    that loses a race to a writer of one of its cases is left for the next sweep."""
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        count = 0
        done = SweepReport()
        try:
            with context.database.transaction() as session:
                requests = repo.service_sla_due(session, now, after, size)
                cases = repo.cases_by_id(session, {request.case_id for request in requests})
                lookup = units.Lookup(session)
                with session.no_autoflush:  # what the loop reads, the batch does not write
                    for request in requests:
                        count += 1
                        assert request.sla_next_at is not None
                        after = (request.sla_next_at, request.id)
                        _record_service(session, context, cases[request.case_id], lookup,
                                        request, now, done)  # fmt: skip
                flush_or_conflict(session)
            report.add(done)
        except Conflict:
            report.skipped += count
        if count < size:
            return


def _record_service(
    session: Session,
    context: AppContext,
    case: CaseFile,
    lookup: units.Lookup,
    request: ServiceRequest,
    now: datetime,
    report: SweepReport,
) -> None:
    if case.due_at is None:  # the case closed with the request still open: nobody to chase
        request.sla_next_at = None
        report.skipped += 1
        return
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    points = start_checkpoints(
        definition, request.requested_at, request.start_due_at, context.calendar
    )
    owner = lookup.by_id(request.unit_id)
    for stage in points.to_record(request.sla_level, now):
        level = SlaLevel(min(stage, SlaLevel.ESCALATED))
        notify: dict[str, Any] = {"ministry": request.ministry}
        if owner is not None:
            notify["unit"] = owner.code
        if level is SlaLevel.BREACHED:
            notify["role"] = Role.SUPERVISOR
        if level is SlaLevel.ESCALATED:
            rung = definition.ladder[stage - SlaLevel.ESCALATED]
            target = lookup.task_force(definition.escalate_to, rung.level, owner)
            if target is not None and target.id == request.escalated_unit_id:
                request.sla_level = stage  # that Task Force already has it: nobody new to tell
                continue
            notify = {"ministry": definition.escalate_to, "rung": rung.level}
            if target is not None:
                request.escalated_unit_id = target.id
                notify.update(ministry=target.ministry, unit=target.code)
        reached = points.at(stage)
        payload: dict[str, Any] = {
            "service_request": request.id.hex, "kind": request.kind, "level": level.label,
            "ministry": request.ministry, "unit": owner.code if owner else None,
            "start_due_at": request.start_due_at.isoformat(),
            "reached_at": reached.isoformat() if reached else None, "notify": notify,
        }  # fmt: skip
        append_case_event(
            session, case, actor=SYSTEM, at=now, kind=SERVICE_EVENT_KINDS[level], payload=payload
        )
        request.sla_level = stage
        report.count(level)
    request.sla_next_at = points.next_after(request.sla_level)
    report.services += 1


def _escalate(
    batch: _Batch,
    case: CaseFile,
    target: Unit | None,
    rung: str,
    now: datetime,
    payload: dict[str, Any],
) -> bool:
    """Open the case to the Task Force unit of this rung; False if this step already reached
    it (a lower rung fell through to it: a mission abroad has no district Task Force)."""
    if target is None:  # no Task Force unit at all: the ministry as a whole is told
        return True
    assert target.id is not None
    reached = batch.reached.get((case.id, target.id))
    if reached is not None and reached.reached_at >= case.state_entered_at:
        return False
    if reached is None:
        reached = CaseEscalation(case_id=case.id, unit_id=target.id, level=rung, reached_at=now)
        batch.session.add(reached)
        batch.reached[(case.id, target.id)] = reached
    else:  # it reached this Task Force in an earlier step
        reached.level, reached.reached_at = rung, now
    payload["notify"] = {"ministry": target.ministry, "unit": target.code, "rung": rung}
    return True


def _payload(
    batch: _Batch, case: CaseFile, lead: Unit | None, stage: int, reached_at: datetime | None
) -> dict[str, Any]:
    """What the event says; a late hand-over is told to the unit it waits for."""
    level = SlaLevel(min(stage, SlaLevel.ESCALATED))
    receiver = batch.units.by_id(case.transfer_to_unit_id)
    waits_on = receiver or lead
    notify: dict[str, Any] = {"ministry": case.ministry}
    if level is SlaLevel.BREACHED:
        notify["role"] = Role.SUPERVISOR
    if waits_on is not None:
        notify["unit"] = waits_on.code
    payload: dict[str, Any] = {
        "level": level.label,
        "state": case.state,
        "ministry": case.ministry,
        "unit": lead.code if lead is not None else None,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "reached_at": reached_at.isoformat() if reached_at else None,
        "notify": notify,
    }
    if receiver is not None:  # the hand-over is late, not the step
        payload["transfer_to"] = receiver.code
        payload["transfer_due_at"] = (
            case.transfer_due_at.isoformat() if case.transfer_due_at else None
        )
    return payload


def run_job(context: AppContext) -> SweepReport:
    report = sweep(context)
    if report.cases or report.skipped:
        log.info("SLA sweep: %s", report)
    return report
