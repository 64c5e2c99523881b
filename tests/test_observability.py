"""What operators see: /metrics for the scraper's token only, labelled by route template (never
a case id); and JSON log lines with the request id and never a victim's identity."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.kit.context import AppContext
from service.kit.logs import JsonFormatter, RequestIdFilter
from service.worklists.service import refresh_queue_metrics
from tests.factories import Actors, fire, intake_body

TOKEN = "scraper-token-0123456789-abcdefghijklmnop"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def watched(context: AppContext) -> Iterator[tuple[TestClient, Actors, AppContext]]:
    settings = context.settings.model_copy(update={"metrics_token": TOKEN})
    watched_context = replace(context, settings=settings)
    with TestClient(create_app(watched_context), raise_server_exceptions=False) as client:
        yield client, Actors(client, watched_context), watched_context


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_answer_only_the_scrapers_token(
    watched: tuple[TestClient, Actors, AppContext], client: TestClient
) -> None:
    watched_client, actors, _ = watched
    assert watched_client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 40}
    assert watched_client.get("/metrics", headers=wrong).status_code == 401
    assert watched_client.get("/metrics", headers=actors.admin().headers).status_code == 401
    assert watched_client.get("/metrics", headers=SCRAPER).status_code == 200
    # without NRM_METRICS_TOKEN there is nothing there
    assert client.get("/metrics", headers=SCRAPER).status_code == 404


def test_requests_transitions_and_errors_are_counted_by_template_trigger_and_code(
    watched: tuple[TestClient, Actors, AppContext],
) -> None:
    client, actors, _ = watched
    before = client.get("/metrics", headers=SCRAPER).text
    route = "/api/v1/cases/{case_id}/transitions"
    case = client.post("/api/v1/cases", json=intake_body(), headers=actors.worker("KEMLU").headers)
    assert case.status_code == 201
    moved = fire(client, actors.worker("KEMENPPPA"), case.json(), "begin_screening", {})
    assert moved.status_code == 200
    stale = fire(client, actors.worker("KEMENPPPA"), case.json(), "begin_screening", {})
    assert stale.status_code == 409
    after = client.get("/metrics", headers=SCRAPER).text

    def grew(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert grew("nrm_http_requests_total", method="POST", route=route, status="200") == 1
    assert grew("nrm_http_request_duration_seconds_count", method="POST", route=route) == 2
    assert grew("nrm_transitions_total", trigger="begin_screening", outcome="moved") == 1
    assert grew("nrm_http_errors_total", status="409", code=stale.json()["code"]) == 1
    assert case.json()["id"] not in after  # a case id is never a label
    assert "nrm_db_pool_connections_in_use" in after


def test_the_queue_gauges_come_from_the_job_not_the_scrape(
    watched: tuple[TestClient, Actors, AppContext],
) -> None:
    client, actors, context = watched
    kemlu = actors.worker("KEMLU").headers
    assert client.post("/api/v1/cases", json=intake_body(), headers=kemlu).status_code == 201
    refresh_queue_metrics(context)
    text = client.get("/metrics", headers=SCRAPER).text
    assert _sample(text, "nrm_queue_open_cases", ministry="KEMENPPPA", overdue="false") >= 1


def test_log_lines_are_json_with_the_request_id_and_never_an_identity(
    watched: tuple[TestClient, Actors, AppContext], caplog: pytest.LogCaptureFixture
) -> None:
    client, actors, _ = watched
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="nrm.access")  # whatever a uvicorn.Config set before
    body = intake_body()
    victim = body["victim"]
    case = client.post(
        "/api/v1/cases",
        json=body,
        headers={**actors.worker("KEMLU").headers, "X-Request-ID": "intake-1"},
    )
    assert case.status_code == 201
    shown = client.get(f"/api/v1/cases/{case.json()['id']}", headers=actors.worker("KEMLU").headers)
    assert shown.json()["victim"].get("full_name") == victim["full_name"]  # it was shown
    moved = fire(client, actors.worker("KEMENPPPA"), case.json(), "begin_screening", {})
    assert moved.status_code == 200
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.get_records("call")]
    entries = [json.loads(line) for line in lines]
    access = [e for e in entries if e["logger"] == "nrm.access"]
    assert {"method": "POST", "route": "/api/v1/cases", "status": 201}.items() <= next(
        e for e in access if e["route"] == "/api/v1/cases"
    ).items()
    assert any(e.get("request_id") == "intake-1" for e in access)
    assert all(e.get("request_id") for e in access)
    birth = victim["birth_date"]
    for line in lines:
        assert victim["full_name"] not in line and birth not in line, line
        assert case.json()["id"] not in line or '"logger":"nrm.access"' not in line, line


def test_an_exception_is_logged_as_its_type_and_frames_never_its_message() -> None:
    victim = intake_body()["victim"]
    try:
        raise ValueError(f"{victim['full_name']} {victim['birth_date']}")  # as a driver quotes
    except ValueError:
        record = logging.getLogger("nrm").makeRecord(
            "nrm", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert json.loads(line)["error"] == "ValueError"
    assert victim["full_name"] not in line and victim["birth_date"] not in line
