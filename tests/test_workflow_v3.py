"""Version 3 of the NRM: services beside the pathway, stays with care-plan reviews instead of
due dates, and the lawful bases that do not wait for consent (pure, then over HTTP)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from service.kit.context import AppContext
from service.sla import sweep
from tests.bulk import Clock
from tests.factories import Actors, fire, walk_to
from workflows import DefinitionError, InvalidTransition, checkpoints, load_calendar, mermaid, parse
from workflows.loader import DEFINITIONS_DIR, load_file, read_document
from workflows.model import SERVICE_KINDS, Definition
from workflows.services import next_status

V3 = DEFINITIONS_DIR / "nrm-indonesia-v3.yaml"
# The checksums the databases hold for the published versions: they may never change.
PUBLISHED = {
    1: "8b4c2edc4de87931bbec2cdd383b46c5011f7c03d9e43881dd0020299c52dc0c",
    2: "dcf3920c1a45683615e6ee32ec2ef8a0329cf8ad132cb0f8b7705351b272aa85",
}
MONDAY = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # 08:00 WIB; no holiday that week


def _v3() -> dict[str, Any]:
    document: dict[str, Any] = read_document(V3)
    return copy.deepcopy(document)


def test_versions_1_and_2_load_unchanged_and_version_3_loads_with_its_ten_services() -> None:
    for version, published in PUBLISHED.items():
        definition = load_file(DEFINITIONS_DIR / f"nrm-indonesia-v{version}.yaml")
        assert definition.checksum == published and not definition.services
    v3 = load_file(V3)
    assert v3.version == 3 and tuple(v3.services) == SERVICE_KINDS
    assert [rung.level for rung in v3.ladder] == ["district", "province", "national"]


def test_every_state_service_and_deadline_of_version_3_cites_its_legal_basis() -> None:
    v3 = load_file(V3)
    for state in v3.states.values():
        assert state.legal_basis.strip(), state.name
    for service in v3.services.values():
        assert service.legal_basis.strip() and service.start_within.amount >= 1
        if service.emergency is not None:
            assert service.emergency.legal_basis.strip()


def test_stays_have_a_care_plan_review_and_no_due_date_in_version_3() -> None:
    v3 = load_file(V3)
    stays = {s.name for s in v3.states.values() if s.review is not None}
    assert stays == {"in_services", "protected_abroad", "reintegration", "monitoring"}
    assert all(v3.state(name).deadline is None for name in stays)
    assert v3.services["health"].emergency is not None
    assert v3.services["health"].emergency.start_within.describe() == "24 hours"
    assert v3.services["social_rehabilitation"].start_within.describe() == "7 days"


def _service(doc: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = doc["services"]["health"]
    return service


REFUSALS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown kind", lambda d: d["services"].update(massage=_service(d)), "service 'massage'"),
    ("unknown owner", lambda d: _service(d).update(ministry="KEMENHUT"), "unknown ministry"),
    ("no start", lambda d: _service(d).pop("start_within"), "has no start_within"),
    ("zero start", lambda d: _service(d).update(start_within={"days": 0}), "positive whole"),
    ("weeks", lambda d: _service(d).update(start_within={"weeks": 1}), "unit must be one of"),
    ("no basis", lambda d: _service(d).pop("legal_basis"), "has no legal_basis"),
    ("blank basis", lambda d: _service(d).update(legal_basis=" "), "has no legal_basis"),
    ("slow emergency", lambda d: _service(d)["emergency"].update(start_within={"days": 9}),
     "must be shorter"),
    ("bad lawful basis", lambda d: _service(d).update(lawful_bases=["convenience"]),
     "UU 27/2022 Art. 20(2)"),
    ("consent assumed", lambda d: _service(d).update(lawful_bases=["consent"]),
     "UU 27/2022 Art. 20(2)"),
    ("misspelt key", lambda d: _service(d).update(start_whitin={"days": 1}), "unknown key"),
    ("no services", lambda d: d.update(services={}), "at least one service"),
    ("state without basis", lambda d: d["states"]["in_services"].pop("legal_basis"),
     "state 'in_services' has no legal_basis"),
    ("stay with a deadline", lambda d: d["states"]["in_services"].update(deadline={"days": 7}),
     "not both"),
    ("stay with neither", lambda d: d["states"]["in_services"].pop("review"), "has no deadline"),
    ("terminal review", lambda d: d["states"]["closed"].update(review={"days": 7}), "terminal"),
    ("review of a step", lambda d: d["transitions"].append(
        {"trigger": "review_care_plan", "source": "reassessment", "dest": "=",
         "care_plan": "review", "label": {"id": "x", "en": "x"}}), "not a stay"),
    ("review that moves", lambda d: d["transitions"].append(
        {"trigger": "review_moves", "source": "in_services", "dest": "monitoring",
         "care_plan": "review", "label": {"id": "x", "en": "x"}}), "dest '='"),
    ("consent and basis", lambda d: next(
        t for t in d["transitions"] if t["trigger"] == "begin_emergency_care"
    ).update(consent="record"), "consent or on a lawful_basis"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])  # fmt: skip
def test_the_loader_refuses_a_bad_version_3_naming_the_culprit(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = _v3()
    parse(copy.deepcopy(document))  # the file itself loads
    change(document)
    with pytest.raises(DefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(document)


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        ("requested", "start", "started"),
        ("requested", "decline", "declined"),
        ("requested", "withdraw", "withdrawn"),
        ("started", "complete", "completed"),
        ("started", "withdraw", "withdrawn"),
        ("requested", "complete", None),
        ("started", "start", None),
        ("started", "decline", None),
        ("completed", "withdraw", None),
        ("declined", "start", None),
        ("withdrawn", "start", None),
        ("requested", "pause", None),
    ],
)
def test_a_service_request_runs_its_small_machine(
    status: str, action: str, expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(InvalidTransition):
            next_status(status, action)
    else:
        assert next_status(status, action) == expected


def test_a_stay_only_warns_when_its_review_falls_due_and_never_breaches() -> None:
    v3 = load_file(V3)
    entered = MONDAY
    due = entered + timedelta(days=30)
    points = checkpoints(v3, v3.state("in_services"), entered, due, load_calendar())
    assert points.to_record(0, due - timedelta(seconds=1)) == []
    assert points.to_record(0, due + timedelta(days=365)) == [1]
    assert points.next_after(1) is None
    step = checkpoints(v3, v3.state("reassessment"), entered, due, load_calendar())
    assert step.to_record(0, due + timedelta(days=1)) == [2]  # a step still breaches


# --- over HTTP -------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def context(context: AppContext, clock: Clock) -> AppContext:
    return replace(context, clock=clock)


def _definition(context: AppContext) -> Definition:
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None and engine.definition.version == 3
    return engine.definition


def _history(client: TestClient, actors: Actors, case: dict[str, Any]) -> list[dict[str, Any]]:
    url = f"/api/v1/cases/{case['id']}/history"
    items: list[dict[str, Any]] = client.get(url, headers=actors.auditor().headers).json()["items"]
    return items


def _in_services(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    """A case in services, the hand-over to the shelter's unit accepted (its own clock ends)."""
    case = walk_to(client, actors, _definition(context), "in_services")
    if case["transfer_to"] is not None:
        url = f"/api/v1/cases/{case['id']}/transfer/accept"
        accepted = client.post(url, headers=actors.worker("KEMENSOS").headers)
        assert accepted.status_code == 200, accepted.text
        case = accepted.json()
    return case


