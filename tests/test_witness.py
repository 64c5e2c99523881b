"""Witnesses outside the database: the owner who rewrites history and deletes the newest
checkpoints is caught without any file an auditor kept, on both databases."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from service.audit import witness
from service.audit.integrity import signing
from service.kit.context import AppContext
from tests.auditlog import (
    Log,
    build_log,
    checkpoint_now,
    checkpoint_rows,
    execute,
    rewrite_stream,
    verify,
)
from tests.factories import Actors


@pytest.fixture
def witness_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "witness"
    directory.mkdir()
    return directory


@pytest.fixture
def context(context: AppContext, witness_dir: Path) -> AppContext:
    settings = context.settings.model_copy(update={"witness_dir": witness_dir})
    return replace(context, settings=settings)


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    built = build_log(client, actors, context)
    assert witness.publish(context) == 2
    return built


def codes(verdict: dict[str, Any]) -> set[str]:
    return {p["code"] for p in verdict["problems"]}


def test_each_checkpoint_is_one_read_only_file_in_the_witness_directory(
    client: TestClient, log: Log, witness_dir: Path, connection: Connection
) -> None:
    files = sorted(p.name for p in witness_dir.iterdir())
    assert files == ["checkpoint-00000001.json", "checkpoint-00000002.json"]
    second = json.loads((witness_dir / files[1]).read_text())
    assert second == checkpoint_rows(connection)[1]
    assert (witness_dir / files[1]).stat().st_mode & 0o222 == 0
    assert verify(client, log)["ok"] is True


def test_deleting_the_newest_checkpoints_after_a_careful_rewrite_is_caught_by_the_witness(
    client: TestClient, log: Log, connection: Connection
) -> None:
    """The chain and the case row agree with the forgery, and no checkpoint is left to
    refuse it: only the witness knows that checkpoint 2 existed."""
    rewrite_stream(connection, log.case_id("A"), 2, note="screened by someone else")
    execute(connection, "DELETE FROM audit_checkpoint WHERE number IN (1, 2)")
    verdict = verify(client, log)
    assert verdict["ok"] is False
    assert codes(verdict) == {"witness_missing"}
    broken = verdict["first_broken"]
    assert broken["checkpoint"] == 2
    assert "the log's newest is checkpoint 0: checkpoints were deleted" in broken["reason"]


def test_a_rewrite_re_sealed_with_the_signing_key_differs_from_the_witness(
    client: TestClient, log: Log, connection: Connection, context: AppContext
) -> None:
    """The owner holds the key too: deletes checkpoint 2, rewrites, and seals again."""
    execute(connection, "DELETE FROM audit_checkpoint WHERE number = 2")
    rewrite_stream(connection, log.case_id("A"), 3, note="never identified")
    resealed = checkpoint_now(client, log)
    assert resealed["number"] == 2
    verdict = verify(client, log)
    assert "witness_differs" in codes(verdict)
    assert verdict["first_broken"]["checkpoint"] == 2


def test_a_witness_is_never_extended_with_a_forked_chain(
    client: TestClient, log: Log, connection: Connection, witness_dir: Path,
    context: AppContext, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The owner deletes checkpoint 2, rewrites, seals 2 and 3 again: the job publishes
    nothing more (the witness's 2 is not the log's 2), and verify names checkpoint 2."""
    before = (witness_dir / "checkpoint-00000002.json").read_bytes()
    assert witness.publish(context) == 0
    execute(connection, "DELETE FROM audit_checkpoint WHERE number = 2")
    rewrite_stream(connection, log.case_id("A"), 3, note="never identified")
    checkpoint_now(client, log)
    build_log(client, Actors(client, context), context)  # more events, then checkpoint 3 and 4
    assert witness.publish(context) == 0
    assert "differs from the log's checkpoint 2" in caplog.text
    assert sorted(p.name for p in witness_dir.iterdir())[-1] == "checkpoint-00000002.json"
    assert (witness_dir / "checkpoint-00000002.json").read_bytes() == before
    verdict = verify(client, log)
    assert "witness_differs" in codes(verdict)


def test_a_forged_newer_witness_file_does_not_hide_an_older_difference(
    client: TestClient, log: Log, connection: Connection, witness_dir: Path, context: AppContext
) -> None:
    """Whoever can also add files to the witness adds the forged chain's next checkpoint:
    every file is compared, not only the newest."""
    execute(connection, "DELETE FROM audit_checkpoint WHERE number = 2")
    rewrite_stream(connection, log.case_id("A"), 3, note="never identified")
    checkpoint_now(client, log)
    build_log(client, Actors(client, context), context)
    third = checkpoint_rows(connection)[2]
    (witness_dir / witness.file_name(3)).write_text(json.dumps(third))
    verdict = verify(client, log)
    assert codes(verdict) == {"witness_differs"}
    assert verdict["first_broken"]["checkpoint"] == 2


def test_a_damaged_witness_file_is_reported(
    client: TestClient, log: Log, witness_dir: Path
) -> None:
    path = witness_dir / "checkpoint-00000003.json"
    path.write_text(json.dumps({"number": 3, "hash": "0" * 64, "signature": "00", "key_id": "x"}))
    (witness_dir / "checkpoint-00000004.json").write_text("not json")
    verdict = verify(client, log)
    assert codes(verdict) == {"witness_invalid"}
    assert [p["checkpoint"] for p in verdict["problems"]] == [3, 4]


def test_an_unreadable_witness_directory_is_reported(
    client: TestClient, log: Log, witness_dir: Path
) -> None:
    for path in witness_dir.iterdir():
        path.unlink()
    witness_dir.rmdir()
    verdict = verify(client, log)
    assert codes(verdict) == {"witness_unreadable"}


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    failing = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Webhook.failing:
            self.send_response(500)
        else:
            _Webhook.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    _Webhook.received, _Webhook.failing = [], True
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/witness"
    finally:
        server.shutdown()
        server.server_close()


def test_the_webhook_receives_each_signed_checkpoint_and_failures_are_retried(
    client: TestClient, actors: Actors, context: AppContext, webhook: str
) -> None:
    hooked = replace(
        context,
        settings=context.settings.model_copy(update={"witness_url": webhook, "witness_dir": None}),
    )
    build_log(client, actors, context)
    assert witness.publish(hooked) == 0  # the witness answers 500: nothing counted as sent
    _Webhook.failing = False
    assert witness.publish(hooked) == 2  # the next run of the job sends both, in order
    assert [c["number"] for c in _Webhook.received] == [1, 2]
    public = signing.public_key_of(context.settings.keys.audit_signing_key)
    for received in _Webhook.received:
        assert signing.signature_valid(public, received, received["signature"])
    assert witness.publish(hooked) == 0  # nothing new, nothing sent again
    assert len(_Webhook.received) == 2
