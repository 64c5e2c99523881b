"""Every error is JSON `{detail, code}` with a request id; 503s say when to try again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import InternalError, OperationalError
from sqlmodel import Session

from service.app import create_app
from service.kit.context import AppContext
from service.kit.errors import LogBusy
from tests.factories import Actors, intake_body, register


@pytest.fixture
def failing_client(context: AppContext) -> TestClient:
    app = create_app(context)

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/test/log-busy")
    async def log_busy() -> None:
        raise LogBusy("the log is locked")

    return TestClient(app, raise_server_exceptions=False)


def test_an_unhandled_error_is_a_json_500_naming_the_request_id(
    failing_client: TestClient,
) -> None:
    response = failing_client.get("/test/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error" and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_a_well_formed_request_id_is_kept_and_a_malformed_one_replaced(
    client: TestClient,
) -> None:
    kept = client.get("/health/live", headers={"X-Request-ID": "proxy-1234.abc"})
    assert kept.headers["X-Request-ID"] == "proxy-1234.abc"
    replaced = client.get("/health/live", headers={"X-Request-ID": "<script>" + "x" * 300})
    assert replaced.headers["X-Request-ID"] not in ("", "<script>" + "x" * 300)
    assert len(replaced.headers["X-Request-ID"]) == 32
    assert client.get("/api/v1/cases").headers["X-Request-ID"]  # on errors too


def test_every_503_carries_retry_after(failing_client: TestClient) -> None:
    response = failing_client.get("/test/log-busy")
    assert response.status_code == 503 and response.json()["code"] == "log_busy"
    assert response.headers["Retry-After"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InternalError("COMMIT", {}, Exception("deferred check")), 500, "internal_error"),
        (OperationalError("COMMIT", {}, Exception("server closed")), 503, "database_unavailable"),
    ],
)
def test_an_error_raised_at_commit_is_json(
    client: TestClient,
    actors: Actors,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    code: str,
) -> None:
    worker = actors.worker("KEMLU")
    register(client, worker)

    def failing_commit(_self: Session) -> None:
        raise error

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.post("/api/v1/cases", json=intake_body(), headers=worker.headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.headers["X-Request-ID"]
