"""Every periodic job of `nrm serve`, in one list: what runs, how often.

Every worker process runs every job; each job is therefore idempotent and safe to run
concurrently (two servers sweeping at once record each effect once).
"""

from __future__ import annotations

from service.audit import checkpoints
from service.auth import service as auth
from service.cases import erasure, idempotency
from service.kit.periodic import PeriodicJob
from service.legal import deadlines as legal_deadlines
from service.sla import sweep
from service.webhooks import delivery as webhooks
from service.worklists import service as worklists

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
    # the queue sizes of /metrics (service/kit/metrics.py): a grouped count, not one per scrape
    PeriodicJob(
        name="queue_metrics",
        interval_seconds=lambda context: context.settings.queue_metrics_seconds,
        run=worklists.refresh_queue_metrics,
    ),
    # retention of the operational tables (README, "Retention")
    PeriodicJob(
        name="prune_login_failures",
        interval_seconds=lambda context: context.settings.prune_seconds,
        run=auth.prune_login_failures,
    ),
    PeriodicJob(
        name="prune_ended_sessions",
        interval_seconds=lambda context: context.settings.prune_seconds,
        run=auth.prune_ended_sessions,
    ),
    PeriodicJob(
        name="prune_idempotency_records",
        interval_seconds=lambda context: context.settings.prune_seconds,
        run=idempotency.prune_expired,
    ),
    PeriodicJob(
        name="retention",
        interval_seconds=lambda _context: RETENTION_SECONDS,
        run=erasure.erase_past_retention,
    ),
    # the LPSK decision deadline of the legal track (service/legal/deadlines.py)
    PeriodicJob(
        name="lpsk_deadlines",
        interval_seconds=lambda context: context.settings.sla_sweep_seconds,
        run=legal_deadlines.run_job,
    ),
    # webhooks (service/webhooks/): fan the outbox out and deliver what is due
    PeriodicJob(
        name="webhook_delivery",
        interval_seconds=lambda context: context.settings.webhook_deliver_seconds,
        run=webhooks.run_job,
    ),
)
