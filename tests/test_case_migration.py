"""Migrating running cases between workflow versions: real version 1 cases, made through the API
in several states, moved to version 2 by the reviewed mapping file; and a test-only version with
a renamed state (led by another ministry), a removed one and two states merged."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.cases import migration as cases_migration
from service.cases.erasable import lineage, trigger_schema
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.models import WorkflowDefinitionRow, utcnow
from service.workflow import migrations
from tests.factories import Actors, fire, register, walk_to
from tests.web import get, visible_text, web_login
from workflows import Definition, Engine, parse
from workflows.loader import DEFINITIONS_DIR
from workflows.migration import MappingInvalid, check_mapping, parse_mapping

NAME = "nrm-indonesia"
V1, V2, VN = (NAME, 1), (NAME, 2), (NAME, 90)
MAPPING_FILE = DEFINITIONS_DIR / "migrations" / "nrm-indonesia-v1-to-v2.yaml"
URL = f"/api/v1/workflows/{NAME}/migrations"
ADMIN = Principal(user_id=None, username="nrm-cli", role="system", ministry=None)


def v1_to_v2() -> dict[str, Any]:
    mapping: dict[str, Any] = yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))
    return mapping


@contextmanager
def registry_without(context: AppContext, *keys: tuple[str, int]) -> Iterator[None]:
    """While it lasts, the registry lacks `keys` (new cases take the latest version left)."""
    registry = context.registry
    engines, memo = dict(registry.engines), dict(registry.memo)
    for key in keys:
        del registry.engines[key]
    registry.memo.clear()
    try:
        yield
    finally:
        registry.engines.clear()
        registry.engines.update(engines)
        registry.memo.clear()
        registry.memo.update(memo)


@contextmanager
def registry_with(context: AppContext, session: Session, definition: Definition) -> Iterator[None]:
    """A test-only version, published in the test's transaction (rolled back after it)."""
    session.add(WorkflowDefinitionRow(
        name=definition.name, version=definition.version, checksum=definition.checksum,
        body=dict(definition.source), published_at=utcnow(),
    ))  # fmt: skip
    session.commit()  # the test's savepoint: the row goes with the test's transaction
    registry = context.registry
    memo = dict(registry.memo)
    registry.engines[(definition.name, definition.version)] = Engine(definition)
    registry.memo.clear()
    try:
        yield
    finally:
        del registry.engines[(definition.name, definition.version)]
        registry.memo.clear()
        registry.memo.update(memo)


def on_v1(
    client: TestClient, actors: Actors, context: AppContext, *states: str
) -> dict[str, dict[str, Any]]:
    """Real cases, made and moved through the API while version 1 was the latest."""
    later = [key for key in context.registry.engines if key[0] == NAME and key[1] > 1]
    with registry_without(context, *later):
        definition = context.registry.engine(*V1).definition
        cases = {state: walk_to(client, actors, definition, state) for state in states}
    assert all(case["workflow_version"] == 1 for case in cases.values())
    return cases


