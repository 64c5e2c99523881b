"""Liveness and readiness never hang, and a busy pool does not read as a dead database."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.app import create_app
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.kit.db import Database, DatabaseLimits, create_db_engine

READY_TIMEOUT = 1.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes the handshake) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.fixture
def silent_client(published: AppContext, silent_port: int) -> Iterator[TestClient]:
    url = f"postgresql+psycopg://nrm@127.0.0.1:{silent_port}/nrm"
    limits = DatabaseLimits(
        connect_timeout_seconds=2, pool_timeout_seconds=1.0, ready_timeout_seconds=READY_TIMEOUT
    )
    settings = settings_for(
        url,
        db_connect_timeout_seconds=2,
        pool_timeout_seconds=1.0,
        ready_timeout_seconds=READY_TIMEOUT,
    )
    database = Database(create_db_engine(url, limits), limits=limits)
    context = replace(published, settings=settings, database=database)
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        yield client
    database.engine.dispose()


def test_liveness_answers_without_the_database(silent_client: TestClient) -> None:
    response = silent_client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/health/ready", "/health"])
def test_readiness_answers_503_in_time_when_the_database_accepts_but_never_answers(
    silent_client: TestClient, path: str
) -> None:
    started = time.monotonic()
    response = silent_client.get(path)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "unavailable" and response.json()["code"] == "not_ready"
    assert response.headers["Retry-After"]
    assert elapsed < READY_TIMEOUT + 4.0, f"answered after {elapsed:.2f}s"


def test_a_request_to_a_silent_database_answers_503_json_within_the_connect_timeout(
    silent_client: TestClient,
) -> None:
    started = time.monotonic()
    response = silent_client.post(
        "/api/v1/auth/token", data={"username": "someone", "password": "x" * 12}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["Retry-After"] and response.headers["X-Request-ID"]
    assert elapsed < 2 + 5.0, f"answered after {elapsed:.2f}s"


def test_readiness_is_ok_at_head(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok" and response.json()["migrations"] == "head"
    assert client.get("/health").json()["status"] == "ok"  # the contract's path


def test_readiness_uses_its_own_connection_so_a_busy_pool_is_still_ready(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context(pool_size=1, pool_max_overflow=0, pool_timeout_seconds=0.5)
    app = create_app(context)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        context.database.engine.connect() as held,
    ):
        held.execute(text("SELECT 1"))
        assert client.get("/health/ready").status_code == 200


def test_readiness_is_503_when_the_schema_is_behind_head(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context()
    with context.database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503 and response.json()["migrations"] == "behind"
