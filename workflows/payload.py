"""Payload validation against a transition's published JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from workflows.errors import DefinitionError, PayloadInvalid

_FORMATS = FormatChecker()


def check_schema(schema: Mapping[str, Any], where: str) -> None:
    """Refuse, at load time, a payload schema that is not valid JSON Schema 2020-12."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DefinitionError(f"{where}: invalid payload schema: {exc.message}") from exc


def compile_schema(schema: Mapping[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=_FORMATS)


def validate_payload(validator: Draft202012Validator, payload: Mapping[str, Any]) -> None:
    """Raise PayloadInvalid listing every violation, each located under `payload`."""
    errors = sorted(validator.iter_errors(payload), key=lambda e: [str(p) for p in e.path])
    if errors:
        raise PayloadInvalid(
            [
                {"loc": ["body", "payload", *e.path], "msg": e.message, "type": str(e.validator)}
                for e in errors
            ]
        )
