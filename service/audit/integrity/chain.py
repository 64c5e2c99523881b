"""The canonical serialisation of an event and its hash: documented so anyone can recompute it.

canonical(event) is the UTF-8 JSON of exactly these keys, sorted, with no whitespace
(separators "," and ":"), non-ASCII kept as UTF-8, and `at` as RFC 3339 UTC with microseconds:

    actor, actor_id, actor_role, at, case_id, from_state, kind, ministry, note, payload,
    prev_hash, stream, stream_seq, to_state, trigger

hash = SHA-256(canonical(event)) in lowercase hex. `prev_hash` is the hash of the previous event
of the same stream (a case, or a named log), or 64 zeros for the first. The global `seq` is not
hashed: signed checkpoints bind the order of events across streams.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service.kit.canonical_json import canonical_json

GENESIS = "0" * 64
HASHED_FIELDS = (
    "actor", "actor_id", "actor_role", "at", "case_id", "from_state", "kind", "ministry", "note",
    "payload", "prev_hash", "stream", "stream_seq", "to_state", "trigger",
)  # fmt: skip


def format_instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = format_instant(body["at"])
    if body["case_id"] is not None:
        body["case_id"] = str(body["case_id"])
    return canonical_json(body, may_hold_floats=body["payload"])  # the rest: text and integers


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()
