"""What the hierarchical machine costs: `resolve` + `fire` and the diagram, old engine against new.

    .venv/bin/python -m bench.engine_fire [--number 2000] [--repeat 7]

Pure: no database, no web framework, one thread. The old engine and the old hand-written drawer
are kept here, and only here, as they were before the hierarchical machine (a flat `Machine`, a
lookup in the definition before firing, a refusal passed out on the view). Each figure is the
best of `--repeat` rounds, so a busy machine shows up as spread between runs, not as a slower
engine; the payloads and facts are the same for both engines.
"""

from __future__ import annotations

import argparse
import gc
import time
import timeit
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jsonschema import Draft202012Validator
from transitions import EventData, Machine

from workflows import Actor, CaseFacts, Engine, GuardRefused, InvalidTransition, load_file, mermaid
from workflows.diagram import _machine, _Published, _text
from workflows.guards import GUARDS, GuardContext
from workflows.loader import DEFINITIONS_DIR
from workflows.model import PHASES, Definition, StateSpec, TransitionSpec
from workflows.payload import compile_schema, validate_payload

V1 = DEFINITIONS_DIR / "nrm-indonesia-v1.yaml"
CONSENT = {
    "by": "victim",
    "purposes": ["services", "data_sharing"],
    "recipients": ["KEMENKES", "KEMENSOS", "POLRI"],
    "given_on": "2026-01-05",
}
ADULT = CaseFacts(
    is_child=False,
    nationality="ID",
    referring_ministry="POLRI",
    ministries_involved=frozenset({"PEMDA", "KEMENSOS"}),
    consent_recipients=frozenset({"KEMENKES", "KEMENSOS", "POLRI"}),
    objects_to_country_notification=False,
)
CHILD = CaseFacts(**{**ADULT.__dict__, "is_child": True})


@dataclass(frozen=True)
class Row:
    """One representative firing: what it shows, where from, and what it carries."""

    what: str
    state: str
    trigger: str
    payload: Mapping[str, Any]
    facts: CaseFacts = ADULT
    refused: bool = False


ROWS = (
    Row("move within a phase, no guard", "referred", "begin_screening", {"screening_unit": "UPTD"}),
    Row(
        "in place (internal), no guard",
        "screening",
        "record_police_report",
        {"report_number": "LP/B/123/II/2026", "filed_on": "2026-01-20"},
    ),
    Row("across phases, consent guard", "identified", "record_consent", {"consent": CONSENT}),
    Row(
        "hand-over, consent-covers guard",
        "sheltered",
        "begin_health_rehabilitation",
        {"facility": "RSUD Kupang"},
    ),
    Row("into a final state", "monitoring", "close", {"reason": "reintegrated"}),
    Row(
        "guard refuses (child's own consent)",
        "identified",
        "record_consent",
        {"consent": CONSENT},
        facts=CHILD,
        refused=True,
    ),
)
ACTOR = Actor(ministry="PEMDA", role="case_worker")


# ---- the engine and the drawer as they were, for comparison only ----------------------------


@dataclass
class _FlatView:
    state: str
    refusal: GuardRefused | None = None


class FlatEngine:
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
                conditions=[_flat_condition(name) for name in row.guards],
            )
            self._validators[(row.trigger, row.source)] = compile_schema(row.payload_schema)

    def resolve(self, state: str, trigger: str) -> TransitionSpec:
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
        validate_payload(self._validators[(row.trigger, row.source)], payload)
        context = GuardContext(
            case=facts,
            actor=actor,
            payload=payload,
            source=self.definition.states[row.source],
            dest=self.definition.states[row.dest],
            override_reason=override_reason,
        )
        view = _FlatView(state=row.source)
        if not self.machine.events[row.trigger].trigger(view, context=context):
            raise view.refusal or GuardRefused(guard="?", reason="the transition was refused")
        return self.definition.states[view.state]


