"""Running periodic jobs inside `nrm serve`; which jobs there are is listed in service/jobs.py.

Every worker process runs every job; jobs are therefore written to be idempotent and safe to
run concurrently (two servers sweeping at once must record each effect once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from service.kit import metrics
from service.kit.context import AppContext

log = logging.getLogger("nrm.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: Callable[[AppContext], float]
    run: Callable[[AppContext], object]


async def run_forever(job: PeriodicJob, context: AppContext) -> None:
    """Run `job` every interval until cancelled; a failure is logged and retried next time."""
    while True:
        await asyncio.sleep(job.interval_seconds(context))
        try:
            result = await run_in_threadpool(metrics.timed_job, job.name, lambda: job.run(context))
            metrics.count_results(job.name, result)
        except Exception:
            log.exception("periodic job %s failed; it will run again", job.name)


def start(jobs: Iterable[PeriodicJob], context: AppContext) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(run_forever(job, context), name=job.name) for job in jobs]