def migrate(
    client: TestClient, actors: Actors, mapping: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = client.post(URL, json={"mapping": mapping, **body}, headers=actors.admin().headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def by_case(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["case_id"]: item for item in answer["cases"]}


def read(client: TestClient, actors: Actors, case: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case['id']}", headers=actors.auditor().headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def history(client: TestClient, actors: Actors, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case['id']}/history", headers=actors.auditor().headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def verified(client: TestClient, actors: Actors) -> dict[str, Any]:
    response = client.get("/api/v1/audit/verify", headers=actors.auditor().headers)
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def assert_history_contract(events: list[dict[str, Any]], case: dict[str, Any]) -> None:
    """The contract: the events that change the state chain to_state -> from_state and number
    exactly `version`."""
    changing = [e for e in events if e["to_state"] is not None]
    assert len(changing) == case["version"]
    for before, after in itertools.pairwise(changing):
        assert after["from_state"] == before["to_state"]
    assert changing[-1]["to_state"] == case["state"]


def test_the_dry_run_lists_each_v1_case_with_its_move_and_writes_nothing(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    cases = on_v1(client, actors, context, "referred", "screening", "sheltered", "closed")
    newer = register(client, actors.worker("KEMLU"))  # on version 2 already: not listed
    answer = migrate(client, actors, v1_to_v2())
    assert answer["dry_run"] is True and (answer["from_version"], answer["to_version"]) == (1, 2)
    assert answer["checksum"] == parse_mapping(v1_to_v2()).checksum
    listed = by_case(answer)
    assert newer["id"] not in listed
    for state in ("referred", "screening", "sheltered"):
        item = listed[cases[state]["id"]]
        assert (item["from_state"], item["to_state"], item["outcome"]) == (
            state, state, "would_move",
        )  # fmt: skip
    closed = listed[cases["closed"]["id"]]
    assert (closed["outcome"], closed["code"]) == ("refused", "terminal")
    for case in cases.values():
        assert read(client, actors, case)["version"] == case["version"]
        assert read(client, actors, case)["workflow_version"] == 1


def test_apply_moves_each_case_with_one_event_and_the_log_still_verifies(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    cases = on_v1(client, actors, context, "referred", "sheltered", "closed")
    checksum = migrate(client, actors, v1_to_v2())["checksum"]
    answer = migrate(client, actors, v1_to_v2(), dry_run=False, checksum=checksum)
    assert answer["counts"] == {"moved": 2, "refused": 1}
    for state in ("referred", "sheltered"):
        before, after = cases[state], read(client, actors, cases[state])
        assert (after["workflow_version"], after["state"]) == (2, state)
        assert after["version"] == before["version"] + 1
        assert after["due_at"] == before["due_at"]  # same deadline, from the step's own start
        assert after["ministry"] == before["ministry"]
        events = history(client, actors, cases[state])
        last = events[-1]
        assert (last["kind"], last["from_state"], last["to_state"]) == (
            "workflow_migrated", state, state,
        )  # fmt: skip
        assert last["payload"]["from"] == {"name": NAME, "version": 1}
        assert last["payload"]["to"] == {"name": NAME, "version": 2}
        assert last["payload"]["mapping_checksum"] == checksum
        assert last["actor"] == actors.admin().username
        assert_history_contract(events, after)
    assert read(client, actors, cases["closed"])["workflow_version"] == 1
    verdict = verified(client, actors)
    assert verdict["ok"], verdict["first_broken"]
    again = migrate(client, actors, v1_to_v2(), dry_run=False, checksum=checksum)
    assert again["counts"] == {"refused": 1}  # the closed case; nothing moves twice
    page = get(
        client, web_login(context, actors.auditor()), f"/cases/{cases['referred']['id']}/history"
    )
    assert page.status_code == 200
    assert "Dipindahkan ke versi alur kerja lain" in visible_text(page.text)  # in Indonesian


def test_a_migrated_case_runs_on_the_target_version(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = on_v1(client, actors, context, "referred")["referred"]
    checksum = migrate(client, actors, v1_to_v2())["checksum"]
    migrate(client, actors, v1_to_v2(), dry_run=False, checksum=checksum)
    moved = read(client, actors, case)
    response = fire(client, actors.worker("KEMENPPPA"), moved, "begin_screening", {})
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["workflow_version"], after["state"]) == (2, "screening")
    assert_history_contract(history(client, actors, case), after)
    assert verified(client, actors)["ok"]


def test_a_state_without_a_mapping_stays_on_its_version(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    cases = on_v1(client, actors, context, "referred", "sheltered")
    mapping = v1_to_v2()
    del mapping["states"]["sheltered"]
    checksum = migrate(client, actors, mapping)["checksum"]
    answer = by_case(migrate(client, actors, mapping, dry_run=False, checksum=checksum))
    stays = answer[cases["sheltered"]["id"]]
    assert (stays["outcome"], stays["code"], stays["to_state"]) == ("refused", "unmapped", None)
    assert answer[cases["referred"]["id"]]["outcome"] == "moved"
    assert read(client, actors, cases["sheltered"])["workflow_version"] == 1
    assert read(client, actors, cases["sheltered"])["version"] == cases["sheltered"]["version"]


def test_only_the_named_cases_move(client: TestClient, actors: Actors, context: AppContext) -> None:
    cases = on_v1(client, actors, context, "referred", "screening")
    checksum = migrate(client, actors, v1_to_v2())["checksum"]
    only = [cases["screening"]["id"]]
    answer = migrate(client, actors, v1_to_v2(), dry_run=False, checksum=checksum, cases=only)
    assert list(by_case(answer)) == only
    assert read(client, actors, cases["referred"])["workflow_version"] == 1
    assert read(client, actors, cases["screening"])["workflow_version"] == 2


def test_a_case_changed_during_the_apply_is_skipped_not_half_moved(
    client: TestClient,
    actors: Actors,
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = on_v1(client, actors, context, "referred", "screening")
    changed = cases["referred"]
    real = cases_migration.migrate_case

    def someone_acts_first(*args: Any, **kwargs: Any) -> Any:
        if args[3] == uuid.UUID(changed["id"]):  # between the listing and this case's turn
            moved = fire(client, actors.worker("KEMENPPPA"), changed, "begin_screening", {})
            assert moved.status_code == 200, moved.text
        return real(*args, **kwargs)

    monkeypatch.setattr(cases_migration, "migrate_case", someone_acts_first)
    mapping = v1_to_v2()
    result = migrations.apply(context, ADMIN, NAME, mapping, parse_mapping(mapping).checksum)
    outcome = {item.case_id: item for item in result.cases}
    assert (outcome[changed["id"]].outcome, outcome[changed["id"]].code) == ("skipped", "changed")
    assert outcome[cases["screening"]["id"]].outcome == "moved"
    after = read(client, actors, changed)
    assert (after["workflow_version"], after["state"]) == (1, "screening")
    assert [e["kind"] for e in history(client, actors, changed)].count("workflow_migrated") == 0
    assert verified(client, actors)["ok"]


def _bad(mapping: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    bad = copy.deepcopy(mapping)
    node = bad
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return bad


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("extra",), 1, "mapping.extra"),
        (("states", "sheltered"), {"state": "sheltered", "servics": []},
         "mapping.states.sheltered.servics"),
        (("states", "nowhere"), "referred", "mapping.states.nowhere"),
        (("states", "referred"), "nowhere", "mapping.states.referred"),
        (("states", "referred"), "closed", "mapping.states.referred"),
        (("states", "referred"), 3, "mapping.states.referred"),
        (("to", "version"), 7, "mapping.to.version"),
        (("to", "version"), 1, "mapping.to.version"),
        (("to", "version"), "2", "mapping.to.version"),
        (("from", "name"), "other", "mapping.from.name"),
        (("reasons", "nowhere"), "why", "mapping.reasons.nowhere"),
        (("states",), None, "mapping.states"),
    ],
)  # fmt: skip
def test_a_bad_mapping_is_refused_naming_the_field(
    client: TestClient, actors: Actors, path: tuple[str, ...], value: Any, field: str
) -> None:
    mapping = _bad(v1_to_v2(), path, value)
    for body in ({"dry_run": True}, {"dry_run": False, "checksum": "0" * 64}):
        response = client.post(
            URL, json={"mapping": mapping, **body}, headers=actors.admin().headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_mapping"
        assert response.json()["detail"].startswith(field + ":"), response.json()["detail"]


def test_apply_needs_the_dry_runs_checksum(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = on_v1(client, actors, context, "referred")["referred"]
    for checksum in (None, "0" * 64):
        body: dict[str, Any] = {"mapping": v1_to_v2(), "dry_run": False, "checksum": checksum}
        response = client.post(URL, json=body, headers=actors.admin().headers)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "checksum_mismatch"
        assert response.json()["detail"].startswith("checksum:")
    assert read(client, actors, case)["workflow_version"] == 1


# --- a test-only version: `screening` renamed `assessment` and led by KEMENSOS (a ministry new to
# these cases), `reconsideration` removed; the mapping merges `screening` and `screening_abroad`
# into `assessment` ---


def version_n(context: AppContext) -> Definition:
    document = copy.deepcopy(dict(context.registry.engine(*V1).definition.source))
    document["version"] = VN[1]
    states = document["states"]
    states["assessment"] = {**states.pop("screening"), "ministry": "KEMENSOS"}
    del states["reconsideration"]

    def renamed(value: Any) -> Any:
        if isinstance(value, list):
            return [renamed(v) for v in value if v != "reconsideration"]
        return "assessment" if value == "screening" else value

    rows = []
    for row in document["transitions"]:
        source, dest = renamed(row["source"]), renamed(row["dest"])
        if source in ("reconsideration", []) or dest == "reconsideration":
            continue
        rows.append({**row, "source": source, "dest": dest})
    document["transitions"] = rows
    return parse(document)


def vn_mapping(**states: Any) -> dict[str, Any]:
    reasons = {"screening_abroad": "screening abroad is merged into assessment"}
    return {
        "from": {"name": NAME, "version": 1},
        "to": {"name": NAME, "version": VN[1]},
        "states": states,
        "reasons": {state: reasons[state] for state in states if state in reasons},
    }


def test_renamed_merged_and_removed_states_on_a_test_version(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    cases = on_v1(
        client, actors, context, "screening", "screening_abroad", "reconsideration", "referred"
    )
    mapping = vn_mapping(
        referred="referred", screening="assessment",
        screening_abroad={"state": "assessment", "services": ["shelter"]},
    )  # fmt: skip
    with registry_with(context, session, version_n(context)):
        plan = migrate(client, actors, mapping)
        listed = by_case(plan)
        assert listed[cases["reconsideration"]["id"]]["code"] == "unmapped"
        assert listed[cases["screening_abroad"]["id"]]["to_state"] == "assessment"
        answer = by_case(migrate(client, actors, mapping, dry_run=False, checksum=plan["checksum"]))
        assert answer[cases["screening_abroad"]["id"]]["outcome"] == "moved", answer[
            cases["screening_abroad"]["id"]
        ]
        merged = read(client, actors, cases["screening_abroad"])
        assert (merged["workflow_version"], merged["state"], merged["ministry"]) == (
            VN[1], "assessment", "KEMENSOS",
        )  # fmt: skip
        event = history(client, actors, cases["screening_abroad"])[-1]
        assert event["payload"]["services"] == ["shelter"]  # recorded for v3's service requests
        assert event["payload"]["reason"] == "screening abroad is merged into assessment"
        # the hand-over to KEMLU that still waited is void; the step goes to KEMENSOS
        assert event["payload"]["_withdrawn_handover"]["to_unit"] == "KEMLU-NASIONAL"
        assert event["payload"]["_handover"]["to_unit"].startswith("KEMENSOS")
        renamed = read(client, actors, cases["screening"])
        assert (renamed["state"], renamed["ministry"]) == ("assessment", "KEMENSOS")
        assert answer[cases["reconsideration"]["id"]]["outcome"] == "refused"
        assert read(client, actors, cases["reconsideration"])["workflow_version"] == 1
        verdict = verified(client, actors)  # state chains, versions and grants recomputed
        assert verdict["ok"], verdict["first_broken"]
        for state in ("screening", "screening_abroad", "referred"):
            after = read(client, actors, cases[state])
            assert_history_contract(history(client, actors, cases[state]), after)


def test_a_pending_request_moves_with_its_case_where_it_can_still_be_approved(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = on_v1(client, actors, context, "screening")["screening"]
    pending = fire(
        client, actors.worker("PEMDA"), case, "identify", {"indicators": ["exploitation"]}
    )
    assert pending.status_code == 202, pending.text
    checksum = migrate(client, actors, v1_to_v2())["checksum"]
    moved = migrate(client, actors, v1_to_v2(), dry_run=False, checksum=checksum)
    assert by_case(moved)[case["id"]]["outcome"] == "moved"
    decided = client.post(
        f"/api/v1/approvals/{pending.json()['approval']['id']}/approve",
        json={"reason": "checked against the file"},
        headers=actors.supervisor("PEMDA").headers,
    )
    assert decided.status_code == 200, decided.text
    after = decided.json()
    assert (after["workflow_version"], after["state"]) == (2, "identified")
    assert_history_contract(history(client, actors, case), after)
    assert verified(client, actors)["ok"]


def test_a_pending_request_the_target_cannot_honour_keeps_its_case_where_it_is(
    client: TestClient, actors: Actors, context: AppContext, session: Session
) -> None:
    case = on_v1(client, actors, context, "screening")["screening"]
    pending = fire(
        client, actors.worker("PEMDA"), case, "identify", {"indicators": ["exploitation"]}
    )
    assert pending.status_code == 202, pending.text
    with registry_with(context, session, version_n(context)):
        # `referred` has no `identify`; from `assessment` it is KEMENSOS's, not PEMDA's
        for target in ("referred", "assessment"):
            mapping = vn_mapping(screening=target)
            checksum = migrate(client, actors, mapping)["checksum"]
            stays = migrate(client, actors, mapping, dry_run=False, checksum=checksum)
            item = by_case(stays)[case["id"]]
            assert (item["outcome"], item["code"]) == ("refused", "approval_pending"), item
        assert read(client, actors, case)["workflow_version"] == 1


# --- the mapping alone (pure) ---


def test_the_checksum_covers_the_meaning_not_the_spelling() -> None:
    short = v1_to_v2()
    long = copy.deepcopy(short)
    long["states"]["referred"] = {"state": "referred", "services": []}
    assert parse_mapping(short).checksum == parse_mapping(long).checksum
    changed = copy.deepcopy(short)
    changed["states"]["referred"] = "screening"
    assert parse_mapping(changed).checksum != parse_mapping(short).checksum


def test_service_kinds_are_checked_only_where_the_target_declares_services(
    context: AppContext,
) -> None:
    v1, v2 = (context.registry.engine(*key).definition for key in (V1, V2))
    mapping = v1_to_v2()
    mapping["states"]["sheltered"] = {"state": "sheltered", "services": ["shelter", "health"]}
    parsed = parse_mapping(mapping)
    check_mapping(parsed, v1, v2)  # version 2 declares none: recorded as asked
    declares = dataclasses.replace(v2, source={**v2.source, "services": {"shelter": {}}})
    with pytest.raises(MappingInvalid) as refused:
        check_mapping(parsed, v1, declares)
    assert refused.value.field == "states.sheltered.services" and "health" in refused.value.reason
    both = dataclasses.replace(declares, source={**v2.source, "services": ["shelter", "health"]})
    check_mapping(parsed, v1, both)


def test_free_text_of_a_trigger_the_current_version_lacks_is_still_found_to_hide_or_erase(
    context: AppContext, session: Session
) -> None:
    """A case migrated to a version without some trigger keeps its older approvals and legal
    facts of it; masking and erasure find its schema in the workflow's other versions."""
    with registry_with(context, session, version_n(context)):
        versions = [d.version for d in lineage(context.registry, *VN)]
        assert versions[0] == VN[1] and sorted(versions[1:], reverse=True) == versions[1:]
        dropped = {r.trigger for r in context.registry.engine(*V1).definition.transitions} - {
            r.trigger for r in version_n(context).transitions
        }
        assert dropped  # removing `reconsideration` removed triggers with it
        trigger = sorted(dropped)[0]
        assert trigger_schema(lineage(context.registry, *VN), trigger) is not None
        assert trigger_schema(lineage(context.registry, *VN)[:1], trigger) is None


def on_v2(
    client: TestClient, actors: Actors, context: AppContext, *states: str
) -> dict[str, dict[str, Any]]:
    """Real cases, made and moved through the API while version 2 was the latest."""
    later = [key for key in context.registry.engines if key[0] == NAME and key[1] > 2]
    with registry_without(context, *later):
        definition = context.registry.engine(*V2).definition
        cases = {state: walk_to(client, actors, definition, state) for state in states}
    assert all(case["workflow_version"] == 2 for case in cases.values())
    return cases


def test_v2_cases_move_to_v3_by_the_reviewed_file_and_their_services_open_as_started(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    """The shelter stay of version 2 becomes version 3's stay in services with a shelter
    service already started (no start clock to breach on the day of the migration); the
    services are events on the case's chain, which still verifies."""
    mapping: dict[str, Any] = yaml.safe_load(
        (DEFINITIONS_DIR / "migrations" / "nrm-indonesia-v2-to-v3.yaml").read_text("utf-8")
    )
    cases = on_v2(client, actors, context, "referred", "sheltered")
    checksum = migrate(client, actors, mapping)["checksum"]
    planned = by_case(migrate(client, actors, mapping))
    assert planned[cases["sheltered"]["id"]]["services"] == ["shelter"]
    answer = by_case(migrate(client, actors, mapping, dry_run=False, checksum=checksum))
    assert answer[cases["sheltered"]["id"]]["outcome"] == "moved"
    moved = read(client, actors, cases["sheltered"])
    assert (moved["workflow_version"], moved["state"]) == (3, "in_services")
    listed = client.get(f"/api/v1/cases/{moved['id']}/services", headers=actors.auditor().headers)
    assert listed.status_code == 200, listed.text
    services = listed.json()["items"]
    assert [(s["kind"], s["status"], s["late_start"]) for s in services] == [
        ("shelter", "started", False)
    ]
    events = history(client, actors, cases["sheltered"])
    kinds = [e["kind"] for e in events[-3:]]
    assert kinds == ["workflow_migrated", "service_requested", "service_started"]
    assert_history_contract(events, moved)
    referred = read(client, actors, cases["referred"])
    assert (referred["workflow_version"], referred["state"]) == (3, "referred")
    verdict = verified(client, actors)
    assert verdict["ok"], verdict["first_broken"]
    again = by_case(migrate(client, actors, mapping, dry_run=False, checksum=checksum))
    assert cases["sheltered"]["id"] not in again  # on version 3 now: nothing moves twice
