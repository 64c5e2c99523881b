"""Intake: the contract's example is accepted; bad input is a 422 naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.common import today_wib
from tests.factories import Actors, intake_body, register


def test_the_contract_example_intake_is_accepted_from_any_ministry(
    client: TestClient, actors: Actors
) -> None:
    for ministry in ("KEMLU", "POLRI", "PEMDA", "KP2MI"):
        response = client.post(
            "/api/v1/cases", json=intake_body(), headers=actors.worker(ministry).headers
        )
        assert response.status_code == 201, response.text
        case = response.json()
        assert case["state"] == "referred"
        assert case["workflow"] == "nrm-indonesia" and case["workflow_version"] == 3
        assert case["phase"] == "identification" and case["ministry"] == "KEMENPPPA"
        assert case["version"] == 1 and case["due_at"] is not None
        assert case["referring_ministry"] == ministry
        assert case["victim"]["full_name"] == "Siti Rahayu"


def test_a_supervisor_may_register_but_an_auditor_may_not(
    client: TestClient, actors: Actors
) -> None:
    assert (
        client.post(
            "/api/v1/cases", json=intake_body(), headers=actors.supervisor("POLRI").headers
        ).status_code
        == 201
    )
    response = client.post("/api/v1/cases", json=intake_body(), headers=actors.auditor().headers)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_intake_needs_a_token(client: TestClient) -> None:
    response = client.post("/api/v1/cases", json=intake_body())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("field", ["state", "version", "ministry", "id", "due_at"])
def test_client_set_server_fields_are_refused(
    client: TestClient, actors: Actors, field: str
) -> None:
    body = {**intake_body(), field: "closed"}
    response = client.post("/api/v1/cases", json=body, headers=actors.worker("KEMLU").headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]


def _error_locations(response: Any) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("victim", "location"),
    [
        ({"nationality": "XX"}, ["body", "victim", "nationality"]),
        ({"nationality": "Indonesia"}, ["body", "victim", "nationality"]),
        ({"sex": "f"}, ["body", "victim", "sex"]),
        (
            {"birth_date": (today_wib() + timedelta(days=2)).isoformat()},
            ["body", "victim", "birth_date"],
        ),
        ({"province_of_origin": "Atlantis"}, ["body", "victim", "province_of_origin"]),
        (
            {"identity_document": {"kind": "nik", "number": "123"}},
            ["body", "victim", "identity_document"],
        ),
        ({"eye_colour": "brown"}, ["body", "victim", "eye_colour"]),
        ({"full_name": ""}, ["body", "victim", "full_name"]),
    ],
)
def test_invalid_victim_fields_are_named(
    client: TestClient, actors: Actors, victim: dict[str, Any], location: list[Any]
) -> None:
    response = client.post(
        "/api/v1/cases", json=intake_body(**victim), headers=actors.worker("KEMLU").headers
    )
    assert response.status_code == 422, response.text
    assert any(loc[: len(location)] == location for loc in _error_locations(response)), (
        response.json()
    )


def test_referral_country_must_be_iso_3166(client: TestClient, actors: Actors) -> None:
    body = intake_body()
    body["referral"]["country_of_exploitation"] = "Myanmar"
    response = client.post("/api/v1/cases", json=body, headers=actors.worker("KEMLU").headers)
    assert response.status_code == 422
    assert ["body", "referral", "country_of_exploitation"] in _error_locations(response)


def test_validation_errors_do_not_echo_the_input(client: TestClient, actors: Actors) -> None:
    """A 422 must not carry the victim's name back (logs and proxies keep error bodies)."""
    response = client.post(
        "/api/v1/cases",
        json=intake_body(full_name="Rahasia Sekali " * 30),
        headers=actors.worker("KEMLU").headers,
    )
    assert response.status_code == 422
    assert "Rahasia" not in response.text


def test_an_age_is_needed_in_some_form(client: TestClient, actors: Actors) -> None:
    body = intake_body()
    del body["victim"]["birth_date"]
    response = client.post("/api/v1/cases", json=body, headers=actors.worker("KEMLU").headers)
    assert response.status_code == 422
    assert "birth_date, age_estimate, or presumed_child" in response.text


def test_under_18_at_intake_makes_a_childs_case(client: TestClient, actors: Actors) -> None:
    today = today_wib()
    seventeen = today.replace(year=today.year - 17).isoformat()
    eighteen = today.replace(year=today.year - 18).isoformat()
    worker = actors.worker("PEMDA")
    assert register(client, worker, intake_body(birth_date=seventeen))["victim"]["is_child"] is True
    assert register(client, worker, intake_body(birth_date=eighteen))["victim"]["is_child"] is False
    body = intake_body(age_estimate=15)
    del body["victim"]["birth_date"]
    assert register(client, worker, body)["victim"]["is_child"] is True
    presumed = intake_body(presumed_child=True)
    del presumed["victim"]["birth_date"]
    assert register(client, worker, presumed)["victim"]["is_child"] is True


def test_province_names_are_normalised(client: TestClient, actors: Actors) -> None:
    case = register(
        client, actors.worker("PEMDA"), intake_body(province_of_origin="nusa tenggara timur")
    )
    assert case["victim"]["province_of_origin"] == "Nusa Tenggara Timur"


def test_a_foreign_victim_has_no_indonesian_province(client: TestClient, actors: Actors) -> None:
    response = client.post(
        "/api/v1/cases", json=intake_body(nationality="VN"), headers=actors.worker("POLRI").headers
    )
    assert response.status_code == 422
    assert "province_of_origin is for Indonesian victims" in response.text


def test_the_creation_is_the_first_history_event(client: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    case = register(client, worker)
    events = client.get(f"/api/v1/cases/{case['id']}/history", headers=worker.headers).json()[
        "items"
    ]
    assert len(events) == 1
    first = events[0]
    assert first["from_state"] is None and first["to_state"] == "referred"
    assert (
        first["kind"] == "created"
        and first["actor"] == worker.username
        and first["ministry"] == "KEMLU"
    )
    assert "Siti" not in str(first)


def test_intake_with_an_idempotency_key_registers_once(client: TestClient, actors: Actors) -> None:
    worker = actors.worker("KEMLU")
    headers = {**worker.headers, "Idempotency-Key": "intake-0001"}
    first = client.post("/api/v1/cases", json=intake_body(), headers=headers)
    again = client.post("/api/v1/cases", json=intake_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    different = client.post(
        "/api/v1/cases", json=intake_body(full_name="Another Person"), headers=headers
    )
    assert different.status_code == 422 and different.json()["code"] == "idempotency_key_reused"
