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
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = "0" * 64
HASHED_FIELDS = (
    "actor", "actor_id", "actor_role", "at", "case_id", "from_state", "kind", "ministry", "note",
    "payload", "prev_hash", "stream", "stream_seq", "to_state", "trigger",
)  # fmt: skip


def format_instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ANY: Any = object()
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(value: Any, may_hold_floats: Any = _ANY) -> bytes:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` in UTF-8.

    orjson writes the same bytes for strings, integers, booleans, null, lists and objects, ten
    times faster; floats (which orjson writes differently, e.g. 1e16) and integers beyond 64
    bits go through the standard library, so the output is always the documented one.
    `may_hold_floats` names the part of `value` that can hold a float, if the caller knows.
    """
    if not _has_float(value if may_hold_floats is _ANY else may_hold_floats):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # an integer beyond 64 bits
    return _encode(value).encode()


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, faster. orjson reads an integer beyond 64 bits as a float, and refuses what
    the standard library accepts (NaN): any float, or a refusal, is read again by `json`."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_float(value) else value


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool:
        return False
    if kind is float:
        return True
    if kind is dict:
        return any(_has_float(v) for v in value.values())
    if kind is list:
        return any(_has_float(v) for v in value)
    return isinstance(value, float)


def canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = format_instant(body["at"])
    if body["case_id"] is not None:
        body["case_id"] = str(body["case_id"])
    return canonical_json(body, may_hold_floats=body["payload"])  # the rest: text and integers


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()