def test_emergency_care_does_not_wait_for_consent_and_names_the_vital_interest(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "identified")
    assert case["consent_recipients"] == [] and case["lawful_basis"] is None
    grounds = {"grounds": "bleeding injuries; the victim is not able to consent"}
    moved = fire(client, actors.worker("PEMDA"), case, "begin_emergency_care", grounds)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["state"] == "in_services" and body["lawful_basis"] == "vital_interest"
    assert body["consent_recipients"] == []
    last = _history(client, actors, case)[-1]
    assert last["trigger"] == "begin_emergency_care"
    assert last["payload"]["_lawful_basis"] == "vital_interest"


def test_a_police_report_rests_on_a_legal_obligation_and_consent_on_consent(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "in_services")  # consent recorded
    assert case["lawful_basis"] == "consent"
    report = {"report_number": "LP/B/7/VII/2026", "filed_on": "2026-07-06"}
    moved = fire(client, actors.worker("POLRI"), case, "record_police_report", report)
    assert moved.status_code == 200 and moved.json()["lawful_basis"] == "consent"
    events = _history(client, actors, case)
    assert events[-1]["payload"]["_lawful_basis"] == "legal_obligation"
    [consented] = [e for e in events if e["trigger"] == "record_consent"]
    assert consented["payload"]["_lawful_basis"] == "consent"


