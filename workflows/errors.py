"""What the workflow layer refuses, in its own words; the service maps these to HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WorkflowError(Exception):
    """Base of everything the workflow layer refuses."""


class DefinitionError(WorkflowError):
    """A definition file that must not be loaded; the message names the culprit."""


@dataclass
class InvalidTransition(WorkflowError):
    trigger: str
    state: str

    def __str__(self) -> str:
        return f"trigger {self.trigger!r} does not leave state {self.state!r}"


@dataclass
class GuardRefused(WorkflowError):
    guard: str
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass
class PayloadInvalid(WorkflowError):
    """The payload does not satisfy the transition's published JSON Schema."""

    errors: list[dict[str, Any]]

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in self.errors)
