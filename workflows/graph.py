"""Graph checks: every state reachable from the start, and every open state able to close."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from workflows.errors import DefinitionError
from workflows.model import StateSpec, TransitionSpec


def check_graph(
    initial: str, states: Mapping[str, StateSpec], transitions: Iterable[TransitionSpec]
) -> None:
    if initial not in states:
        raise DefinitionError(f"initial state {initial!r} is not a state")
    edges: dict[str, set[str]] = defaultdict(set)
    for row in transitions:
        if states[row.source].terminal:
            raise DefinitionError(f"terminal state {row.source!r} has an exit ({row.trigger!r})")
        edges[row.source].add(row.dest)
    unreachable = set(states) - reachable(initial, edges)
    if unreachable:
        raise DefinitionError(f"unreachable state(s): {', '.join(sorted(unreachable))}")
    terminals = {name for name, state in states.items() if state.terminal}
    if not terminals:
        raise DefinitionError("no terminal state: a case could never close")
    stuck = sorted(n for n in states if n not in terminals and not reachable(n, edges) & terminals)
    if stuck:
        raise DefinitionError(f"state(s) that can never reach closure: {', '.join(stuck)}")


def reachable(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen = {start}
    frontier = [start]
    while frontier:
        for nxt in edges.get(frontier.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen
