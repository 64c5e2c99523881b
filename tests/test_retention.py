"""The operational tables are pruned by the periodic jobs after their retention periods:
idempotency records, login failures, ended sessions (before: kept for ever; 23,794 stored
answers, 70 MB, after a day's test)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.app import create_app
from service.auth import service as auth
from service.cases import idempotency
from service.jobs import JOBS
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.models import AuthSession, IdempotencyRecord, LoginFailure, utcnow
from tests.factories import Actors

NOW = utcnow()


def _at(context: AppContext, now: datetime) -> AppContext:
    return replace(context, clock=lambda: now)


def _record(session: Session, user_id: int, key: str, age: timedelta) -> None:
    session.add(
        IdempotencyRecord(
            user_id=user_id, key=key, request_hash="0" * 64, status_code=200,
            response={"x": 1}, created_at=NOW - age,
        )
    )  # fmt: skip


def _keys(session: Session) -> set[str]:
    return set(session.exec(select(IdempotencyRecord.key)).all())


def test_stored_idempotent_answers_are_pruned_after_their_ttl(
    context: AppContext, actors: Actors, session: Session
) -> None:
    user = actors.worker("KEMLU")
    with context.database.transaction() as writing:
        _record(writing, user.id, "fresh", timedelta(hours=23))
        _record(writing, user.id, "stale", timedelta(hours=25))
    assert idempotency.prune_expired(_at(context, NOW)) == 1  # default 24 hours
    assert _keys(session) == {"fresh"}
    shorter = replace(context, settings=settings_for("sqlite://", idempotency_ttl_hours=1))
    assert idempotency.prune_expired(_at(shorter, NOW)) == 1
    assert _keys(session) == set()


def test_login_failures_are_kept_at_least_the_rate_limit_window(
    context: AppContext, session: Session
) -> None:
    with context.database.transaction() as writing:
        for minutes in (10, 50, 70):
            at = NOW - timedelta(minutes=minutes)
            writing.add(LoginFailure(username=f"u{minutes}", client="c", at=at))
    longer = replace(context, settings=settings_for("sqlite://", login_failure_retention_hours=2))
    assert auth.prune_login_failures(_at(longer, NOW)) == 0
    assert auth.prune_login_failures(_at(context, NOW)) == 1  # default 1 hour
    left = set(session.exec(select(LoginFailure.username)).all())
    assert left == {"u10", "u50"}


def test_sessions_are_pruned_once_ended_for_longer_than_their_retention(
    context: AppContext, actors: Actors, session: Session
) -> None:
    user = actors.worker("KEMLU")  # logged in: an open session, kept
    day = timedelta(days=1)
    ended: dict[str, dict[str, Any]] = {
        "revoked-long-ago": {"revoked_at": NOW - 8 * day, "expires_at": NOW + day},
        "expired-long-ago": {"expires_at": NOW - 8 * day},
        "idle-browser": {"kind": "browser", "last_seen_at": NOW - 8 * day, "expires_at": NOW},
        "revoked-yesterday": {"revoked_at": NOW - day, "expires_at": NOW + day},
        "browser-in-use": {"kind": "browser", "last_seen_at": NOW, "expires_at": NOW + day},
    }
    with context.database.transaction() as writing:
        for name, values in ended.items():
            writing.add(AuthSession(id=name, user_id=user.id, created_at=NOW - 9 * day, **values))
    assert auth.prune_ended_sessions(_at(context, NOW)) == 3  # default 7 days
    mine = select(AuthSession.id).where(col(AuthSession.user_id) == user.id)
    left = set(session.exec(mine).all())
    assert {"revoked-yesterday", "browser-in-use"} <= left
    assert not left & {"revoked-long-ago", "expired-long-ago", "idle-browser"}
    assert actors.client.get("/api/v1/me/cases", headers=user.headers).status_code == 200


def test_the_periodic_jobs_prune_the_operational_tables(
    committed_context: Callable[..., AppContext],
) -> None:
    names = {job.name for job in JOBS}
    assert {"prune_login_failures", "prune_ended_sessions", "prune_idempotency_records"} <= names
    context = committed_context(
        run_jobs=True, prune_seconds=0.05, sla_sweep_seconds=3600, checkpoint_seconds=3600
    )
    with context.database.transaction() as writing:
        old = LoginFailure(username="old", client="c", at=utcnow() - timedelta(hours=2))
        writing.add(old)
        writing.flush()
        old_id = old.id
    with TestClient(create_app(context), raise_server_exceptions=False):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with context.database.sessions() as reading:
                if reading.get(LoginFailure, old_id) is None:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the job did not prune the old login failure")
