"""The workflow as a Mermaid state diagram drawn by `transitions`, phases as composite states
(and, from version 3, the service requests that run beside them as one more).

The drawing machine is a `HierarchicalGraphMachine` built from the same phase tree and rows as the
engine's, once per definition and only when a diagram is asked for, so firing never pays for it.
Marking a case's state styles one node of a fresh graph object over that machine, and the text
for each (version, state) is kept: a version has one text per state and one unmarked.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from transitions.extensions.diagrams import HierarchicalGraphMachine
from transitions.extensions.diagrams_mermaid import NestedGraph

from workflows.machine import SEPARATOR, PhaseState, endpoints, nested_name, phase_tree
from workflows.model import Definition, StateSpec
from workflows.services import SERVICE_STATUSES, is_final, machine_rows

CURRENT = "active"  # the library's name for the style of a model's current state
SERVICES = "services"  # the composite state of the service requests (no phase has this name)


class PhaseGraph(NestedGraph):
    """The library's Mermaid graph, able to style a nested state.

    Its `_add_nodes` writes `Class` lines for top-level states only; every state of ours is
    nested in a phase, so the styled nested nodes get the same kind of line here.
    """

    def _add_nodes(self, states: list[dict[str, Any]], container: list[str]) -> None:
        super()._add_nodes(states, container)
        for name, style in self.custom_styles["node"].items():
            if style and SEPARATOR in name:
                container.append(f"Class {name} s_{style}")


def _styles() -> dict[str, Any]:
    """The library's styles, with the current state drawn as the old diagram drew it."""
    styles: dict[str, Any] = copy.deepcopy(HierarchicalGraphMachine.style_attributes)
    styles["node"][CURRENT] = {"fillcolor": "#ffd54f", "stroke": "#e65100", "stroke-width": "3px"}
    return styles


class DrawingMachine(HierarchicalGraphMachine):
    state_cls = PhaseState
    machine_attributes = {"directed": "true", "strict": "false", "rankdir": "TB"}
    style_attributes = _styles()


@dataclass(frozen=True)
class _Published:
    """A definition as a cache key: name, version and checksum say which one it is."""

    name: str
    version: int
    checksum: str
    definition: Definition = field(compare=False, hash=False)


def mermaid(definition: Definition, current: str | None = None) -> str:
    """Mermaid text grouped by phase; with `current`, a state of the definition, that one marked."""
    key = _Published(definition.name, definition.version, definition.checksum, definition)
    if current not in definition.states:
        current = None
    return _text(key, current)


@lru_cache(maxsize=128)
def _text(key: _Published, current: str | None) -> str:
    machine = _machine(key)
    graph = PhaseGraph(machine)
    if current is not None:
        graph.set_node_style(nested_name(key.definition.states[current]), CURRENT)
    source: str = graph.get_graph().source
    return source + "\n"


@lru_cache(maxsize=16)
def _machine(key: _Published) -> DrawingMachine:
    definition = key.definition
    title = f"{definition.title.id} / {definition.title.en} (v{definition.version})"
    machine = DrawingMachine(
        model=None,
        states=phase_tree(definition, label=_label),
        initial=nested_name(definition.states[definition.initial]),
        auto_transitions=False,
        graph_engine="mermaid",
        # The library writes the title alone between `---` lines; Mermaid reads that front
        # matter as YAML, so the title goes in as a `title:` entry with a quoted value.
        title=f"title: {json.dumps(title, ensure_ascii=False)}",
    )
    for row in definition.transitions:
        source, dest = endpoints(definition, row)
        machine.add_transition(row.trigger, source, dest)
    if definition.services:
        machine.add_states([_services_tree(definition)])
        for action, source, dest in machine_rows():
            machine.add_transition(
                f"{action}_service",
                f"{SERVICES}{SEPARATOR}{source}",
                f"{SERVICES}{SEPARATOR}{dest}",
            )
    machine.get_markup_config()  # converted once here, read-only for every drawing after
    return machine


def _services_tree(definition: Definition) -> dict[str, Any]:
    """The services beside the pathway as one more composite state: the small machine every
    request runs, its `requested` node listing each kind with its owner and start deadline."""
    kinds = "<br/>".join(
        f"{spec.label.en} / <i>{spec.label.id}</i>: {spec.ministry}, starts within "
        f"{spec.start_within.describe()}"
        + (f" (emergency {spec.emergency.start_within.describe()})" if spec.emergency else "")
        for spec in definition.services.values()
    )
    labels = {"requested": f"Requested<br/>{kinds}"}
    children = [
        {"name": status, "final": is_final(status),
         "label": labels.get(status, status.capitalize()).replace('"', "'")}
        for status in SERVICE_STATUSES
    ]  # fmt: skip
    return {"name": SERVICES, "label": "Services beside the pathway", "children": children}


def _label(state: StateSpec) -> str:
    text = f"{state.label.en}<br/><i>{state.label.id}</i><br/>{state.ministry}"
    return text.replace('"', "'")
