"""The published definition and its diagram, as the contract shows them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import Actors, register

MARKED = re.compile(r"^\s*class (\w+) s_active$", re.MULTILINE | re.IGNORECASE)


def test_workflows_are_listed_with_name_and_version(client: TestClient, actors: Actors) -> None:
    listed = client.get("/api/v1/workflows", headers=actors.worker("POLRI").headers).json()
    assert [(w["name"], w["version"], w["current"]) for w in listed] == [
        ("nrm-indonesia", 1, False), ("nrm-indonesia", 2, False), ("nrm-indonesia", 3, True)
    ]  # fmt: skip


def test_the_definition_has_the_contract_shape(client: TestClient, actors: Actors) -> None:
    body = client.get("/api/v1/workflows/nrm-indonesia", headers=actors.auditor().headers).json()
    assert (
        body["name"] == "nrm-indonesia" and body["version"] == 3 and body["initial"] == "referred"
    )
    assert body["escalation"]["to"] == "GUGUS_TUGAS"
    assert [r["level"] for r in body["escalation"]["ladder"]] == [
        "district",
        "province",
        "national",
    ]
    old = client.get("/api/v1/workflows/nrm-indonesia?version=1", headers=actors.auditor().headers)
    assert old.status_code == 200, old.text
    assert old.json()["escalation"]["ladder"] == [{"level": "national", "after": None}]
    phases = {"identification", "rehabilitation", "repatriation", "reintegration", "closure"}
    for state in body["states"]:
        assert {"name", "phase", "ministry", "terminal"} <= set(state)
        assert state["phase"] in phases
    pairs = [(t["trigger"], t["source"]) for t in body["transitions"]]
    assert len(pairs) == len(set(pairs))  # one row per (trigger, source)
    for row in body["transitions"]:
        assert row["ministries"] and row["payload_schema"]["type"] == "object"
    withdraw = [t for t in body["transitions"] if t["trigger"] == "withdraw_consent"]
    # version 3: withdrawing consent to sharing keeps the case where it is; leaving services
    # is a step of its own
    assert len(withdraw) > 5 and all(t["dest"] == t["source"] for t in withdraw)
    leave = [t for t in body["transitions"] if t["trigger"] == "leave_services"]
    assert leave and {t["dest"] for t in leave} == {"left_services"}


def test_an_unknown_workflow_is_404(client: TestClient, actors: Actors) -> None:
    response = client.get("/api/v1/workflows/nope", headers=actors.auditor().headers)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_diagram_is_mermaid_grouped_by_phase(client: TestClient, actors: Actors) -> None:
    response = client.get(
        "/api/v1/workflows/nrm-indonesia/diagram", headers=actors.auditor().headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "\nstateDiagram-v2\n" in text
    for phase in ("identification", "rehabilitation", "repatriation", "reintegration", "closure"):
        assert f"state {phase} {{" in text
    assert "identification__referred --> identification__screening: begin_screening" in text
    assert not MARKED.search(text)


def test_the_diagram_of_a_case_marks_its_state_and_follows_visibility(
    client: TestClient, actors: Actors
) -> None:
    case = register(client, actors.worker("KEMLU"))
    url = f"/api/v1/workflows/nrm-indonesia/diagram?case={case['id']}"
    marked = client.get(url, headers=actors.worker("KEMLU").headers)
    assert marked.status_code == 200
    assert MARKED.findall(marked.text) == ["identification__referred"]
    assert client.get(url, headers=actors.worker("KEMNAKER").headers).status_code == 404


def test_health_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_unknown_paths_answer_json_errors_with_a_code(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