def _flat_condition(name: str) -> Callable[[EventData], bool]:
    check = GUARDS[name]

    def condition(event: EventData) -> bool:
        reason = check(event.kwargs["context"])
        if reason is None:
            return True
        cast(_FlatView, event.model).refusal = GuardRefused(guard=name, reason=reason)
        return False

    return condition


def old_mermaid(definition: Definition, current: str | None = None) -> str:
    lines = ["flowchart TD"]
    for phase in PHASES:
        members = [s for s in definition.states.values() if s.phase == phase]
        if members:
            lines.append(f'  subgraph {phase}["{phase.capitalize()}"]')
            for s in members:
                text = f"{s.label.en}<br/><i>{s.label.id}</i><br/>{s.ministry}".replace('"', "'")
                lines.append(
                    f'    {s.name}(["{text}"])' if s.terminal else f'    {s.name}["{text}"]'
                )
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


# ---- measuring -------------------------------------------------------------------------------


def best_us(func: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def firing(engine: Engine | FlatEngine, row: Row) -> Callable[[], object]:
    def once() -> object:
        spec = engine.resolve(row.state, row.trigger)
        try:
            return engine.fire(spec, facts=row.facts, actor=ACTOR, payload=row.payload)
        except GuardRefused:
            if not row.refused:
                raise
            return None

    return once


def built(factory: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best build time in ms, and the memory the built object keeps in KiB."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        factory()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = factory()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return min(times) * 1e3, (after - before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="firings per round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds; the best one counts")
    args = parser.parse_args()
    definition = load_file(V1)
    old, new = FlatEngine(definition), Engine(definition)
    for row in ROWS:  # both engines agree before either is timed
        assert firing(old, row)() == firing(new, row)(), row.what

    print(f"resolve + fire, µs per firing (best of {args.repeat} x {args.number})")
    print(f"  {'trigger':<28} {'what it shows':<36} {'old':>6} {'new':>6} {'new-old':>7}")
    for row in ROWS:
        before = best_us(firing(old, row), args.number, args.repeat)
        after = best_us(firing(new, row), args.number, args.repeat)
        figures = f"{before:6.1f} {after:6.1f} {after - before:+7.1f}"
        print(f"  {row.trigger:<28} {row.what:<36} {figures}")
    resolve = best_us(lambda: new.resolve("screening", "identify"), args.number, args.repeat)
    flat_resolve = best_us(lambda: old.resolve("screening", "identify"), args.number, args.repeat)
    print(f"  {'resolve alone':<65} {flat_resolve:6.2f} {resolve:6.2f}")

    print("\nbuilding one engine for v1 (23 states, 149 rows): best ms, KiB kept")
    engines: dict[str, Callable[[], object]] = {
        "old": lambda: FlatEngine(definition),
        "new": lambda: Engine(definition),
    }
    for name, factory in engines.items():
        ms, kib = built(factory, args.repeat)
        print(f"  {name}: {ms:6.2f} ms {kib:8.0f} KiB")

    key = _Published(definition.name, definition.version, definition.checksum, definition)
    rounds = max(args.number // 20, 10)
    drawing_ms, drawing_kib = built(lambda: _machine.__wrapped__(key), args.repeat)
    hand_written = best_us(lambda: old_mermaid(definition, "sheltered"), rounds, args.repeat)
    marked = best_us(lambda: _text.__wrapped__(key, "sheltered"), rounds, args.repeat)
    mermaid(definition, "sheltered")
    cached = best_us(lambda: mermaid(definition, "sheltered"), args.number, args.repeat)
    print("\ndiagram of v1, µs")
    print(f"  old hand-written drawer, per call          {hand_written:9.1f}")
    kept = f"({drawing_kib:.0f} KiB kept)"
    print(f"  drawing machine, built once per version    {drawing_ms * 1e3:9.1f}  {kept}")
    print(f"  library's text from the built machine      {marked:9.1f}  (fresh graph, one marked)")
    print(f"  mermaid(definition, current), cached       {cached:9.1f}")


if __name__ == "__main__":
    main()
