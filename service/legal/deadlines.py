"""The LPSK decision deadline as a periodic job: an application still undecided after its
last day (UU 13/2006 Art. 29) is recorded once as a `lpsk_deadline_breach` event on the case's
stream. It is a job of its own, not a stage of the SLA sweep: that sweep follows the case's
workflow step, and the legal track never holds one up.

Idempotent and safe beside itself: a row is recorded once (`lpsk_breach_at`), PostgreSQL
sweepers skip rows another holds, and a race on a case loses the case's compare-and-set and
is taken up on the next run.
"""

from __future__ import annotations

import logging

from schemas.common import WIB
from service.audit.log import append_case_event
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import Conflict
from service.kit.principal import SYSTEM
from service.legal import repository as repo
from service.models import CaseFile
from workflows.legal import LPSK_DECISION_BASIS

log = logging.getLogger("nrm.legal")
BATCH = 200


def record_lpsk_breaches(context: AppContext) -> int:
    """Record every application past its deadline not recorded yet; how many were recorded."""
    recorded = 0
    while True:
        with context.database.transaction() as session:
            now = context.clock()
            tracks = repo.lpsk_breaches_due(session, now.astimezone(WIB).date(), BATCH)
            for track in tracks:
                case = session.get(CaseFile, track.case_id)
                assert case is not None and track.lpsk_due_on is not None
                append_case_event(
                    session, case, actor=SYSTEM, at=now, kind="lpsk_deadline_breach",
                    payload={"applied_on": str(track.lpsk_applied_on),
                             "decision_due_on": track.lpsk_due_on.isoformat(),
                             "legal_basis": LPSK_DECISION_BASIS},
                )  # fmt: skip
                track.lpsk_breach_at = now
            try:
                flush_or_conflict(session)
            except Conflict:
                log.info("lpsk deadlines: a case changed meanwhile; the next run records it")
                raise
        recorded += len(tracks)
        if len(tracks) < BATCH:
            return recorded


def run_job(context: AppContext) -> int:
    try:
        return record_lpsk_breaches(context)
    except Conflict:
        return 0
