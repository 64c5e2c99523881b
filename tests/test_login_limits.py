"""Logging in under attack: parallel guesses are counted exactly and cost bounded argon2 work;
a guesser slows down their own (user, address) pair, not the user everywhere; forwarded
addresses are believed from configured proxies only; a stolen old refresh token ends its
session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from service.app import create_app
from service.auth import security
from service.auth import service as accounts
from service.kit.context import AppContext
from service.kit.errors import TooManyRequests
from service.kit.serving import ServeOptions, uvicorn_config
from service.models import LoginFailure, UserAccount
from tests.factories import PASSWORD, Actors, password_hash

WRONG = "not the password at all"


def _login(client: TestClient, username: str, password: str = PASSWORD, **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, headers=headers
    )


def _user(context: AppContext, name: str) -> str:
    with context.database.transaction() as session:
        session.add(UserAccount(username=name, password_hash=password_hash(), role="auditor"))
    return name


def _in_parallel(count: int, attempt: Callable[[int], str]) -> list[str]:
    """`count` threads released together, each one login attempt against the database."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def one(n: int) -> None:
        barrier.wait()
        outcomes.append(attempt(n))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _attempt(context: AppContext, username: str, client: str) -> str:
    try:
        with context.database.transaction() as session:
            outcome = accounts.log_in(session, context, username, WRONG, client)
    except TooManyRequests:
        return "429"
    return "401" if isinstance(outcome, accounts.LoginRefused) else "200"


@pytest.fixture
def counted_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many passwords were hashed, and the most at once."""
    seen = {"total": 0, "now": 0, "most": 0}
    lock = threading.Lock()
    verify = security.verify_password

    def counting(stored: str | None, password: str) -> bool:
        with lock:
            seen["total"] += 1
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(0.02)  # make overlaps visible
            return verify(stored, password)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(accounts, "verify_password", counting)
    yield seen


def test_thirty_parallel_wrong_passwords_for_one_user_hash_no_more_than_the_limit(
    committed_context: Callable[..., AppContext], counted_hashes: dict[str, int]
) -> None:
    context = committed_context()
    name = _user(context, "parallel.target")
    outcomes = _in_parallel(30, lambda _n: _attempt(context, name, "198.51.100.1"))
    limit = accounts.MAX_FAILURES_PER_USER_AND_CLIENT
    assert sorted(outcomes) == sorted(["401"] * limit + ["429"] * (30 - limit))
    assert counted_hashes["total"] == limit
    with context.database.snapshot() as session:
        assert session.exec(select(func.count()).select_from(LoginFailure)).one() == limit


def test_password_hashing_runs_at_most_a_few_at_once_per_process(
    committed_context: Callable[..., AppContext], counted_hashes: dict[str, int]
) -> None:
    context = committed_context()
    name = _user(context, "many.clients.target")
    outcomes = _in_parallel(12, lambda n: _attempt(context, name, f"198.51.100.{n}"))
    assert outcomes == ["401"] * 12  # every address within its limits: all hashed...
    assert counted_hashes["total"] == 12
    assert counted_hashes["most"] <= security.MAX_CONCURRENT_HASHES  # ...a few at a time


def test_a_login_that_finds_no_hashing_slot_is_503_and_counts_nothing(
    client: TestClient, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = actors.worker("KEMENSOS")
    monkeypatch.setattr(security, "HASH_WAIT_SECONDS", 0.05)
    with security.hashing_slot(), security.hashing_slot():  # every slot taken
        busy = _login(client, user.username, WRONG)
    assert busy.status_code == 503 and busy.json()["code"] == "login_busy"
    assert busy.headers["Retry-After"] == "1"
    for _ in range(accounts.MAX_FAILURES_PER_USER_AND_CLIENT):
        assert _login(client, user.username, WRONG).status_code == 401  # the busy one not counted


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    user = actors.worker("KEMENSOS")
    for _ in range(accounts.MAX_FAILURES_PER_USER_AND_CLIENT):
        assert _login(client, user.username, WRONG).status_code == 401
    assert _login(client, user.username).status_code == 429  # this address waits
    with TestClient(create_app(context), client=("192.0.2.10", 4000)) as elsewhere:
        assert _login(elsewhere, user.username).status_code == 200  # the user does not


def test_many_addresses_guessing_one_user_reach_a_cap_for_everyone(
    client: TestClient, actors: Actors, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "MAX_FAILURES_PER_USER", 6)
    user = actors.worker("KEMENSOS")
    for n in range(3):
        with TestClient(create_app(context), client=(f"192.0.2.{n}", 4000)) as guesser:
            for _ in range(2):
                assert _login(guesser, user.username, WRONG).status_code == 401
    assert _login(client, user.username).status_code == 429


def test_x_forwarded_for_is_not_believed_from_an_unconfigured_address(
    client: TestClient, actors: Actors
) -> None:
    """Else each guess could name a new address and never reach a limit."""
    user = actors.worker("KEMENSOS")
    for n in range(accounts.MAX_FAILURES_PER_USER_AND_CLIENT):
        forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert _login(client, user.username, WRONG, **forwarded).status_code == 401
    refused = _login(client, user.username, **{"X-Forwarded-For": "203.0.113.99"})
    assert refused.status_code == 429
    assert uvicorn_config(ServeOptions("127.0.0.1", 8000, 1, False, 20, 15)).proxy_headers is False


def test_a_configured_proxy_forwards_each_client_its_own_limit(
    actors: Actors, context: AppContext
) -> None:
    behind = replace(
        context, settings=context.settings.model_copy(update={"trusted_proxies": "10.0.0.0/24"})
    )
    user = actors.worker("KEMENSOS")
    with TestClient(create_app(behind), client=("10.0.0.7", 4000)) as proxy:
        guesser = {"X-Forwarded-For": "203.0.113.5"}
        for _ in range(accounts.MAX_FAILURES_PER_USER_AND_CLIENT):
            assert _login(proxy, user.username, WRONG, **guesser).status_code == 401
        assert _login(proxy, user.username, **guesser).status_code == 429
        owner = _login(proxy, user.username, **{"X-Forwarded-For": "198.51.100.20"})
        assert owner.status_code == 200  # the user behind the same proxy is not locked out


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    from pydantic import ValidationError

    from service.kit.config import Settings

    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies="10.0.0.1, *", _env_file=None)
    assert Settings(trusted_proxies="10.0.0.1, fd00::/8", _env_file=None).trusted_proxy_list == [
        "10.0.0.1", "fd00::/8",
    ]  # fmt: skip


def _refresh(client: TestClient, token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_any_earlier_refresh_token_coming_back_ends_the_session(
    client: TestClient, actors: Actors
) -> None:
    user = actors.worker("KEMENSOS")
    first = _login(client, user.username).json()
    tokens = [first["refresh_token"]]
    for _ in range(3):
        tokens.append(_refresh(client, tokens[-1]).json()["refresh_token"])
    latest = _refresh(client, tokens[-1]).json()
    stolen = _refresh(client, tokens[0])  # three rotations back
    assert stolen.status_code == 401
    assert "already used" in stolen.json()["detail"]
    assert _refresh(client, latest["refresh_token"]).status_code == 401  # the session is over
    bearer = {"Authorization": f"Bearer {latest['access_token']}"}
    assert client.get("/api/v1/workflows", headers=bearer).status_code == 401
