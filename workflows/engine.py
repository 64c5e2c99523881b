"""One `transitions` machine per definition version, fired on a small in-memory view of a case.

The machine never touches the database: the service loads a case, asks the engine where a trigger
leads, and writes the state change and its event itself, in one transaction. Guards run as the
machine's conditions; they are pure, so nothing needs undoing when one refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jsonschema import Draft202012Validator
from transitions import EventData, Machine

from workflows.errors import GuardRefused, InvalidTransition
from workflows.guards import GUARDS, Actor, CaseFacts, GuardContext
from workflows.model import Definition, StateSpec, TransitionSpec
from workflows.payload import compile_schema, validate_payload


@dataclass
class CaseView:
    """What the machine moves: a state name, and the first refusal if a guard said no."""

    state: str
    refusal: GuardRefused | None = None


class Engine:
    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.machine = Machine(
            model=None,
            states=list(definition.states),
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        for row in definition.transitions:
            self.machine.add_transition(
                row.trigger,
                row.source,
                row.dest,
                conditions=[_condition(name) for name in row.guards],
            )
            self._validators[(row.trigger, row.source)] = compile_schema(row.payload_schema)

    def resolve(self, state: str, trigger: str) -> TransitionSpec:
        """The row that `trigger` fires from `state`, or InvalidTransition."""
        row = self.definition.transition(trigger, state)
        if row is None:
            raise InvalidTransition(trigger=trigger, state=state)
        return row

    def fire(
        self,
        row: TransitionSpec,
        *,
        facts: CaseFacts,
        actor: Actor,
        payload: Mapping[str, Any],
        override_reason: str | None = None,
    ) -> StateSpec:
        """Validate the payload, run the guards and move a view; return the destination."""
        validate_payload(self._validators[(row.trigger, row.source)], payload)
        context = GuardContext(
            case=facts,
            actor=actor,
            payload=payload,
            source=self.definition.states[row.source],
            dest=self.definition.states[row.dest],
            override_reason=override_reason,
        )
        view = CaseView(state=row.source)
        if not self.machine.events[row.trigger].trigger(view, context=context):
            raise view.refusal or GuardRefused(guard="?", reason="the transition was refused")
        return self.definition.states[view.state]


def _condition(name: str) -> Callable[[EventData], bool]:
    check = GUARDS[name]

    def condition(event: EventData) -> bool:
        reason = check(event.kwargs["context"])
        if reason is None:
            return True
        cast(CaseView, event.model).refusal = GuardRefused(guard=name, reason=reason)
        return False

    condition.__name__ = name
    return condition
