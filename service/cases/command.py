"""A transition as asked for, by whoever fires it now or approves it later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """A transition as asked for: by whom, with what; approvals replay it later."""

    trigger: str
    payload: dict[str, Any]
    note: str | None
    consent_override_reason: str | None
    to_unit: str | None = None  # the unit the next step should belong to, if the caller says