def test_withdrawing_consent_to_sharing_is_not_leaving_services(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = walk_to(client, actors, _definition(context), "in_services")
    kemensos = actors.worker("KEMENSOS")
    withdrawn = fire(
        client, kemensos, case, "withdraw_consent", {"by": "victim", "withdrawn_on": "2026-07-06"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    after = withdrawn.json()
    assert after["state"] == "in_services" and after["consent_recipients"] == []
    assert after["lawful_basis"] is None
    left = fire(
        client, kemensos, after, "leave_services", {"by": "victim", "left_on": "2026-07-07"}
    )
    assert left.status_code == 200 and left.json()["state"] == "left_services"
    assert left.json()["phase"] == "closure"


def test_a_sixty_day_stay_is_never_breached_its_missed_review_warns_once(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _in_services(client, actors, context)
    due = datetime.fromisoformat(case["due_at"])
    assert due - datetime.fromisoformat(case["state_entered_at"]) == timedelta(days=30)
    clock.advance(days=29)
    assert sweep.sweep(context).cases == 0
    clock.advance(days=31)  # day 60: the review was missed, the stay is not late
    report = sweep.sweep(context)
    assert (report.warnings, report.breaches, report.escalations) == (1, 0, 0)
    assert sweep.sweep(context).cases == 0
    sla = [e for e in _history(client, actors, case) if e["kind"].startswith("sla_")]
    assert [e["kind"] for e in sla] == ["sla_warning"]
    assert sla[0]["payload"]["care_plan_review"] is True
    read = client.get(f"/api/v1/cases/{case['id']}", headers=actors.worker("KEMENSOS").headers)
    assert read.json()["sla"] == "warning"


def test_reviewing_the_care_plan_sets_the_next_review_and_clears_the_warning(
    client: TestClient, actors: Actors, context: AppContext, clock: Clock
) -> None:
    case = _in_services(client, actors, context)
    clock.advance(days=31)
    sweep.sweep(context)
    reviewed = fire(
        client, actors.worker("KEMENSOS"), case, "review_care_plan",
        {"reviewed_on": "2026-08-06", "summary": "shelter and counselling go on"},
    )  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert body["state"] == "in_services" and body["sla"] == "on_track"
    assert datetime.fromisoformat(body["due_at"]) == clock.now + timedelta(days=30)
    assert body["state_entered_at"] == case["state_entered_at"]  # the stay goes on


@pytest.mark.parametrize("version", [1, 2])
def test_the_reviewed_state_mapping_to_version_3_names_only_real_states_and_services(
    version: int,
) -> None:
    path = DEFINITIONS_DIR / "migrations" / f"nrm-indonesia-v{version}-to-v3.yaml"
    mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert mapping["from"] == {"name": "nrm-indonesia", "version": version}
    assert mapping["to"] == {"name": "nrm-indonesia", "version": 3}
    source = load_file(DEFINITIONS_DIR / f"nrm-indonesia-v{version}.yaml")
    target = load_file(V3)
    for state, destination in mapping["states"].items():
        assert state in source.states, state
        if isinstance(destination, str):
            assert destination in target.states, destination
            continue
        assert set(destination) <= {"state", "services"}
        assert destination["state"] in target.states
        assert set(destination.get("services", [])) <= set(target.services)
    unmapped = {s for s in source.states if s not in mapping["states"]}
    assert unmapped == {"consent_withdrawn", "closed"}
    assert unmapped <= set(mapping["reasons"])  # each left on version {version} says why


def test_the_diagram_of_version_3_draws_its_services_beside_the_phases() -> None:
    text = mermaid(load_file(V3), "in_services")
    assert 'state "Services beside the pathway" as services' in text
    assert "services__requested --> services__started: start_service" in text
    assert "Shelter / <i>Rumah perlindungan</i>: KEMENSOS, starts within 1 day<br/>" in text
    assert "Class rehabilitation__in_services s_active" in text
    v2 = mermaid(load_file(DEFINITIONS_DIR / "nrm-indonesia-v2.yaml"))
    assert "services__" not in v2
