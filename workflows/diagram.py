"""The workflow as Mermaid flowchart text, grouped by phase, optionally marking a case's state."""

from __future__ import annotations

from workflows.model import PHASES, Definition, StateSpec


def mermaid(definition: Definition, current: str | None = None) -> str:
    lines = ["flowchart TD"]
    for phase in PHASES:
        members = [s for s in definition.states.values() if s.phase == phase]
        if members:
            lines.append(f'  subgraph {phase}["{phase.capitalize()}"]')
            lines.extend(f"    {_node(state)}" for state in members)
            lines.append("  end")
    edges: dict[tuple[str, str], list[str]] = {}
    in_place: list[str] = []
    for row in definition.transitions:
        if row.source == row.dest:
            if row.trigger not in in_place:
                in_place.append(row.trigger)
            continue
        edges.setdefault((row.source, row.dest), []).append(row.trigger)
    for (source, dest), triggers in edges.items():
        lines.append(f"  {source} -->|{' / '.join(triggers)}| {dest}")
    if in_place:
        lines.append(f"  %% recorded without leaving the state: {', '.join(in_place)}")
    if current is not None and current in definition.states:
        lines.append("  classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
        lines.append(f"  class {current} current")
    return "\n".join(lines) + "\n"


def _node(state: StateSpec) -> str:
    text = f"{state.label.en}<br/><i>{state.label.id}</i><br/>{state.ministry}"
    text = text.replace('"', "'")
    return f'{state.name}(["{text}"])' if state.terminal else f'{state.name}["{text}"]'
