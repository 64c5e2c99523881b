"""The export: streamed, recorded as an event, sealed to its last line, and checkable offline.

Every byte of a JSON Lines export is checked: random single-byte edits are always caught.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from random import Random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from service.audit.integrity import signing
from service.audit.integrity.export_format import spreadsheet_cell, verify_export
from service.audit.integrity.verifier import Verdict
from service.kit.context import AppContext
from tests.auditlog import Log, build_log, checkpoint_now, events, execute, rewrite_stream, verify
from tests.conftest import PG_URL
from tests.factories import SAMPLE_PAYLOADS, Actors, fire


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    log = build_log(client, actors, context)
    # a note in Bahasa Indonesia with non-ASCII text, so that multi-byte UTF-8 is exported too
    police = actors.worker("POLRI")
    payload = SAMPLE_PAYLOADS["record_police_report"]
    response = fire(client, police, log.cases["A"], "record_police_report", payload,
                    note="Laporan diterima — saksi: ibu kandung")  # fmt: skip
    assert response.status_code == 200, response.text
    log.cases["A"] = response.json()
    return log


@pytest.fixture
def keys(context: AppContext) -> dict[str, bytes]:
    public = signing.public_key_of(context.settings.keys.audit_signing_key)
    return {signing.key_id(public): public}


def export(client: TestClient, log: Log, fmt: str = "jsonl") -> bytes:
    response = client.get(f"/api/v1/audit/export?format={fmt}", headers=log.auditor.headers)
    assert response.status_code == 200, response.text
    return response.content


def check(data: bytes, keys: dict[str, bytes], trusted: list[dict[str, Any]] | None = None
          ) -> Verdict:  # fmt: skip
    return verify_export(io.BytesIO(data), keys, trusted or [])


def test_a_jsonl_export_verifies_offline_and_is_sealed_to_its_last_line(
    client: TestClient, log: Log, keys: dict[str, bytes], connection: Connection
) -> None:
    data = export(client, log)
    verdict = check(data, keys)
    assert verdict.ok, verdict.problems
    everything = events(connection)
    assert verdict.events_checked == len(everything)
    assert verdict.unsealed_events == 0 and verdict.checkpoints_checked == 3
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert lines[0] == {"type": "header", "format": "nrm-audit-export/2",
                        "key_id": next(iter(keys))}  # fmt: skip
    assert lines[-1]["type"] == "end" and lines[-1]["events"] == len(everything)
    # the note is sealed under the case's key (cases/erasable.py): not in the export in clear
    assert "ibu kandung" not in data.decode()


def _as_version_1(data: bytes, private_key: bytes) -> bytes:
    """The export as it was written before checkpoints sealed identity access: format /1
    checkpoints (re-signed, re-linked) under a version 1 header."""
    out, head = [], signing.GENESIS
    for raw in data.decode().splitlines():
        record = json.loads(raw)
        if record["type"] == "header":
            record["format"] = "nrm-audit-export/1"
        elif record["type"] == "checkpoint":
            for name in signing.ACCESS_FIELDS:
                del record[name]
            record.update(format=signing.FORMAT, prev_hash=head)
            record["hash"] = head = signing.checkpoint_hash(record)
            record["signature"] = signing.sign(private_key, record)
        out.append(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


def test_an_export_of_version_1_is_still_read_and_holds_no_newer_checkpoint(
    client: TestClient, log: Log, keys: dict[str, bytes], context: AppContext
) -> None:
    data = export(client, log)
    old = _as_version_1(data, context.settings.keys.audit_signing_key)
    verdict = check(old, keys)
    assert verdict.ok, verdict.problems
    assert verdict.checkpoints_checked == 3
    mixed = data.replace(b"nrm-audit-export/2", b"nrm-audit-export/1", 1)
    problems = check(mixed, keys).problems
    assert problems and all(p.code == "malformed" for p in problems)
    assert "a version 1 export holds no format /2 checkpoint" in problems[0].reason


def test_the_export_is_itself_recorded_as_an_event(
    client: TestClient, log: Log, connection: Connection
) -> None:
    export(client, log, "csv")
    last = events(connection)[-1]
    assert (last["stream"], last["kind"], last["actor"]) == (
        "audit", "audit_export", log.auditor.username
    )  # fmt: skip
    assert last["payload"] == {"format": "csv", "via": "api"}
    assert verify(client, log)["ok"] is True


def test_a_csv_export_has_one_row_per_event(
    client: TestClient, log: Log, connection: Connection
) -> None:
    data = export(client, log, "csv").decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    stored = events(connection)
    assert [int(row["seq"]) for row in rows] == [e["seq"] for e in stored]
    assert json.loads(rows[0]["payload"]) == stored[0]["payload"]
    assert rows[-1]["kind"] == "audit_export"


@pytest.mark.parametrize(
    "note", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"],
)  # fmt: skip
def test_a_csv_export_defuses_cells_a_spreadsheet_would_read_as_formulas(
    client: TestClient, actors: Actors, note: str
) -> None:
    # a case's notes are sealed (cases/erasable.py); an admin's reason on the users log is not
    admin, other = actors.admin(), actors.make("admin")
    asked = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "sv_formula", "password": "Gunung-Rinjani-3726", "role": "supervisor",
        "ministry": "KEMLU"})  # fmt: skip
    assert asked.status_code == 202, asked.text
    rejected = client.post(f"/api/v1/users/requests/{asked.json()['id']}/reject",
                           json={"reason": note}, headers=other.headers)  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    auditor = actors.auditor().headers
    data = client.get("/api/v1/audit/export?format=csv", headers=auditor).content.decode()
    assert data.startswith('"seq","stream",')  # every cell quoted
    rows = list(csv.DictReader(io.StringIO(data)))
    assert [row["note"] for row in rows if row["kind"] == "account_change_rejected"] == ["'" + note]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in rows for cell in row.values())  # fmt: skip


def test_a_cell_starting_with_tab_or_carriage_return_is_defused_too() -> None:
    """Notes are stripped of leading white space; a payload string is not."""
    assert [spreadsheet_cell(v) for v in ("\tcmd", "\r=1", "ok", None, 7)] == [
        "'\tcmd", "'\r=1", "ok", "", 7,
    ]  # fmt: skip


def test_export_is_for_auditors_and_only_in_known_formats(
    client: TestClient, actors: Actors
) -> None:
    for user in (actors.worker("KEMLU"), actors.admin()):
        assert client.get("/api/v1/audit/export", headers=user.headers).status_code == 403
    response = client.get("/api/v1/audit/export?format=xml", headers=actors.auditor().headers)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_an_export_checked_with_another_key_fails(client: TestClient, log: Log) -> None:
    other = signing.public_key_of(bytes(range(32)))
    verdict = check(export(client, log), {signing.key_id(other): other})
    assert not verdict.ok
    assert {p.code for p in verdict.problems} == {"malformed", "checkpoint_key"}


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda lines: lines[:3] + lines[4:], id="an event line removed"),
        pytest.param(lambda lines: [*lines[:2], lines[3], lines[2], *lines[4:]], id="swapped"),
        pytest.param(lambda lines: lines[:-1], id="the end line removed"),
        pytest.param(lambda lines: lines[:-2] + lines[-1:], id="the last head removed"),
        pytest.param(lambda lines: [*lines, lines[-1]], id="a line repeated"),
        pytest.param(lambda lines: [lines[0], *lines], id="the header repeated"),
        pytest.param(
            lambda lines: [b"\n" if i == 5 else x for i, x in enumerate(lines)], id="a line emptied"
        ),
        pytest.param(lambda lines: [x.replace(b'":', b'": ') for x in lines], id="spaces added"),
    ],
)
def test_edits_to_whole_lines_are_caught(
    client: TestClient, log: Log, keys: dict[str, bytes], edit: Any
) -> None:
    lines = export(client, log).splitlines(keepends=True)
    assert not check(b"".join(edit(lines)), keys).ok


def test_a_cut_off_last_line_is_caught(
    client: TestClient, log: Log, keys: dict[str, bytes]
) -> None:
    data = export(client, log)
    assert not check(data[:-1], keys).ok
    assert not check(b"", keys).ok


def test_a_kept_checkpoint_catches_history_rewritten_and_resealed_with_the_key(
    client: TestClient, log: Log, keys: dict[str, bytes], connection: Connection
) -> None:
    """The auditor kept checkpoint 1 from an earlier export. Someone with the database and the
    signing key rewrites case A and re-seals a perfectly consistent log: only the copy kept
    outside the system can tell."""
    first = export(client, log)
    kept = next(json.loads(x) for x in first.splitlines() if b'"type":"checkpoint"' in x)
    rewrite_stream(connection, log.case_id("A"), 1, actor="someone.else")
    execute(connection, "DELETE FROM audit_checkpoint")
    checkpoint_now(client, log)
    second = export(client, log)
    assert check(second, keys).ok  # consistent in itself
    verdict = check(second, keys, [kept])
    assert [p.code for p in verdict.problems] == ["checkpoint_untrusted"]
    assert verdict.first_broken is not None and verdict.first_broken.checkpoint == 1
    assert check(first, keys, [kept]).ok


def test_random_single_byte_edits_are_always_caught(
    client: TestClient, log: Log, keys: dict[str, bytes]
) -> None:
    data = export(client, log)
    assert check(data, keys).ok

    # positions are drawn uniformly (hypothesis' own integers favour small and edge values)
    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.randoms(use_true_random=False), st.integers(1, 255))
    def replaced(rng: Random, delta: int) -> None:
        at = rng.randrange(len(data))
        byte = (data[at] + delta) % 256
        assert not check(data[:at] + bytes([byte]) + data[at + 1 :], keys).ok

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.randoms(use_true_random=False), st.integers(0, 255), st.booleans())
    def inserted_or_deleted(rng: Random, byte: int, insert: bool) -> None:
        at = rng.randrange(len(data))
        if insert:
            assert not check(data[:at] + bytes([byte]) + data[at:], keys).ok
        else:
            assert not check(data[:at] + data[at + 1 :], keys).ok

    replaced()
    inserted_or_deleted()


def _flip_missed(data: bytes, keys: dict[str, bytes], positions: Iterable[int]) -> list[int]:
    """The positions where flipping the lowest bit of one byte goes unnoticed."""
    return [at for at in positions
            if check(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :], keys).ok]  # fmt: skip


def test_a_bit_flip_in_any_line_and_any_field_is_caught(
    client: TestClient, log: Log, keys: dict[str, bytes]
) -> None:
    """A sample that covers every line and every kind of byte: each line's first and last
    bytes, every byte next to a separator (`"`, `:`, `,`, braces), and one byte in eight of the
    rest from a fixed seed. The exhaustive check is the slow test below."""
    data = export(client, log)
    structural = {at for at, byte in enumerate(data) if byte in b'\n{}":,'}
    edges = {at + d for at in structural for d in (-1, 1) if 0 <= at + d < len(data)}
    sample = set(Random(2026).sample(range(len(data)), len(data) // 8))
    positions = sorted(structural | edges | sample)
    assert len(positions) < len(data)  # a sample, not everything
    assert _flip_missed(data, keys, positions) == []


@pytest.mark.slow
@pytest.mark.skipif(PG_URL is not None, reason="about the file format; the SQLite run covers it")
def test_every_byte_of_an_export_is_checked(
    client: TestClient, log: Log, keys: dict[str, bytes]
) -> None:
    """Exhaustively: flipping the lowest bit of any one byte is caught."""
    data = export(client, log)
    assert _flip_missed(data, keys, range(len(data))) == []
