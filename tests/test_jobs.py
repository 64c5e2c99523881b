"""The periodic jobs of `nrm serve`, running: each one does its work on its own, on its interval,
and a job that fails is logged and runs again (the list of jobs is service/jobs.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from service.app import create_app
from service.jobs import JOBS
from service.kit import periodic
from service.kit.context import AppContext
from service.models import AuditCheckpoint, CaseEvent
from tests.factories import Actors, register

FAST = {"run_jobs": True, "sla_sweep_seconds": 0.05, "checkpoint_seconds": 0.05}


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _count(context: AppContext, statement: object) -> int:
    with context.database.sessions() as reader:
        return int(reader.scalar(statement) or 0)  # type: ignore[call-overload]


def test_a_running_server_sweeps_late_cases_and_seals_the_log_by_itself(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context(**FAST)
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        case = register(client, Actors(client, context).worker("KEMLU"))
    later = replace(context, clock=lambda: context.clock() + timedelta(days=60))
    breaches = select(func.count()).where(
        col(CaseEvent.kind) == "sla_breach", col(CaseEvent.case_id) == uuid.UUID(case["id"])
    )
    sealed = select(func.max(AuditCheckpoint.last_seq))
    newest = select(func.max(CaseEvent.seq))
    assert _count(context, breaches) == 0
    with TestClient(create_app(later), raise_server_exceptions=False):
        assert _wait_for(lambda: _count(context, breaches) == 1), "the sweep did not run"
        assert _wait_for(lambda: _count(context, sealed) == _count(context, newest)), (
            "the checkpoint job did not seal the log"
        )
    assert _count(context, breaches) == 1  # recorded once, however many rounds ran


def test_without_run_jobs_the_server_runs_none(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context(**{**FAST, "run_jobs": False})
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        register(client, Actors(client, context).worker("KEMLU"))
        time.sleep(0.5)
    assert _count(context, select(func.count()).select_from(AuditCheckpoint)) == 0


def test_a_failing_job_is_logged_and_runs_again(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[int] = []

    def flaky(_context: AppContext) -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the database went away")

    job = periodic.PeriodicJob("flaky", lambda _context: 0.01, flaky)

    async def run_until_second_round() -> None:
        task = asyncio.create_task(periodic.run_forever(job, context))
        while len(runs) < 2:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(run_until_second_round(), timeout=10))
    assert runs[:2] == [0, 1]
    assert "periodic job flaky failed; it will run again" in caplog.text


def test_every_job_has_a_distinct_name_and_a_positive_interval(context: AppContext) -> None:
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    assert all(job.interval_seconds(context) > 0 for job in JOBS)
