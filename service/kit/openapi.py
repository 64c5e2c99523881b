"""The OpenAPI document a client generator can use, written once for every route.

- `operationId` is the route function's name (`fire_transition`), unique across the API;
- every error any operation can answer is documented with the one error shape, `ErrorRead`
  (`{"detail", "code"}`), FastAPI's 422 schema included, since that is what the handlers send:
  401 and 403 (`password_change_required`) on every operation that needs a token, 400 (a body
  or query string that is not UTF-8), 413 on every operation with a body, 422 wherever input
  is read, 500 and 503 (the database unavailable or busy, with `Retry-After`) everywhere.

The routers list only the errors that are theirs to explain (404, 409, ...).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from schemas.common import ErrorRead

ERROR = "#/components/schemas/ErrorRead"
_GENERIC = {
    "400": "the body or the query string is not UTF-8 (`body_not_utf8`, `query_not_utf8`)",
    "401": "no valid bearer token (`not_authenticated`)",
    "403": "the caller's role or ministry may not (`forbidden`), or must first change the "
    "password an admin reset (`password_change_required`)",
    "413": "the body is larger than NRM_MAX_BODY_BYTES (`body_too_large`)",
    "422": "invalid input: `detail` is FastAPI's list of fields (`validation_error`) or a "
    "sentence naming the field (`invalid`, ...)",
    "500": "an unexpected error; the answer is still `{detail, code}`",
    "503": "the database is unavailable or busy; try again (`Retry-After` when known)",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def operation_id(route: APIRoute) -> str:
    """The function's name: what a generated client calls (`fire_transition`)."""
    return route.name


def install(app: FastAPI) -> None:
    """Build the document on first use, complete its errors, and keep it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorRead", ErrorRead.model_json_schema())
    seen: set[str] = set()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _unique(operation["operationId"], seen)
            _document_errors(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return document


def _unique(name: str, seen: set[str]) -> None:
    if name in seen:
        raise ValueError(f"two operations are named {name!r}: rename one route function")
    seen.add(name)


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = ["400", "500", "503"]
    if operation.get("security"):
        statuses += ["401", "403"]
    if "requestBody" in operation:
        statuses += ["413", "422"]
    if operation.get("parameters"):
        statuses.append("422")
    for status in statuses:
        responses.setdefault(status, {})
    for status, response in responses.items():
        if status[0] not in "45" or not _ours(response):
            continue
        # JSON, whatever the route's own answer is (a diagram is text; its 404 is not)
        response["content"] = {"application/json": {"schema": {"$ref": ERROR}}}
        response["description"] = _description(status, response.get("description"))
        if status in ("503", "429"):
            response.setdefault("headers", {}).update(_RETRY_AFTER)


def _ours(response: dict[str, Any]) -> bool:
    """An error answered by the app's handlers: not one a route shapes itself (/health's 503
    is described by its route, without this shape)."""
    schemas = [media.get("schema", {}) for media in response.get("content", {}).values()]
    if not schemas:
        return "description" not in response
    return all(
        schema.get("$ref", "").endswith(("/ErrorRead", "/HTTPValidationError"))
        for schema in schemas
    )


def _description(status: str, given: str | None) -> str:
    if given and given not in ("Validation Error", "Successful Response") and status != "422":
        return given
    return _GENERIC.get(status) or given or "an error"
