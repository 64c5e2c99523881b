"""The SLA sweep: records due warnings, breaches and escalations as events on each case's chain.

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
from service.models import CaseFile
from service.sla import repository as repo
from service.sla.clock import step_checkpoints
from workflows import SlaLevel

log = logging.getLogger("nrm.sla")
EVENT_KINDS = {
    SlaLevel.WARNED: "sla_warning",
    SlaLevel.BREACHED: "sla_breach",
    SlaLevel.ESCALATED: "escalated",
}


@dataclass
class SweepReport:
    cases: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    skipped: int = 0

    def add(self, other: SweepReport) -> None:
        for name in ("cases", "warnings", "breaches", "escalations", "skipped"):
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
            f"{_count(self.escalations, 'escalation')} to the Task Force, {self.skipped} skipped"
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
                for case in repo.sla_due(session, now, after, size):
                    ids.append(case.id)
                    assert case.sla_next_at is not None
                    after = (case.sla_next_at, case.id)
                    _record(session, context, case, now, done)
                flush_or_conflict(session)
            report.add(done)
        except Conflict:  # another writer moved the case meanwhile
            _one_by_one(context, ids, now, report)
        if len(ids) < size:
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
                    _record(session, context, case, now, done)
                flush_or_conflict(session)
            report.add(done)
        except Conflict:  # another writer moved the case meanwhile
            report.skipped += 1


def _record(
    session: Session, context: AppContext, case: CaseFile, now: datetime, report: SweepReport
) -> None:
    """Append one event per level reached and move the case's SLA columns past them."""
    points = step_checkpoints(context, case)
    if points is None:  # unreachable: entering a terminal state clears `sla_next_at`
        report.skipped += 1
        return
    levels = points.to_record(SlaLevel(case.sla_level), now)
    for level in levels:
        append_case_event(
            session, case, actor=SYSTEM, at=now, kind=EVENT_KINDS[level],
            payload=_payload(context, case, level, points.at(level)),
        )  # fmt: skip
        case.sla_level = level
        report.count(level)
    case.sla_next_at = points.next_after(SlaLevel(case.sla_level))
    report.cases += 1


def _payload(
    context: AppContext, case: CaseFile, level: SlaLevel, reached_at: datetime | None
) -> dict[str, Any]:
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    notify: dict[str, Any] = {"ministry": case.ministry, "role": Role.SUPERVISOR}
    if level is SlaLevel.ESCALATED:
        notify = {"ministry": definition.escalate_to}
    elif level is SlaLevel.WARNED:
        notify = {"ministry": case.ministry}
    return {
        "level": level.label,
        "state": case.state,
        "ministry": case.ministry,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "reached_at": reached_at.isoformat() if reached_at else None,
        "notify": notify,
    }


def run_job(context: AppContext) -> SweepReport:
    report = sweep(context)
    if report.cases or report.skipped:
        log.info("SLA sweep: %s", report)
    return report
