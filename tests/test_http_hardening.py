"""What every answer says about itself (headers), what /health and /docs give away, how large a
request may be, and who may read the SQLite files."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.app import create_app
from service.kit.context import AppContext
from service.kit.db import create_db_engine
from tests.factories import Actors, intake_body, register
from tests.web import get, web_login


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_its_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    database = tmp_path / "nrm.db"
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('Siti')"))
        with engine.connect() as connection:  # WAL and SHM exist while a connection is open
            connection.execute(text("SELECT x FROM t")).all()
            files = [database, tmp_path / "nrm.db-wal", tmp_path / "nrm.db-shm"]
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


def test_a_sqlite_file_left_readable_by_others_is_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    create_db_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600


def test_api_answers_carry_nosniff_a_referrer_policy_a_csp_and_no_store(
    client: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")
    case = register(client, worker, intake_body())
    for response in (
        client.get(f"/api/v1/cases/{case['id']}", headers=worker.headers),
        client.get("/api/v1/workflows", headers=worker.headers),
        client.get("/api/v1/nothing-here", headers=worker.headers),
        client.get("/health"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["Cache-Control"] == "no-store"


def test_pages_keep_their_own_csp_with_no_inline_script_or_style(
    client: TestClient, context: AppContext, actors: Actors
) -> None:
    page = get(client, web_login(context, actors.worker("KEMLU")), "/work")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_health_does_not_name_the_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "head"}
    assert not re.search("sqlite|postgres", response.text, re.IGNORECASE)


def test_docs_are_served_by_the_app_itself_under_a_csp(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script>(?!</script>)", docs.text)  # every script from a file
    policy = docs.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "http" not in policy
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 400
    bundle = next(s for s in sources if s.endswith("swagger-ui-bundle.js"))
    assert "SwaggerUIBundle" in client.get(bundle).text
    assert client.get("/redoc").status_code == 404  # it loads from a CDN: not offered


@pytest.fixture
def small(context: AppContext) -> Iterator[TestClient]:
    limited = replace(
        context, settings=context.settings.model_copy(update={"max_body_bytes": 4096})
    )
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        yield client


def test_a_body_over_the_limit_is_refused_with_413(small: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    body = intake_body(other_names=["x" * 5000])
    response = small.post("/api/v1/cases", json=body, headers=worker.headers)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert "4096" in response.json()["detail"]
    assert (
        small.post("/api/v1/cases", json=intake_body(), headers=worker.headers).status_code == 201
    )


def test_a_chunked_body_without_length_over_the_limit_is_refused_with_413(
    small: TestClient, actors: Actors
) -> None:
    worker = actors.worker("KEMLU")

    def chunks() -> Iterator[bytes]:
        yield b'{"victim": {"full_name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    response = small.post(
        "/api/v1/cases",
        content=chunks(),
        headers={**worker.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_a_login_form_over_the_limit_is_refused_with_413(small: TestClient) -> None:
    response = small.post(
        "/api/v1/auth/token", data={"username": "someone", "password": "p" * 6000}
    )
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
