"""Forms: fields generated from a published JSON Schema, their values read back, and every
refusal (pydantic's, the schema's, a use case's) as a message beside its field, translated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.kit.errors import DomainError
from service.web.i18n import Translator

Getter = Callable[[str], str]
ListGetter = Callable[[str], list[str]]
_REQUIRED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is a required property")
_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_.]*): ")
# Messages our own validators raise (schemas/), each to a catalogue key.
_KNOWN_MESSAGES = (
    ("give birth_date, age_estimate, or presumed_child", "error.value.age_unknown"),
    ("province_of_origin is for Indonesian victims", "error.value.province_not_id"),
    ("a NIK has exactly 16 digits", "error.value.nik"),
    ("ISO 3166-1 alpha-2 country code", "error.value.country"),
    ("is not one of Indonesia's 38 provinces", "error.value.province"),
    ("must not be in the future", "error.value.future"),
    ("exploitation_ended_on is before", "error.value.dates_order"),
    ("password: at least", "error.value.password_short"),
    ("password: use at least 5 different", "error.value.password_variety"),
    ("password: too easy to guess", "error.value.password_guessable"),
    ("referral_from must not be after", "error.value.dates_order"),
)
# A model-level refusal belongs beside the field it is about.
_FIELD_OF_MESSAGE = {
    "error.value.age_unknown": "birth_date",
    "error.value.province_not_id": "province_of_origin",
    "error.value.dates_order": "exploitation_ended_on",
    "error.value.password_short": "password",
    "error.value.password_variety": "password",
    "error.value.password_guessable": "password",
}


@dataclass
class SchemaField:
    """One input of a form generated from a JSON Schema."""

    name: str  # the form's name: payload.consent.by
    key: str  # the property, for labels: by
    kind: str  # text, textarea, date, number, select, checkboxes, boolean, group
    required: bool
    options: list[str] = field(default_factory=list)
    children: list[SchemaField] = field(default_factory=list)
    description: str = ""
    max_length: int | None = None


def schema_fields(schema: Mapping[str, Any], prefix: str = "payload") -> list[SchemaField]:
    required = set(schema.get("required", ()))
    fields = []
    for key, spec in (schema.get("properties") or {}).items():
        fields.append(_field(f"{prefix}.{key}", key, spec, key in required))
    return fields


def _field(name: str, key: str, spec: Mapping[str, Any], required: bool) -> SchemaField:
    description = str(spec.get("description", ""))
    if spec.get("type") == "object" or "properties" in spec:
        return SchemaField(name, key, "group", required, children=schema_fields(spec, name),
                           description=description)  # fmt: skip
    if spec.get("type") == "array":
        options = [str(v) for v in (spec.get("items") or {}).get("enum", [])]
        return SchemaField(name, key, "checkboxes", required, options, description=description)
    if "enum" in spec:
        return SchemaField(name, key, "select", required, [str(v) for v in spec["enum"]],
                           description=description)  # fmt: skip
    if spec.get("type") == "boolean":
        return SchemaField(name, key, "boolean", required, description=description)
    if spec.get("type") == "integer":
        return SchemaField(name, key, "number", required, description=description)
    if spec.get("format") == "date":
        return SchemaField(name, key, "date", required, description=description)
    max_length = spec.get("maxLength")
    kind = "textarea" if max_length is None or max_length >= 1000 else "text"
    return SchemaField(name, key, kind, required, description=description, max_length=max_length)


def read_payload(
    fields: Iterable[SchemaField], value: Getter, values: ListGetter
) -> dict[str, Any]:
    """The payload as the form gives it: empty optional inputs are left out, and a value that
    is not what the schema wants is kept as typed, for the schema to refuse beside its field."""
    payload: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == "group":
            inner = read_payload(spec.children, value, values)
            if inner or spec.required:
                payload[spec.key] = inner
        elif spec.kind == "checkboxes":
            chosen = values(spec.name)
            if chosen or spec.required:
                payload[spec.key] = chosen
        elif spec.kind == "boolean":
            raw = value(spec.name)
            if raw in ("true", "false"):
                payload[spec.key] = raw == "true"
        elif spec.kind == "number":
            raw = value(spec.name)
            if raw:
                payload[spec.key] = int(raw) if re.fullmatch(r"-?\d{1,18}", raw) else raw
        else:
            raw = value(spec.name)
            if raw:
                payload[spec.key] = raw
    return payload


def field_label(t: Translator, key: str) -> str:
    return t.maybe(f"field.{key}", key.replace("_", " "))


# --- refusals, translated -------------------------------------------------------------------
def translated_errors(
    t: Translator, errors: Iterable[Mapping[str, Any]], prefix: str = ""
) -> dict[str, str]:
    """pydantic's or the schema's error list as {form field name: message}."""
    found: dict[str, str] = {}
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
        loc = [p for p in loc if not p.isdigit()]
        kind = str(error.get("type", ""))
        message = str(error.get("msg", ""))
        name, text = _one(t, loc, kind, message, dict(error.get("ctx") or {}))
        name = f"{prefix}{name}" if prefix and not name.startswith(prefix) else name
        found.setdefault(name or "_", text)
    return found


def _one(
    t: Translator, loc: list[str], kind: str, message: str, ctx: dict[str, Any]
) -> tuple[str, str]:
    for fragment, key in _KNOWN_MESSAGES:
        if fragment in message:
            target = _FIELD_OF_MESSAGE.get(key)
            name = ".".join([*loc, target] if target and (not loc or loc[-1] != target) else loc)
            return name, _with_label(t, name, t(key))
    if kind == "required":
        missing = _REQUIRED.search(message)
        if missing:
            loc = [*loc, missing.group(1)]
        kind = "missing"
    name = ".".join(loc)
    key = f"error.type.{kind}"
    text = (
        t(key, **{k: v for k, v in ctx.items() if isinstance(v, int | str)})
        if t.has(key)
        else t("error.type.invalid")
    )
    return name, _with_label(t, name, text)


def _with_label(t: Translator, name: str, text: str) -> str:
    if not name:
        return text
    return f"{field_label(t, name.rsplit('.', 1)[-1])}: {text}"


def domain_message(t: Translator, exc: DomainError) -> str:
    """A use case's refusal in the caller's language: by its code, by the guard that refused,
    or by the field its message names; never the English detail itself."""
    cause = exc.__cause__
    guard = getattr(cause, "guard", None)
    if guard is not None and t.has(f"guard.{guard}"):
        return t(f"guard.{guard}")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    match = _FIELD_PREFIX.match(detail)
    if match:
        name = match.group(1)
        specific = f"error.field.{exc.code}.{name}"
        if t.has(specific):
            return t(specific)
        if t.has(f"error.code.{exc.code}"):
            return _with_label(t, name, t(f"error.code.{exc.code}"))
    if t.has(f"error.code.{exc.code}"):
        return t(f"error.code.{exc.code}")
    return (
        t(f"error.{exc.status_code}.help")
        if t.has(f"error.{exc.status_code}.help")
        else t("error.400.help")
    )
