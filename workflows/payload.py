"""Payload validation against a transition's published JSON Schema."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from workflows.errors import DefinitionError, PayloadInvalid

_FORMATS = FormatChecker()
# The integers every JSON reader holds exactly: a JavaScript number, a float64 anywhere.
MAX_SAFE_INTEGER = 2**53 - 1


def portable_numbers(value: Any, where: str = "payload") -> Any:
    """`value` with every number an integer that any language reads and writes alike.

    A payload is hashed into the audit log as its JSON text, so a number must have one text in
    every JSON writer: an integer within +-(2**53 - 1). A float with no fraction is that integer
    (JSON Schema counts 1.0 as an integer; -0.0 is 0); any other number (1.5, 1e300, NaN, an
    integer beyond the bound) raises ValueError naming where it is.
    """
    kind = type(value)
    if kind is dict:
        return {k: portable_numbers(v, f"{where}.{k}") for k, v in value.items()}
    if kind is list:
        return [portable_numbers(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind is float:
        if not value.is_integer():  # also NaN and the infinities
            raise ValueError(f"{where}: numbers must be whole (integers), not {value!r}")
        value = int(value)
    if type(value) is int and abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(
            f"{where}: integers must lie within +-{MAX_SAFE_INTEGER} (2**53 - 1), "
            "the range every JSON reader holds exactly"
        )
    return value


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


_NOT_FREE = ("enum", "const", "format", "pattern")


def is_free_text(schema: Mapping[str, Any]) -> bool:
    """A string the schema leaves free: no enum, const, format or pattern. Such a field may
    hold anything a person types (a name, an address, a story), so it is erasable: written to
    the audit log only sealed under the case's own key. Derived, not declared, so that a new
    definition version cannot forget a field, and the published versions stay as they are."""
    kind = schema.get("type")
    strings = kind == "string" or (isinstance(kind, list) and "string" in kind)
    return strings and not any(key in schema for key in _NOT_FREE)


def map_free_text(schema: Any, value: Any, change: Callable[[str], Any]) -> Any:
    """`value` with `change` applied to every string at a free-text place of `schema`
    (through `properties`, `additionalProperties` and `items`)."""
    if not isinstance(schema, Mapping):
        return value
    if isinstance(value, str):
        return change(value) if is_free_text(schema) else value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: map_free_text(properties.get(key, extra), item, change)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [map_free_text(schema.get("items"), item, change) for item in value]
    return value
