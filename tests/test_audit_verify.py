"""The verifier as a security boundary: every tampering is caught, and named, on both databases.

Each test builds a real log through the API (four cases, two checkpoints, an unsealed tail),
changes history the way someone with the database owner's rights could, and asks the auditor's
endpoint. A verifier that accepts a forged log is worse than none.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from service.audit.integrity import signing
from service.audit.integrity.chain import GENESIS, event_hash
from service.audit.integrity.merkle import leaf_of, root_of
from service.kit.context import AppContext
from tests.auditlog import (
    Log,
    build_log,
    checkpoint_rows,
    delete_case,
    events,
    execute,
    rewrite_stream,
    store_checkpoint,
    update_case,
    verify,
)
from tests.factories import Actors


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    return build_log(client, actors, context)


def codes(verdict: dict[str, Any]) -> set[str]:
    return {p["code"] for p in verdict["problems"]}


def test_an_untouched_log_verifies(client: TestClient, log: Log) -> None:
    verdict = verify(client, log)
    assert verdict["ok"] is True, verdict["problems"]
    assert verdict["first_broken"] is None
    # A: 5 events (its identification asked for approval first), B: 2, C: 1, D: 1, "users": 1
    assert verdict["events_checked"] == 10
    assert verdict["checkpoints_checked"] == 2
    assert verdict["unsealed_events"] == 2


def test_a_rewritten_event_is_named(client: TestClient, log: Log, connection: Connection) -> None:
    target = events(connection, log.case_id("A"))[1]
    execute(connection, "UPDATE case_event SET note = 'nothing happened' WHERE seq = :s",
            s=target["seq"])  # fmt: skip
    verdict = verify(client, log)
    assert verdict["ok"] is False
    broken = verdict["first_broken"]
    assert (broken["code"], broken["seq"]) == ("hash_mismatch", target["seq"])
    assert broken["case_id"] == log.cases["A"]["id"] and broken["stream_seq"] == 2


def test_a_rewritten_payload_in_the_unsealed_tail_is_named(
    client: TestClient, log: Log, connection: Connection
) -> None:
    target = events(connection, log.case_id("A"))[-1]
    execute(connection, "UPDATE case_event SET actor = 'kemensos.worker' WHERE seq = :s",
            s=target["seq"])  # fmt: skip
    broken = verify(client, log)["first_broken"]
    assert (broken["code"], broken["seq"]) == ("hash_mismatch", target["seq"])


def test_a_rewrite_with_the_chain_recomputed_is_caught_by_the_checkpoint(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """The chain and the case row agree with the forgery; only the signed root does not."""
    rewrite_stream(connection, log.case_id("A"), 2, note="screened by someone else")
    verdict = verify(client, log)
    assert codes(verdict) == {"checkpoint_root"}
    assert verdict["first_broken"]["checkpoint"] == 1


def test_a_deleted_event_is_named_by_the_next_one_of_its_case(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stream = events(connection, log.case_id("A"))
    execute(connection, "DELETE FROM case_event WHERE seq = :s", s=stream[1]["seq"])
    verdict = verify(client, log)
    # a transition is gone, so the case row's version is one ahead of its log too
    assert codes(verdict) == {"stream_gap", "checkpoint_root", "head_version"}
    broken = verdict["first_broken"]
    assert (broken["code"], broken["seq"]) == ("stream_gap", stream[2]["seq"])
    assert "event(s) 2 of its stream are missing" in broken["reason"]


def test_the_deleted_last_event_of_a_case_is_caught_by_its_case_row(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stream = events(connection, log.case_id("A"))
    execute(connection, "DELETE FROM case_event WHERE seq = :s", s=stream[-1]["seq"])
    verdict = verify(client, log)
    assert codes(verdict) == {"head_mismatch"}
    broken = verdict["first_broken"]
    assert broken["case_id"] == log.cases["A"]["id"]
    assert broken["seq"] == stream[-2]["seq"]  # the last event left; the next one is gone
    assert "last event(s) were deleted" in broken["reason"]


def test_the_deleted_last_event_is_caught_even_when_the_row_is_rewound(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """Count and head put back as before the last transition: its state and version remain."""
    stream = events(connection, log.case_id("A"))
    execute(connection, "DELETE FROM case_event WHERE seq = :s", s=stream[-1]["seq"])
    update_case(connection, log.case_id("A"), event_count=len(stream) - 1,
                head_hash=stream[-2]["hash"])  # fmt: skip
    verdict = verify(client, log)
    assert codes(verdict) == {"head_version", "head_state"}
    assert verdict["first_broken"]["case_id"] == log.cases["A"]["id"]


def test_a_whole_case_deleted_from_the_log_is_caught_by_its_case_row(
    client: TestClient, log: Log, connection: Connection
) -> None:
    execute(connection, "DELETE FROM case_event WHERE stream = :s", s=log.case_id("D").hex)
    verdict = verify(client, log)
    assert codes(verdict) == {"head_mismatch"}
    assert verdict["first_broken"]["case_id"] == log.cases["D"]["id"]
    assert "the log holds none" in verdict["first_broken"]["reason"]


def test_a_whole_sealed_case_deleted_with_its_row_is_caught_by_the_checkpoint(
    client: TestClient, log: Log, connection: Connection
) -> None:
    execute(connection, "DELETE FROM case_event WHERE stream = :s", s=log.case_id("C").hex)
    delete_case(connection, log.case_id("C"))
    verdict = verify(client, log)
    # its intake showed the identity to the case worker: that sealed record is gone too
    assert codes(verdict) == {"checkpoint_root", "checkpoint_access"}
    assert verdict["first_broken"]["checkpoint"] == 2


def test_events_reordered_within_a_case_are_named(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stream = events(connection, log.case_id("A"))
    first, second = stream[1]["seq"], stream[2]["seq"]
    execute(connection, "UPDATE case_event SET seq = -1 WHERE seq = :a", a=first)
    execute(connection, "UPDATE case_event SET seq = :a WHERE seq = :b", a=first, b=second)
    execute(connection, "UPDATE case_event SET seq = :b WHERE seq = -1", b=second)
    verdict = verify(client, log)
    broken = verdict["first_broken"]
    assert broken["seq"] == first and broken["code"] in {"stream_gap", "stream_order"}


def test_events_of_two_cases_swapped_in_the_global_order_are_caught_by_the_checkpoint(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """Each case's chain still reads in order; only the signed order across cases changed."""
    sealed_until = checkpoint_rows(connection)[0]["last_seq"]
    everything = events(connection)
    adjacent = next(
        (a, b)
        for a, b in itertools.pairwise(everything)
        if a["stream"] != b["stream"] and b["seq"] <= sealed_until
    )
    first, second = adjacent[0]["seq"], adjacent[1]["seq"]
    execute(connection, "UPDATE case_event SET seq = -1 WHERE seq = :a", a=first)
    execute(connection, "UPDATE case_event SET seq = :a WHERE seq = :b", a=first, b=second)
    execute(connection, "UPDATE case_event SET seq = :b WHERE seq = -1", b=second)
    verdict = verify(client, log)
    assert codes(verdict) == {"checkpoint_root"}


