"""The one canonical JSON of the service: sorted keys, no whitespace, UTF-8 (non-ASCII kept).

Everything that is hashed, signed, compared or used as a key goes through `canonical_json`:
audit events and checkpoints, idempotency fingerprints, list-cursor scopes. Workflow definitions
are checksummed by the same rule in the pure `workflows` package (a test holds the two equal).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

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


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value`, in lowercase hex."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
