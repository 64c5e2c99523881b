"""Migrating running cases between two published versions of one workflow: the reviewed mapping
file, its checks against both definitions, and the decision for one case.

Camunda 8's process-instance migration is the model: a plan of mapping instructions, checked in
full before anything moves; a dry run; then instance by instance. A case whose state has no
mapping stays where it is. Pure: the service reads the cases and moves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workflows.errors import WorkflowError
from workflows.loader import checksum
from workflows.model import Definition

_NAME = r"^[a-z][a-z0-9_]*$"
_UNION_TAGS = frozenset({"str", "Target"})  # pydantic's names for the branches of `states`


class MappingInvalid(WorkflowError):
    """A mapping refused; `field` is the dotted path of what is wrong (`states.sheltered`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class VersionRef(_Strict):
    name: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)

    def describe(self) -> str:
        return f"{self.name} v{self.version}"


class Target(_Strict):
    """The long form of a mapping: the target state, and the service requests to open as
    started there (a target definition with a `services:` block, such as version 3)."""

    state: str = Field(min_length=1, max_length=64, pattern=_NAME)
    services: list[str] = Field(default_factory=list, max_length=20)


class MappingFile(_Strict):
    """The reviewed file, exactly: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    source: VersionRef = Field(alias="from")
    to: VersionRef
    states: dict[str, str | Target] = Field(min_length=1, max_length=500)
    reasons: dict[str, str] = Field(default_factory=dict, max_length=500)

    def target(self, state: str) -> Target | None:
        mapped = self.states.get(state)
        return Target(state=mapped) if isinstance(mapped, str) else mapped

    def canonical(self) -> dict[str, Any]:
        """What the checksum covers: the meaning, with every mapping in its long form, so the
        file's layout, comments and the short or long spelling do not count."""
        return {
            "from": self.source.model_dump(),
            "to": self.to.model_dump(),
            "states": {
                state: {"state": target.state, "services": sorted(target.services)}
                for state in sorted(self.states)
                if (target := self.target(state)) is not None
            },
            "reasons": dict(sorted(self.reasons.items())),
        }

    @property
    def checksum(self) -> str:
        return checksum(self.canonical())


def parse_mapping(raw: Any) -> MappingFile:
    """The mapping as data (the YAML file's, or the API's object); refused naming the field."""
    if not isinstance(raw, dict):
        raise MappingInvalid("mapping", "must be a mapping with from, to and states")
    try:
        return MappingFile.model_validate(raw)
    except ValidationError as exc:
        # of a union's errors, the branch that got furthest names the field best
        error = max(exc.errors(), key=lambda e: len(e["loc"]))
        field = ".".join(str(p) for p in error["loc"] if p not in _UNION_TAGS) or "mapping"
        raise MappingInvalid(field, error["msg"]) from exc


def check_mapping(mapping: MappingFile, source: Definition, target: Definition) -> None:
    """Refuse, naming the field, a mapping that does not fit the two definitions: a source
    state it does not have, a target state it does not have, a live state sent to a terminal
    one, an unknown service kind, or a note about a state the source version does not have (a
    note may explain why a state stays unmapped: the dry run shows it to whoever reviews it)."""
    if mapping.source.name != mapping.to.name:
        raise MappingInvalid("to.name", "a mapping moves cases between versions of one workflow")
    if mapping.source.version == mapping.to.version:
        raise MappingInvalid("to.version", "the target version must differ from the source's")
    services = declared_services(target)
    for state in mapping.states:
        field = f"states.{state}"
        if state not in source.states:
            raise MappingInvalid(field, f"{source.name} v{source.version} has no state {state!r}")
        wanted = mapping.target(state)
        assert wanted is not None
        if wanted.state not in target.states:
            raise MappingInvalid(
                field, f"{target.name} v{target.version} has no state {wanted.state!r}"
            )
        if target.state(wanted.state).terminal and not source.state(state).terminal:
            raise MappingInvalid(field, f"{wanted.state!r} is terminal but {state!r} is not")
        if wanted.services and services is not None:
            unknown = sorted(set(wanted.services) - services)
            if unknown:
                raise MappingInvalid(
                    f"{field}.services",
                    f"{target.name} v{target.version} declares no service {', '.join(unknown)}",
                )
    for state in mapping.reasons:
        if state not in source.states:
            raise MappingInvalid(
                f"reasons.{state}", f"{source.name} v{source.version} has no state {state!r}"
            )


def declared_services(definition: Definition) -> set[str] | None:
    """The service kinds a definition declares (a `services:` block), or None if it has none:
    then the kinds a mapping names are recorded as asked and checked when they are opened."""
    block = definition.source.get("services")
    if isinstance(block, Mapping):
        return {str(kind) for kind in block}
    if isinstance(block, list):
        return {str(s.get("kind", s.get("name")) if isinstance(s, Mapping) else s) for s in block}
    return None


@dataclass(frozen=True)
class CaseAt:
    """What the decision needs of one case on the source version."""

    state: str
    pending_trigger: str | None = None  # the trigger of a pending four-eyes request
    pending_ministry: str | None = None  # the ministry that asked for it


@dataclass(frozen=True)
class Decision:
    """Where the case goes (`to_state`), or why it stays (`refusal` and `reason`)."""

    from_state: str
    to_state: str | None
    services: tuple[str, ...] = ()
    refusal: str | None = None
    reason: str | None = None

    @property
    def moves(self) -> bool:
        return self.refusal is None


def decide(mapping: MappingFile, source: Definition, target: Definition, case: CaseAt) -> Decision:
    """One case: move it to its mapped state, or say why it stays on the source version."""
    state = case.state
    if source.state(state).terminal:
        return Decision(state, None, refusal="terminal", reason=f"{state!r} is terminal: a "
                        "closed case keeps the version it closed on")  # fmt: skip
    wanted = mapping.target(state)
    if wanted is None:
        why = mapping.reasons.get(state)
        return Decision(state, None, refusal="unmapped", reason=f"the mapping does not map "
                        f"{state!r}: the case stays on version {source.version}"
                        + (f" ({why})" if why else ""))  # fmt: skip
    dest = target.state(wanted.state)
    services = tuple(wanted.services)
    if case.pending_trigger:
        row = target.transition(case.pending_trigger, dest.name)
        if row is None or case.pending_ministry not in row.ministries:
            return Decision(state, dest.name, services, "approval_pending", (
                f"a four-eyes request of {case.pending_ministry} for {case.pending_trigger!r} "
                f"waits, and version {target.version} does not let it fire that from "
                f"{dest.name!r}: decide or cancel it first"
            ))  # fmt: skip
    return Decision(state, dest.name, services)
