"""One hierarchical `transitions` machine per definition version, fired on a small view of a case.

The machine never touches the database: the service loads a case, asks the engine where a trigger
leads, and writes the state change and its event itself, in one transaction. The machine decides:
its table answers `resolve`, and firing runs the row's conditions (the payload schema, then the
guards), which raise a typed refusal. Nothing needs undoing when one refuses: the view is thrown
away, and no callback does I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from transitions import EventData, MachineError
from transitions.extensions.nesting import HierarchicalMachine, NestedTransition

from workflows.errors import GuardRefused, InvalidTransition
from workflows.guards import GUARDS, Actor, CaseFacts, GuardContext
from workflows.machine import PhaseState, endpoints, nested_name, phase_tree
from workflows.model import Definition, StateSpec, TransitionSpec
from workflows.payload import compile_schema, validate_payload


@dataclass
class CaseView:
    """What the machine moves: the case's nested state name, nothing else."""

    state: str


class RowTransition(NestedTransition):
    """A machine transition that knows the definition row it was built from."""

    def __init__(self, *args: Any, row: TransitionSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row


class PhaseMachine(HierarchicalMachine):
    state_cls = PhaseState
    transition_cls = RowTransition


class Engine:
    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self._nested = {name: nested_name(state) for name, state in definition.states.items()}
        self._plain = {nested: definition.states[name] for name, nested in self._nested.items()}
        self._machine = PhaseMachine(
            model=None,
            states=phase_tree(definition),
            initial=self._nested[definition.initial],
            auto_transitions=False,
            send_event=True,
        )
        for row in definition.transitions:
            source, dest = endpoints(definition, row)
            self._machine.add_transition(
                row.trigger, source, dest, conditions=_conditions(row), row=row
            )
        # The root's events, kept before any firing: the machine swaps `events` while in a scope.
        self._events = self._machine.events
        # A hierarchical machine enters its states' scopes by mutating itself, and the service
        # fires from a thread pool: one firing at a time per machine.
        self._lock = threading.Lock()

    def resolve(self, state: str, trigger: str) -> TransitionSpec:
        """The row that `trigger` fires from `state`, read from the machine's own event table.

        Transitions hang on leaf states only (the builder adds no phase-level ones), so the leaf's
        entry is the whole answer the machine would find.
        """
        event = self._events.get(trigger)
        nested = self._nested.get(state)
        found = event.transitions.get(nested) if event is not None and nested else None
        if not found:
            raise InvalidTransition(trigger=trigger, state=state)
        return cast(RowTransition, found[0]).row

    def fire(
        self,
        row: TransitionSpec,
        *,
        facts: CaseFacts,
        actor: Actor,
        payload: Mapping[str, Any],
        override_reason: str | None = None,
    ) -> StateSpec:
        """Move a view from the row's source; return the destination, or raise the refusal.

        Raises PayloadInvalid or GuardRefused from the row's conditions, InvalidTransition if the
        machine finds no transition for the trigger from the source.
        """
        context = GuardContext(
            case=facts,
            actor=actor,
            payload=payload,
            source=self.definition.states[row.source],
            dest=self.definition.states[row.dest],
            override_reason=override_reason,
        )
        view = CaseView(state=self._nested[row.source])
        try:
            with self._lock:
                moved = self._machine.trigger_event(view, row.trigger, context=context)
        except MachineError as exc:
            raise InvalidTransition(trigger=row.trigger, state=row.source) from exc
        if not moved:
            raise InvalidTransition(trigger=row.trigger, state=row.source)
        return self._plain[view.state]


Condition = Callable[[EventData], bool]
Conditions = list[str | Callable[..., bool | None]]  # as the library's stubs type them


def _conditions(row: TransitionSpec) -> Conditions:
    """The payload's schema first (a guard may read the payload), then the named guards."""
    validator = compile_schema(row.payload_schema)

    def payload_matches_schema(event: EventData) -> bool:
        validate_payload(validator, event.kwargs["context"].payload)
        return True

    return [payload_matches_schema, *(_guard(name) for name in row.guards)]


def _guard(name: str) -> Condition:
    check = GUARDS[name]

    def condition(event: EventData) -> bool:
        reason = check(event.kwargs["context"])
        if reason is not None:
            raise GuardRefused(guard=name, reason=reason)
        return True

    condition.__name__ = name
    return condition
