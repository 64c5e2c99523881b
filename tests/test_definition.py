"""The NRM definition as data: its graph, its refusals, and every (state, trigger) pair."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows import DefinitionError, Engine, InvalidTransition, load_directory, load_file, parse
from workflows.graph import reachable
from workflows.loader import DEFINITIONS_DIR

V1 = DEFINITIONS_DIR / "nrm-indonesia-v1.yaml"
AFTER_CONSENT = [
    "emergency_care",
    "sheltered",
    "health_rehabilitation",
    "social_rehabilitation",
    "protected_abroad",
    "reassessment",
    "repatriation_abroad_leg",
    "repatriation_national_leg",
    "repatriation_provincial_leg",
    "repatriation_district_leg",
    "foreign_return",
    "reintegration",
    "monitoring",
]
AFTER_IDENTIFICATION = ["identified", "identified_abroad", *AFTER_CONSENT]
OPEN_WITH_POLICE = [
    "referred",
    "screening",
    "screening_abroad",
    "reconsideration",
    *AFTER_IDENTIFICATION,
    "consent_withdrawn",
    "contact_lost",
]

# The reviewed table: for each state, the triggers that leave it and where they lead.
# Written out by hand so that a change to the definition file shows up here as a failing test.
EXPECTED: dict[str, dict[str, str]] = {
    "referred": {"begin_screening": "screening", "begin_screening_abroad": "screening_abroad"},
    "screening": {"identify": "identified", "decide_not_identified": "not_identified"},
    "screening_abroad": {
        "identify": "identified_abroad",
        "decide_not_identified": "not_identified",
    },
    "not_identified": {"request_reconsideration": "reconsideration", "close_not_victim": "closed"},
    "reconsideration": {
        "rescreen": "screening",
        "rescreen_abroad": "screening_abroad",
        "close_not_victim": "closed",
    },
    "identified": {"record_consent": "emergency_care", "decline_services": "closed"},
    "identified_abroad": {"record_consent": "protected_abroad", "decline_services": "closed"},
    "emergency_care": {"admit_to_shelter": "sheltered"},
    "sheltered": {
        "begin_health_rehabilitation": "health_rehabilitation",
        "begin_social_rehabilitation": "social_rehabilitation",
    },
    "health_rehabilitation": {"begin_social_rehabilitation": "social_rehabilitation"},
    "social_rehabilitation": {
        "begin_health_rehabilitation": "health_rehabilitation",
        "depart": "repatriation_national_leg",
        "plan_reintegration": "reintegration",
        "prepare_foreign_return": "foreign_return",
    },
    "protected_abroad": {"depart": "repatriation_abroad_leg"},
    "reassessment": {
        "admit_to_shelter": "sheltered",
        "admit_to_emergency_care": "emergency_care",
        "begin_social_rehabilitation": "social_rehabilitation",
        "refer_abroad": "protected_abroad",
        "plan_reintegration": "reintegration",
    },
    "repatriation_abroad_leg": {"hand_over_at_arrival": "repatriation_national_leg"},
    "repatriation_national_leg": {
        "admit_to_shelter": "sheltered",
        "hand_to_province": "repatriation_provincial_leg",
    },
    "repatriation_provincial_leg": {"hand_to_district": "repatriation_district_leg"},
    "repatriation_district_leg": {"reunite_with_family": "reintegration"},
    "foreign_return": {"return_home_abroad": "closed"},
    "reintegration": {"complete_reintegration": "monitoring"},
    "monitoring": {"close": "closed", "reopen": "reassessment"},
    "consent_withdrawn": {"close": "closed", "reopen": "reassessment"},
    "contact_lost": {"close": "closed", "reopen": "reassessment"},
    "closed": {},
}
for _state in AFTER_CONSENT:
    EXPECTED[_state].update(withdraw_consent="consent_withdrawn", update_consent=_state)
for _state in AFTER_IDENTIFICATION:
    EXPECTED[_state].update(
        lose_contact="contact_lost",
        record_death="closed",
        record_lpsk_decision=_state,
        record_restitution=_state,
    )
for _state in OPEN_WITH_POLICE:
    EXPECTED[_state]["record_police_report"] = _state


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_file(V1))


def raw() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(V1.read_text())
    return document


ALL_TRIGGERS = sorted({t for exits in EXPECTED.values() for t in exits})
PAIRS = [(state, trigger) for state in EXPECTED for trigger in ALL_TRIGGERS]


@pytest.mark.parametrize(("state", "trigger"), PAIRS)
def test_every_state_trigger_pair_leads_where_the_table_says_or_is_refused(
    engine: Engine, state: str, trigger: str
) -> None:
    expected = EXPECTED[state].get(trigger)
    if expected is None:
        with pytest.raises(InvalidTransition):
            engine.resolve(state, trigger)
    else:
        assert engine.resolve(state, trigger).dest == expected


def test_the_table_covers_every_state_of_the_definition(engine: Engine) -> None:
    assert set(engine.definition.states) == set(EXPECTED)


def test_every_state_is_reachable_from_referral(engine: Engine) -> None:
    edges: dict[str, set[str]] = {}
    for row in engine.definition.transitions:
        edges.setdefault(row.source, set()).add(row.dest)
    assert reachable("referred", edges) == set(engine.definition.states)


def test_every_open_state_can_reach_closure(engine: Engine) -> None:
    edges: dict[str, set[str]] = {}
    for row in engine.definition.transitions:
        edges.setdefault(row.source, set()).add(row.dest)
    for name, state in engine.definition.states.items():
        assert state.terminal or "closed" in reachable(name, edges), name


def test_every_state_names_phase_lead_deadline_basis_and_both_labels(engine: Engine) -> None:
    for state in engine.definition.states.values():
        assert state.phase in {
            "identification",
            "rehabilitation",
            "repatriation",
            "reintegration",
            "closure",
        }
        assert state.ministry in engine.definition.ministries
        assert state.legal_basis
        assert state.label.id and state.label.en
        assert (state.deadline is None) == state.terminal


def test_business_days_are_used_where_the_law_counts_working_days(engine: Engine) -> None:
    referred = engine.definition.state("referred")
    assert referred.deadline is not None and referred.deadline.unit == "business_days"
    assert referred.deadline.amount == 3  # Permen PPPA 8/2021: follow-up in 3 working days
    assert engine.definition.state("sheltered").deadline.describe() == "7 days"  # type: ignore[union-attr]


def test_sensitive_transitions_include_the_four_that_need_two_pairs_of_eyes(engine: Engine) -> None:
    sensitive = {t.trigger for t in engine.definition.transitions if t.sensitive}
    assert {"identify", "decide_not_identified", "close_not_victim", "depart", "close"} <= sensitive
    assert all(t.sensitive for t in engine.definition.transitions if t.dest == "closed")


def test_each_closing_row_lists_its_closure_reasons(engine: Engine) -> None:
    reasons = {
        reason
        for t in engine.definition.transitions
        if t.dest == "closed"
        for reason in t.closes_with
    }
    assert reasons == {
        "reintegrated",
        "referred_on",
        "not_victim",
        "consent_withdrawn",
        "lost_contact",
        "deceased",
        "returned_abroad",
    }


def test_a_ministry_allowed_to_fire_can_see_the_case_in_its_source_state(engine: Engine) -> None:
    """Everyone listed on a row leads or supports its source; reconsideration is guarded instead."""
    for row in engine.definition.transitions:
        if row.trigger == "request_reconsideration":
            assert "requested_by_referrer_or_provider" in row.guards
            continue
        source = engine.definition.state(row.source)
        for ministry in row.ministries:
            assert ministry == source.ministry or ministry in source.supporting, (
                row.trigger,
                ministry,
            )


def test_handover_between_ministries_after_identification_checks_consent(engine: Engine) -> None:
    definition = engine.definition
    for row in definition.transitions:
        source, dest = definition.state(row.source), definition.state(row.dest)
        handover = (
            source.phase != "identification"
            and dest.phase != "closure"
            and source.ministry != dest.ministry
        )
        assert ("consent_covers_recipient" in row.guards) == handover, (row.trigger, row.source)


def test_payload_schemas_are_closed_objects(engine: Engine) -> None:
    for row in engine.definition.transitions:
        assert row.payload_schema["type"] == "object"
        assert row.payload_schema["additionalProperties"] is False


# --- the loader refuses, naming the culprit --------------------------------------------------


def _refusal(mutate: Any) -> str:
    document = raw()
    mutate(document)
    with pytest.raises(DefinitionError) as info:
        parse(document)
    return str(info.value)


def test_loader_refuses_an_unknown_state_in_a_transition() -> None:
    message = _refusal(lambda d: d["transitions"][0].update(dest="limbo"))
    assert "unknown state 'limbo'" in message and "begin_screening" in message


def test_loader_refuses_an_unreachable_state() -> None:
    def add_orphan(d: dict[str, Any]) -> None:
        d["states"]["orphan"] = copy.deepcopy(d["states"]["screening"])

    assert "unreachable state(s): orphan" in _refusal(add_orphan)


def test_loader_refuses_a_state_without_a_lead_ministry() -> None:
    message = _refusal(lambda d: d["states"]["screening"].pop("ministry"))
    assert "state 'screening' has no lead ministry" in message


@pytest.mark.parametrize("name", ["held__abroad", "Screening", "in care", "_hidden"])
def test_loader_refuses_a_state_name_the_machine_could_not_nest(name: str) -> None:
    def rename(d: dict[str, Any]) -> None:
        d["states"][name] = d["states"].pop("screening")

    assert "letters, digits and single underscores" in _refusal(rename)


def test_loader_refuses_a_terminal_state_with_exits() -> None:
    def reopen_closed(d: dict[str, Any]) -> None:
        d["transitions"].append(
            {
                "trigger": "resurrect",
                "source": "closed",
                "dest": "referred",
                "label": {"id": "a", "en": "b"},
            }
        )

    assert "terminal state 'closed' has an exit ('resurrect')" in _refusal(reopen_closed)


def test_loader_refuses_a_guard_that_does_not_exist() -> None:
    message = _refusal(lambda d: d["transitions"][0].update(guards=["has_a_feeling"]))
    assert "guard 'has_a_feeling' does not exist" in message


def test_loader_refuses_a_state_that_cannot_reach_closure() -> None:
    def dead_end(d: dict[str, Any]) -> None:
        d["states"]["waiting"] = copy.deepcopy(d["states"]["screening"])
        d["transitions"].append(
            {
                "trigger": "wait",
                "source": "referred",
                "dest": "waiting",
                "label": {"id": "a", "en": "b"},
            }
        )

    assert "can never reach closure: waiting" in _refusal(dead_end)


def test_loader_refuses_an_unknown_ministry_and_a_misspelt_key() -> None:
    assert "unknown ministry 'KEMENTAN'" in _refusal(
        lambda d: d["states"]["screening"].update(ministry="KEMENTAN")
    )
    assert "unknown key(s) deadlin" in _refusal(
        lambda d: d["states"]["screening"].update(deadlin={"days": 1})
    )


def test_loader_refuses_a_closing_transition_without_a_reason() -> None:
    def no_reason(d: dict[str, Any]) -> None:
        row = next(t for t in d["transitions"] if t["trigger"] == "return_home_abroad")
        row["payload"]["required"] = ["departed_on"]

    assert "needs a required enum 'reason'" in _refusal(no_reason)


def test_loader_refuses_a_payload_schema_that_is_not_json_schema() -> None:
    message = _refusal(lambda d: d["transitions"][0].update(payload={"type": "dictionary"}))
    assert "invalid payload schema" in message


def test_loader_refuses_two_rows_for_one_trigger_and_source() -> None:
    message = _refusal(lambda d: d["transitions"].append(copy.deepcopy(d["transitions"][0])))
    assert "'begin_screening' leaves 'referred' twice" in message


def test_load_directory_refuses_a_version_defined_twice(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(V1.read_text())
    (tmp_path / "b.yaml").write_text(V1.read_text())
    with pytest.raises(DefinitionError, match=r"also defined in a\.yaml"):
        load_directory(tmp_path)


def test_checksum_ignores_comments_and_layout_but_not_meaning() -> None:
    original = parse(raw())
    assert parse(yaml.safe_load("# a comment\n" + V1.read_text())).checksum == original.checksum
    changed = raw()
    changed["states"]["screening"]["deadline"] = {"business_days": 6}
    assert parse(changed).checksum != original.checksum
