"""The auditor's endpoints: checkpoints, the public key, inclusion proofs, event search."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from service.audit.integrity import signing
from service.audit.integrity.proofs import check_proof
from service.kit.context import AppContext
from tests.auditlog import Log, build_log, events
from tests.factories import Actors


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    return build_log(client, actors, context)


def get(client: TestClient, log: Log, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/audit{path}", params=params, headers=log.auditor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def keys_of(page: dict[str, Any]) -> dict[str, bytes]:
    public = signing.decode_public_key(page["public_key"]["public_key"])
    assert signing.key_id(public) == page["public_key"]["key_id"]
    return {signing.key_id(public): public}


def test_checkpoints_are_published_oldest_first_with_their_key(
    client: TestClient, log: Log
) -> None:
    page = get(client, log, "/checkpoints")
    keys = keys_of(page)
    first, second = page["items"]
    assert (first["number"], second["number"]) == (1, 2)
    assert first["prev_hash"] == signing.GENESIS and second["prev_hash"] == first["hash"]
    assert second["first_seq"] == first["last_seq"] + 1
    for item in page["items"]:
        assert signing.checkpoint_hash(item) == item["hash"]
        assert signing.signature_valid(keys[item["key_id"]], item, item["signature"])
    assert page["next_cursor"] is None
    assert get(client, log, "/public-key") == page["public_key"]


def test_checkpoints_page_by_cursor(client: TestClient, log: Log) -> None:
    first = get(client, log, "/checkpoints", limit=1)
    assert [c["number"] for c in first["items"]] == [1] and first["next_cursor"]
    second = get(client, log, "/checkpoints", limit=1, cursor=first["next_cursor"])
    assert [c["number"] for c in second["items"]] == [2] and second["next_cursor"] is None
    foreign = client.get(
        "/api/v1/audit/events", params={"cursor": first["next_cursor"]}, headers=log.auditor.headers
    )
    assert foreign.status_code == 422 and foreign.json()["code"] == "invalid_cursor"


def test_sealing_on_demand_covers_the_tail_and_then_has_nothing_to_do(
    client: TestClient, log: Log, connection: Connection
) -> None:
    response = client.post("/api/v1/audit/checkpoints", headers=log.auditor.headers)
    assert response.status_code == 201
    made = response.json()["checkpoint"]
    assert made["number"] == 3 and made["last_seq"] == events(connection)[-1]["seq"]
    again = client.post("/api/v1/audit/checkpoints", headers=log.auditor.headers)
    assert again.status_code == 200
    assert again.json() == {"created": False, "checkpoint": made}


def test_a_proof_of_a_sealed_event_checks_with_the_public_key_alone(
    client: TestClient, log: Log, connection: Connection
) -> None:
    keys = keys_of(get(client, log, "/checkpoints"))
    target = events(connection, log.case_id("A"))[1]
    proof = get(client, log, f"/events/{target['seq']}/proof")
    assert proof["event"]["seq"] == target["seq"] and proof["checkpoint"]["number"] == 1
    assert check_proof(proof, keys) == []


def test_a_proof_of_an_unsealed_event_seals_it_first(
    client: TestClient, log: Log, connection: Connection
) -> None:
    keys = keys_of(get(client, log, "/checkpoints"))
    last = events(connection)[-1]
    proof = get(client, log, f"/events/{last['seq']}/proof")
    assert proof["checkpoint"]["number"] == 3
    assert check_proof(proof, keys) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("event", "note"), "edited"),
        (("event", "seq"), None),
        (("leaf_index",), None),
        (("tree_size",), None),
        (("audit_path", 0), "00" * 32),
        (("checkpoint", "root"), "00" * 32),
        (("checkpoint", "event_count"), None),
        (("checkpoint", "signature"), "00" * 64),
        (("event",), "not an event"),
    ],
)
def test_a_proof_with_anything_changed_is_refused(
    client: TestClient, log: Log, connection: Connection, path: tuple[Any, ...], value: Any
) -> None:
    keys = keys_of(get(client, log, "/checkpoints"))
    proof = get(client, log, f"/events/{events(connection)[2]['seq']}/proof")
    forged = copy.deepcopy(proof)
    holder = forged
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = holder[path[-1]] + 1 if value is None else value
    assert check_proof(forged, keys) != []
    assert check_proof(proof, {}) != []  # and no proof holds without the key


def test_a_proof_of_an_unknown_event_is_404(client: TestClient, log: Log) -> None:
    for seq in ("999999999", "0", "-3"):
        response = client.get(f"/api/v1/audit/events/{seq}/proof", headers=log.auditor.headers)
        assert response.status_code in (404, 422), response.text
    response = client.get("/api/v1/audit/events/999999999/proof", headers=log.auditor.headers)
    assert response.json()["code"] == "not_found"
    too_big = client.get(f"/api/v1/audit/events/{2**70}/proof", headers=log.auditor.headers)
    assert too_big.status_code == 422


def test_events_are_searched_by_case_actor_ministry_trigger_and_kind(
    client: TestClient, log: Log, connection: Connection
) -> None:
    case_a = events(connection, log.case_id("A"))
    found = get(client, log, "/events", case_id=log.cases["A"]["id"])["items"]
    assert [e["seq"] for e in found] == [e["seq"] for e in case_a]
    assert found[0]["hash"] == case_a[0]["hash"] and found[0]["stream"] == log.case_id("A").hex
    by_trigger = get(client, log, "/events", trigger="begin_screening")["items"]
    assert {e["case_id"] for e in by_trigger} == {log.cases["A"]["id"], log.cases["B"]["id"]}
    pemda = get(client, log, "/events", ministry="PEMDA")["items"]
    assert pemda and all(e["ministry"] == "PEMDA" for e in pemda)
    actor = case_a[1]["actor"]
    assert all(e["actor"] == actor for e in get(client, log, "/events", actor=actor)["items"])
    created = get(client, log, "/events", kind="created")["items"]
    assert len(created) == 4 and all(e["from_state"] is None for e in created)
    both = get(client, log, "/events", kind="transition", case_id=log.cases["B"]["id"])
    assert [e["trigger"] for e in both["items"]] == ["begin_screening"]


def test_events_are_searched_by_time_range(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stored = events(connection)
    middle = stored[len(stored) // 2]["at"]
    later = get(client, log, "/events", since=middle.isoformat())["items"]
    earlier = get(client, log, "/events", until=middle.isoformat())["items"]
    assert len(later) + len(earlier) == len(stored)
    assert all(e["at"] >= middle.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for e in later)
    future = (middle + timedelta(days=1)).isoformat()
    assert get(client, log, "/events", since=future)["items"] == []


def test_event_search_pages_with_a_capped_limit(
    client: TestClient, log: Log, context: AppContext
) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        page = get(client, log, "/events", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 10
    capped = get(client, log, "/events", limit=10**6)
    assert len(capped["items"]) == 10 and capped["next_cursor"] is None
    assert context.settings.audit_page_max < 10**6


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "abc"},
        {"cursor": "-1"},
        {"cursor": "9" * 40},
        {"limit": 0},
        {"case_id": "not-a-uuid"},
        {"since": "2026-01-01T00:00:00"},
        {"since": "yesterday"},
        {"actor": "a\x00b"},
    ],
)
def test_bad_search_input_is_422_with_a_code(
    client: TestClient, log: Log, params: dict[str, Any]
) -> None:
    response = client.get("/api/v1/audit/events", params=params, headers=log.auditor.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"validation_error", "invalid", "invalid_cursor"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/checkpoints"),
        ("post", "/checkpoints"),
        ("get", "/public-key"),
        ("get", "/events"),
        ("get", "/events/1/proof"),
    ],
)
def test_audit_endpoints_refuse_everyone_but_auditors(
    client: TestClient, actors: Actors, method: str, path: str
) -> None:
    for user in (actors.worker("KEMENSOS"), actors.supervisor("KEMLU"), actors.admin()):
        response = client.request(method, f"/api/v1/audit{path}", headers=user.headers)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_audit_events_carry_no_victim_identity(
    client: TestClient, log: Log, connection: Connection
) -> None:
    text = str(get(client, log, "/events", limit=100)) + str(events(connection))
    for identity in ("Siti", "Rahayu", "2003-04-12"):
        assert identity not in text
