"""The hierarchical engine and its diagram: the machine decides, refuses in types, hides its names.

Pure: no database and no web framework. The expected destinations come from the definition
file read as plain YAML, not from the loader, so the machine is checked against the source.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from typing import Any

import pytest
import yaml

from workflows import (
    PHASES,
    Actor,
    CaseFacts,
    Engine,
    GuardRefused,
    InvalidTransition,
    PayloadInvalid,
    load_file,
    mermaid,
)
from workflows.loader import DEFINITIONS_DIR
from workflows.machine import SEPARATOR

V1 = DEFINITIONS_DIR / "nrm-indonesia-v1.yaml"
DEFINITION = load_file(V1)
ACTOR = Actor(ministry="PEMDA", role="case_worker")


def facts(**changes: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "is_child": False,
        "nationality": "ID",
        "referring_ministry": "POLRI",
        "ministries_involved": frozenset({"PEMDA"}),
        "consent_recipients": frozenset({"KEMENKES", "KEMENSOS", "KEMENPPPA", "PEMDA"}),
        "objects_to_country_notification": False,
    }
    return CaseFacts(**{**values, **changes})


def consent(by: str = "victim") -> dict[str, Any]:
    return {
        "by": by,
        "purposes": ["services"],
        "recipients": ["KEMENKES"],
        "given_on": "2026-01-05",
    }


def yaml_rows() -> dict[tuple[str, str], str]:
    """(source, trigger) -> destination, read straight from the file (`dest: "="` stays put)."""
    document = yaml.safe_load(V1.read_text())
    rows: dict[tuple[str, str], str] = {}
    for raw in document["transitions"]:
        sources = [raw["source"]] if isinstance(raw["source"], str) else raw["source"]
        for source in sources:
            rows[(source, raw["trigger"])] = source if raw["dest"] == "=" else raw["dest"]
    return rows


ROWS = yaml_rows()
TRIGGERS = sorted({trigger for _, trigger in ROWS})
PAIRS = [(state, trigger) for state in DEFINITION.states for trigger in TRIGGERS]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(DEFINITION)


def test_the_yaml_has_the_rows_the_definition_was_built_from() -> None:
    assert len(ROWS) == len(DEFINITION.transitions) == 149
    assert sum(source == dest for (source, _), dest in ROWS.items()) == 64


@pytest.mark.parametrize(("state", "trigger"), PAIRS)
def test_every_state_and_trigger_resolves_to_the_yaml_destination_or_is_invalid(
    engine: Engine, state: str, trigger: str
) -> None:
    expected = ROWS.get((state, trigger))
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            engine.resolve(state, trigger)
        assert (refused.value.state, refused.value.trigger) == (state, trigger)
    else:
        row = engine.resolve(state, trigger)
        assert (row.source, row.trigger, row.dest) == (state, trigger, expected)


def test_an_unknown_trigger_or_state_is_an_invalid_transition(engine: Engine) -> None:
    with pytest.raises(InvalidTransition):
        engine.resolve("referred", "teleport")
    with pytest.raises(InvalidTransition):
        engine.resolve("limbo", "begin_screening")
    with pytest.raises(InvalidTransition):  # the phase is a state of the machine, not of a case
        engine.resolve("identification", "begin_screening")


def test_resolve_answers_with_the_definition_row_itself(engine: Engine) -> None:
    row = engine.resolve("sheltered", "begin_health_rehabilitation")
    assert row is DEFINITION.transition("begin_health_rehabilitation", "sheltered")
    assert row.guards == ("consent_covers_recipient",)


@pytest.mark.parametrize(
    ("state", "trigger", "payload", "dest"),
    [
        ("referred", "begin_screening", {"screening_unit": "UPTD PPA Kupang"}, "screening"),
        ("identified", "record_consent", {"consent": consent()}, "emergency_care"),
        ("sheltered", "begin_health_rehabilitation", {"facility": "RSUD"}, "health_rehabilitation"),
        ("monitoring", "close", {"reason": "reintegrated"}, "closed"),
        (
            "screening",
            "record_police_report",
            {"report_number": "LP/1", "filed_on": "2026-01-20"},
            "screening",
        ),
    ],
)
def test_firing_returns_the_plain_definition_state_never_a_nested_name(
    engine: Engine, state: str, trigger: str, payload: dict[str, Any], dest: str
) -> None:
    reached = engine.fire(
        engine.resolve(state, trigger), facts=facts(), actor=ACTOR, payload=payload
    )
    assert reached is DEFINITION.states[dest]
    assert SEPARATOR not in reached.name


def test_a_guard_refusal_is_typed_and_names_its_guard(engine: Engine) -> None:
    row = engine.resolve("identified", "record_consent")
    with pytest.raises(GuardRefused) as refused:
        engine.fire(row, facts=facts(is_child=True), actor=ACTOR, payload={"consent": consent()})
    assert refused.value.guard == "consent_from_the_right_person"
    assert "parent or guardian" in refused.value.reason


def test_the_hand_over_guard_refuses_then_yields_to_a_supervisor_with_a_reason(
    engine: Engine,
) -> None:
    row = engine.resolve("sheltered", "begin_health_rehabilitation")
    no_consent = facts(consent_recipients=frozenset())
    with pytest.raises(GuardRefused) as refused:
        engine.fire(row, facts=no_consent, actor=ACTOR, payload={"facility": "RSUD"})
    assert refused.value.guard == "consent_covers_recipient"
    supervisor = Actor(ministry="KEMENSOS", role="supervisor")
    reached = engine.fire(
        row,
        facts=no_consent,
        actor=supervisor,
        payload={"facility": "RSUD"},
        override_reason="danger to life",
    )
    assert reached.name == "health_rehabilitation"


def test_the_payload_is_checked_before_any_guard(engine: Engine) -> None:
    row = engine.resolve("identified", "record_consent")
    with pytest.raises(PayloadInvalid) as invalid:  # a child's own consent, and a stray field
        engine.fire(
            row,
            facts=facts(is_child=True),
            actor=ACTOR,
            payload={"consent": consent(), "stray": 1},
        )
    assert invalid.value.errors[0]["loc"] == ["body", "payload"]


def test_the_machine_refuses_a_row_whose_source_does_not_have_the_trigger(engine: Engine) -> None:
    row = engine.resolve("referred", "begin_screening")
    foreign = dataclasses.replace(row, source="monitoring")
    with pytest.raises(InvalidTransition) as refused:
        engine.fire(foreign, facts=facts(), actor=ACTOR, payload={})
    assert (refused.value.trigger, refused.value.state) == ("begin_screening", "monitoring")


def test_concurrent_firings_each_reach_their_own_destination(engine: Engine) -> None:
    cases = [
        ("referred", "begin_screening", {}, "screening"),
        ("monitoring", "close", {"reason": "reintegrated"}, "closed"),
        ("identified", "lose_contact", {"last_seen_on": "2026-02-10"}, "contact_lost"),
    ]
    wrong: list[str] = []

    def work(state: str, trigger: str, payload: dict[str, Any], dest: str) -> None:
        row = engine.resolve(state, trigger)
        for _ in range(200):
            reached = engine.fire(row, facts=facts(), actor=ACTOR, payload=payload)
            if reached.name != dest:
                wrong.append(f"{state} --{trigger}--> {reached.name}")

    threads = [threading.Thread(target=work, args=case) for case in cases * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


# --- the diagram, drawn by the library --------------------------------------------------------

CLASS_LINE = re.compile(r"^\s*class (\w+) s_active$", re.MULTILINE | re.IGNORECASE)


def composite_blocks(text: str) -> dict[str, list[str]]:
    """Each `state <phase> {` block and the state ids declared inside it."""
    blocks: dict[str, list[str]] = {}
    for phase, body in re.findall(r"^\s*state (\w+) \{\n(.*?)^\s*\}$", text, re.M | re.S):
        blocks[phase] = re.findall(r'^\s*state ".*" as (\w+)$', body, re.M)
    return blocks


def test_the_diagram_nests_every_state_in_its_phase() -> None:
    blocks = composite_blocks(mermaid(DEFINITION))
    assert list(blocks) == list(PHASES)
    for name, state in DEFINITION.states.items():
        assert f"{state.phase}{SEPARATOR}{name}" in blocks[state.phase]
    assert sum(len(ids) for ids in blocks.values()) == len(DEFINITION.states)


def test_the_diagram_labels_states_in_both_languages_with_the_lead_ministry() -> None:
    text = mermaid(DEFINITION)
    sheltered = DEFINITION.states["sheltered"]
    assert (
        f'state "{sheltered.label.en}<br/><i>{sheltered.label.id}</i><br/>KEMENSOS"'
        " as rehabilitation__sheltered"
    ) in text


def test_the_diagram_labels_edges_with_their_triggers() -> None:
    text = mermaid(DEFINITION)
    assert "identification__referred --> identification__screening: begin_screening\n" in text
    assert "rehabilitation__sheltered --> rehabilitation__sheltered: " in text  # in place
    assert "record_police_report [internal]" in text
    assert "closure__closed --> [*]" in text  # the terminal state is final


@pytest.mark.parametrize("current", sorted(DEFINITION.states))
def test_a_case_diagram_marks_exactly_its_own_state(current: str) -> None:
    marked = CLASS_LINE.findall(mermaid(DEFINITION, current))
    state = DEFINITION.states[current]
    assert marked == [f"{state.phase}{SEPARATOR}{current}"]


def test_without_a_case_or_with_an_unknown_state_nothing_is_marked() -> None:
    assert CLASS_LINE.findall(mermaid(DEFINITION)) == []
    assert CLASS_LINE.findall(mermaid(DEFINITION, "limbo")) == []


def test_marking_one_case_leaves_the_next_diagram_unmarked() -> None:
    mermaid(DEFINITION, "sheltered")
    assert CLASS_LINE.findall(mermaid(DEFINITION)) == []