def test_an_event_appended_to_a_case_behind_its_row_is_named(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stream = events(connection, log.case_id("B"))
    forged = _forge(stream[-1], stream_seq=len(stream) + 1, prev_hash=stream[-1]["hash"])
    forged["seq"] = events(connection)[-1]["seq"] + 1
    _insert(connection, forged)
    verdict = verify(client, log)
    assert codes(verdict) == {"head_mismatch"}
    assert verdict["first_broken"]["seq"] == forged["seq"]


def test_an_event_inserted_into_the_middle_of_a_chain_is_named(
    client: TestClient, log: Log, connection: Connection
) -> None:
    stream = events(connection, log.case_id("A"))
    forged = _forge(stream[0], stream_seq=len(stream) + 1, prev_hash=stream[0]["hash"])
    forged["seq"] = events(connection)[-1]["seq"] + 1
    _insert(connection, forged)
    verdict = verify(client, log)
    broken = verdict["first_broken"]
    assert (broken["code"], broken["seq"]) == ("chain_broken", forged["seq"])


def test_a_self_consistent_event_slipped_into_the_sealed_past_is_named(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """A new stream with one perfectly hashed event, given a seq before all others."""
    template = events(connection, log.case_id("A"))[0]
    forged = _forge(template, stream="ghost", stream_seq=1, prev_hash=GENESIS, case_id=None)
    forged["seq"] = 0
    _insert(connection, forged)
    verdict = verify(client, log)
    assert {"checkpoint_root", "head_missing"} <= codes(verdict)
    assert verdict["first_broken"]["seq"] == 0


def test_a_checkpoint_edited_in_place_is_caught(
    client: TestClient, log: Log, connection: Connection
) -> None:
    execute(connection, "UPDATE audit_checkpoint SET event_count = 2 WHERE number = 1")
    verdict = verify(client, log)
    assert {"checkpoint_hash", "checkpoint_root"} <= codes(verdict)
    assert verdict["first_broken"]["checkpoint"] == 1


def test_a_checkpoint_re_signed_with_another_key_is_caught(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """History rewritten, and checkpoint 1 re-made to match it with the attacker's own key."""
    rewrite_stream(connection, log.case_id("A"), 1, actor="someone.else")
    forged = checkpoint_rows(connection)[0]
    leaves = [leaf_of(e["seq"], e["hash"]) for e in events(connection)
              if forged["first_seq"] <= e["seq"] <= forged["last_seq"]]  # fmt: skip
    forged["root"] = root_of(leaves).hex()
    store_checkpoint(connection, forged, sign_with=_another_key())
    verdict = verify(client, log)
    assert "checkpoint_signature" in codes(verdict)
    assert verdict["first_broken"]["checkpoint"] == 1


def test_a_checkpoint_naming_an_unknown_key_is_caught(
    client: TestClient, log: Log, connection: Connection
) -> None:
    forged = checkpoint_rows(connection)[1]
    key = _another_key()
    forged["key_id"] = signing.key_id(signing.public_key_of(key))
    store_checkpoint(connection, forged, sign_with=key)
    verdict = verify(client, log)
    assert "checkpoint_key" in codes(verdict)


def test_a_broken_checkpoint_chain_is_caught_even_when_signed_with_the_real_key(
    client: TestClient, log: Log, connection: Connection, context: AppContext
) -> None:
    """Someone holding the signing key re-makes checkpoint 2 so it no longer links to 1."""
    forged = checkpoint_rows(connection)[1]
    forged["prev_hash"] = "ab" * 32
    store_checkpoint(connection, forged, sign_with=context.settings.keys.audit_signing_key)
    verdict = verify(client, log)
    assert codes(verdict) == {"checkpoint_chain"}
    assert verdict["first_broken"]["checkpoint"] == 2


def test_a_deleted_checkpoint_breaks_the_chain(
    client: TestClient, log: Log, connection: Connection
) -> None:
    execute(connection, "DELETE FROM audit_checkpoint WHERE number = 1")
    verdict = verify(client, log)
    assert {"checkpoint_chain", "checkpoint_range"} <= codes(verdict)


def test_a_checkpoint_root_that_does_not_match_its_events_is_caught(
    client: TestClient, log: Log, connection: Connection, context: AppContext
) -> None:
    """Signed with the real key, linked correctly, but sealing a root the events do not give."""
    forged = checkpoint_rows(connection)[-1]
    forged["root"] = "0" * 64
    store_checkpoint(connection, forged, sign_with=context.settings.keys.audit_signing_key)
    verdict = verify(client, log)
    assert codes(verdict) == {"checkpoint_root"}
    assert verdict["first_broken"]["checkpoint"] == 2


def test_the_verify_endpoint_is_for_auditors_only(client: TestClient, actors: Actors) -> None:
    for user in (actors.worker("KEMENSOS"), actors.supervisor("POLRI"), actors.admin()):
        response = client.get("/api/v1/audit/verify", headers=user.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert client.get("/api/v1/audit/verify").status_code == 401


def _forge(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    forged = {**template, **changes, "note": "forged"}
    forged["hash"] = event_hash(forged)
    return forged


def _insert(connection: Connection, event: dict[str, Any]) -> None:
    from sqlalchemy import insert

    from service.models import CaseEvent

    table = CaseEvent.__table__  # type: ignore[attr-defined]
    connection.execute(insert(table).values(**event))


def _another_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("UPDATE case_event SET at = 'last tuesday' WHERE seq = :s", "hash_mismatch"),
        ("UPDATE case_event SET payload = '{not json' WHERE seq = :s", "hash_mismatch"),
        ("UPDATE case_event SET trigger = 42 WHERE seq = :s", "hash_mismatch"),
        ("UPDATE case_event SET note = x'00ff' WHERE seq = :s", "malformed"),
        ("UPDATE case_event SET stream_seq = 'two' WHERE seq = :s", "malformed"),
        ("UPDATE case_event SET hash = 12345 WHERE seq = :s", "hash_mismatch"),
        ("UPDATE audit_checkpoint SET created_at = 'soon' WHERE number = 1", "checkpoint_hash"),
        ("UPDATE audit_checkpoint SET last_seq = 'x' WHERE number = 1", "checkpoint_malformed"),
        ("UPDATE case_file SET version = 'many'", "head_version"),
    ],
)
def test_garbage_stored_in_any_column_is_reported_not_crashed_on(
    client: TestClient, log: Log, connection: Connection, sql: str, code: str
) -> None:
    """SQLite keeps whatever it is given in any column: the verifier must still answer."""
    if connection.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses values of the wrong type")
    execute(connection, sql, s=events(connection)[1]["seq"])
    verdict = verify(client, log)
    assert verdict["ok"] is False and code in codes(verdict)
