"""Every periodic job of `nrm serve`, in one list: what runs, how often.

Every worker process runs every job; each job is therefore idempotent and safe to run
concurrently (two servers sweeping at once record each effect once).
"""

from __future__ import annotations

from service.audit import checkpoints
from service.auth import service as auth
from service.cases import erasure
from service.kit.periodic import PeriodicJob
from service.sla import sweep

POLL_LOGIN_FAILURES_SECONDS = 900.0
RETENTION_SECONDS = 3600.0

JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        name="sla_sweep",
        interval_seconds=lambda context: context.settings.sla_sweep_seconds,
        run=sweep.run_job,
    ),
    PeriodicJob(
        name="audit_checkpoint",
        interval_seconds=lambda context: min(
            context.settings.checkpoint_seconds, checkpoints.POLL_SECONDS
        ),
        run=checkpoints.run_job,
    ),
    PeriodicJob(
        name="prune_login_failures",
        interval_seconds=lambda _context: POLL_LOGIN_FAILURES_SECONDS,
        run=auth.prune_login_failures,
    ),
    PeriodicJob(
        name="retention",
        interval_seconds=lambda _context: RETENTION_SECONDS,
        run=erasure.erase_past_retention,
    ),
)
