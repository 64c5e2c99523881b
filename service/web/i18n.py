"""Languages: Bahasa Indonesia by default, English by choice.

Text comes from two places only: the workflow definition's `id`/`en` labels (states, triggers,
ministries, the workflow's title) and the message catalogues `locales/<language>.yaml`, flat
keys with `str.format` fields. Both catalogues hold the same keys (a test holds that), so no
screen can be English-only. Dates are shown in WIB (Asia/Jakarta), Indonesian style.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from schemas.common import WIB
from workflows import Label
from workflows.registry import Registry

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
_LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(language: str) -> dict[str, str]:
    raw: dict[str, Any] = yaml.safe_load((_LOCALES / f"{language}.yaml").read_text("utf-8"))
    return {str(key): str(value) for key, value in _flatten(raw)}


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{name}."))
        else:
            items.append((name, value))
    return items


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


class Translator:
    """Everything a page says, in one language."""

    def __init__(self, language: str, registry: Registry | None = None) -> None:
        self.language = language_of(language)
        self.messages = catalogue(self.language)
        self.registry = registry

    def __call__(self, key: str, /, **fields: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            return key  # a missing key shows itself (tests look for them)
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in self.messages

    def maybe(self, key: str, default: str) -> str:
        """The catalogue's text for `key`, else `default` (a code or a name as it is)."""
        return self.messages.get(key, default)

    def label(self, label: Label | Any) -> str:
        return str(label.id if self.language == "id" else label.en)

    # --- the definition's words -----------------------------------------------------------
    def state(self, name: str | None) -> str:
        if name is None:
            return ""
        label = _labels(self.registry).states.get(name) if self.registry else None
        return self.label(label) if label else name

    def trigger(self, name: str | None) -> str:
        if name is None:
            return ""
        label = _labels(self.registry).triggers.get(name) if self.registry else None
        return self.label(label) if label else self.maybe(f"kind.{name}", name)

    def ministry(self, code: str | None) -> str:
        if code is None:
            return ""
        label = _labels(self.registry).ministries.get(code) if self.registry else None
        return self.label(label) if label else code

    # --- dates ----------------------------------------------------------------------------
    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return str(value)
        if isinstance(value, datetime):
            value = value.astimezone(WIB).date()
        month = self(f"month.{value.month}")
        return f"{value.day} {month} {value.year}"

    def datetime(self, value: datetime | None) -> str:
        """`12 Apr 2026, 14.30 WIB` (Indonesian time uses a dot; English a colon)."""
        if value is None:
            return ""
        local = value.astimezone(WIB)
        month = self(f"month_short.{local.month}")
        separator = "." if self.language == "id" else ":"
        return f"{local.day} {month} {local.year}, {local:%H}{separator}{local:%M} WIB"

    def duration(self, hours: float) -> str:
        """A span in the largest sensible unit: `3 jam`, `2 hari`."""
        if abs(hours) < 1:
            return self("time.minutes", n=max(1, round(abs(hours) * 60)))
        if abs(hours) < 48:
            return self("time.hours", n=round(abs(hours)))
        return self("time.days", n=round(abs(hours) / 24))

    def number(self, value: float | int, digits: int = 0) -> str:
        text = f"{value:,.{digits}f}"
        if self.language == "id":  # 1.234,5
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text


class _Labels:
    def __init__(self, registry: Registry) -> None:
        self.states: dict[str, Label] = {}
        self.triggers: dict[str, Label] = {}
        self.ministries: dict[str, Label] = {}
        for definition in sorted(registry.definitions(), key=lambda d: d.version):
            self.ministries.update(definition.ministries)
            self.states.update({name: s.label for name, s in definition.states.items()})
            self.triggers.update({t.trigger: t.label for t in definition.transitions})


def _labels(registry: Registry | None) -> _Labels:
    assert registry is not None
    labels: _Labels | None = registry.memo.get("web-labels")
    if labels is None:
        labels = registry.memo["web-labels"] = _Labels(registry)
    return labels
