"""Identity: encrypted at rest, shown only to who handled the case, and every look logged."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from service.app import create_app
from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.db import Database, create_db_engine
from tests.conftest import make_settings
from tests.factories import Actors, fire, intake_body, register

NAME = "Siti Rahayu"
NIK = "5371014504030001"


def _identity_body() -> dict[str, object]:
    return intake_body(
        identity_document={"kind": "nik", "number": NIK},
        contact={"phone": "+62 812 3456 7890", "address": "Jl. Timor Raya 12, Kupang"},
    )


def test_each_look_at_an_identity_is_logged_and_auditors_can_query_it(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"), _identity_body())
    client.get(f"/api/v1/cases/{case['id']}", headers=actors.worker("KEMLU").headers)
    client.get(
        f"/api/v1/cases/{case['id']}", headers=actors.worker("POLRI").headers
    )  # pseudonymous
    client.get(f"/api/v1/cases/{case['id']}", headers=actors.auditor().headers)  # pseudonymous
    response = client.get(
        f"/api/v1/audit/identity-access?case_id={case['id']}", headers=actors.auditor().headers
    )
    assert response.status_code == 200
    looks = [(row["username"], row["endpoint"]) for row in response.json()["items"]]
    worker = actors.worker("KEMLU").username
    assert looks == [(worker, "POST /api/v1/cases"), (worker, "GET /api/v1/cases/{case_id}")]
    assert (
        client.get(
            "/api/v1/audit/identity-access", headers=actors.worker("KEMLU").headers
        ).status_code
        == 403
    )


def test_a_replayed_answer_is_a_look_too(client: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    headers = {**worker.headers, "Idempotency-Key": "intake-42"}
    first = client.post("/api/v1/cases", json=_identity_body(), headers=headers).json()
    client.post("/api/v1/cases", json=_identity_body(), headers=headers)
    looks = client.get(
        f"/api/v1/audit/identity-access?case_id={first['id']}", headers=actors.auditor().headers
    ).json()["items"]
    assert [row["endpoint"] for row in looks] == [
        "POST /api/v1/cases",
        "POST /api/v1/cases (replay)",
    ]


def test_the_identity_access_log_cannot_be_rewritten(
    client: TestClient, actors: Actors, session: Session
) -> None:
    register(client, actors.worker("KEMLU"), _identity_body())
    for statement in (
        "UPDATE identity_access SET username = 'someone else'",
        "DELETE FROM identity_access",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))


def test_no_identity_rests_in_clear_in_any_column(
    client: TestClient, actors: Actors, session: Session
) -> None:
    """Every text, JSON and binary column of every table, searched for the name and the NIK."""
    worker = actors.worker("KEMLU")
    case = register(client, worker, _identity_body())
    fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, key="retry-1")
    inspector = inspect(session.connection())
    found = []
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            rows = session.execute(text(f'SELECT "{column["name"]}" FROM {table}')).scalars().all()
            for value in rows:
                raw = value if isinstance(value, bytes) else str(value).encode()
                if NAME.encode() in raw or NIK.encode() in raw:
                    found.append(f"{table}.{column['name']}")
    assert found == []


def test_a_copied_sqlite_file_shows_no_victim_name(tmp_path: Path) -> None:
    """The embedded mode, whatever backend the rest of the suite runs on."""
    database = tmp_path / "embedded.db"
    migrate.upgrade(f"sqlite:///{database}")
    context = bootstrap(
        make_settings(f"sqlite:///{database}"), Database(create_db_engine(f"sqlite:///{database}"))
    )
    with TestClient(create_app(context)) as client:
        actors = Actors(client, context)
        case = register(client, actors.worker("KEMLU"), _identity_body())
        fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {}, key="k1")
        client.get(f"/api/v1/cases/{case['id']}", headers=actors.worker("KEMLU").headers)
    context.database.engine.dispose()  # checkpoints the WAL into the file
    copy = tmp_path / "copied.db"
    shutil.copy(database, copy)
    assert NAME.encode() not in copy.read_bytes() and NIK.encode() not in copy.read_bytes()
    if shutil.which("sqlite3"):
        dump = subprocess.run(
            ["sqlite3", str(copy), ".dump"], capture_output=True, text=True, check=True
        )
        assert "INSERT INTO victim" in dump.stdout
        assert NAME not in dump.stdout and NIK not in dump.stdout
