"""The OpenAPI document is one a client generator can use: short unique operation ids, every
error in the one shape, examples for every body, the server's rules as schema constraints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.common import PROVINCES
from schemas.victim import VictimCreate
from tests.factories import Actors

ERROR = {"$ref": "#/components/schemas/ErrorRead"}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_operation_ids_are_the_function_names_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert "fire_transition" in ids and "register_case" in ids
    assert all(name.isidentifier() and "api_v1" not in name for name in ids)


def test_no_web_page_is_in_the_document(document: dict[str, Any]) -> None:
    assert all(path.startswith(("/api/", "/health")) for path in document["paths"])


def test_every_protected_operation_documents_401_and_403_as_the_error_shape(
    document: dict[str, Any],
) -> None:
    protected = [(label, op) for label, op in operations(document) if op.get("security")]
    assert len(protected) > 40
    for label, operation in protected:
        for status in ("401", "403", "500", "503"):
            content = operation["responses"][status]["content"]
            assert content == {"application/json": {"schema": ERROR}}, (label, status)


def test_422_is_documented_as_what_the_handlers_send(
    client: TestClient, document: dict[str, Any]
) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for label, operation in operations(document):
        if "422" in operation["responses"]:
            assert operation["responses"]["422"]["content"]["application/json"] == {
                "schema": ERROR
            }, label
    answer = client.post("/api/v1/auth/token", data={})
    assert answer.status_code == 422
    assert set(answer.json()) == {"detail", "code"}


def test_bodies_document_413_and_an_error_that_is_json_even_on_a_text_route(
    document: dict[str, Any],
) -> None:
    for label, operation in operations(document):
        if "requestBody" in operation:
            assert "413" in operation["responses"], label
    diagram = document["paths"]["/api/v1/workflows/{name}/diagram"]["get"]
    assert diagram["responses"]["404"]["content"] == {"application/json": {"schema": ERROR}}


def test_every_json_body_has_an_example_that_the_server_accepts_as_a_model(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for label, operation in operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        assert schemas[name].get("examples"), label
    login = document["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    form = login["application/x-www-form-urlencoded"]
    assert form["examples"]["demo"]["value"]["username"] == "kemlu.worker"
    assert "$ref" in form["schema"]
    intake = schemas["CaseCreate"]["examples"][0]
    assert intake["victim"]["full_name"] == "Siti Rahayu"
    VictimCreate.model_validate(intake["victim"])
    assert schemas["TransitionRequest"]["examples"][0]["trigger"] == "begin_screening_abroad"


def test_the_rules_the_server_enforces_are_schema_constraints(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "MM" in schemas["CountryCode"]["enum"] and "XX" not in schemas["CountryCode"]["enum"]
    assert schemas["Province"]["enum"] == list(PROVINCES)
    for named in ("Sex", "Channel", "ExploitationType", "Role", "ApprovalStatus"):
        assert "enum" in schemas[named], named
    assert schemas["UserCreate"]["properties"]["password"]["minLength"] == 12
    assert schemas["PasswordChange"]["properties"]["new_password"]["minLength"] == 12
    key = next(
        p
        for p in document["paths"]["/api/v1/cases"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert key["schema"]["pattern"] == "^[ -~]{1,200}$"
    role = schemas["UserUpdate"]["properties"]["role"]
    assert role == {"$ref": "#/components/schemas/Role"}  # null is refused: not offered


@pytest.mark.parametrize("path", ["/api/v1/users/2147483648", "/api/v1/users/99999999999999999999"])
def test_an_id_beyond_any_row_is_a_422_not_a_500(
    client: TestClient, actors: Actors, path: str
) -> None:
    admin = actors.get("admin").headers
    answer = client.patch(path, json={"is_active": False}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"
