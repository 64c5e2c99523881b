"""A definition as `transitions` configuration: each phase a parent state, each state its child.

This module is the one place that knows the machine's own names. State `protected_abroad` of
phase `rehabilitation` is `rehabilitation__protected_abroad` inside a machine. The separator is a
double underscore: the loader refuses one in a state name, so a nested name splits one way only,
and it is made of word characters because Mermaid's `class` statement takes nothing else (a dot,
for one, would cut the name short there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions.extensions.nesting import NestedState

from workflows.model import PHASES, Definition, StateSpec, TransitionSpec

SEPARATOR = "__"


class PhaseState(NestedState):
    """A nested state with our separator, and an optional label for the library's diagrams."""

    separator = SEPARATOR

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


def nested_name(state: StateSpec) -> str:
    return f"{state.phase}{SEPARATOR}{state.name}"


def phase_tree(
    definition: Definition, label: Callable[[StateSpec], str] | None = None
) -> list[dict[str, Any]]:
    """The phases in their fixed order, each with its states as children; terminal states final.

    A phase has no initial child: a case never enters a phase as such, only one of its states.
    """
    tree: list[dict[str, Any]] = []
    for phase in PHASES:
        members = [s for s in definition.states.values() if s.phase == phase]
        if not members:
            continue
        children = [
            {"name": s.name, "final": s.terminal, "label": label(s) if label else None}
            for s in members
        ]
        tree.append(
            {"name": phase, "label": phase.capitalize() if label else None, "children": children}
        )
    return tree


def endpoints(definition: Definition, row: TransitionSpec) -> tuple[str, str | None]:
    """The row's nested source and destination; no destination for a row that stays in place.

    The library calls such a transition internal: it runs its conditions but neither leaves nor
    re-enters the state, which is what "recorded without leaving the state" means.
    """
    source = nested_name(definition.states[row.source])
    if row.dest == row.source:
        return source, None
    return source, nested_name(definition.states[row.dest])
