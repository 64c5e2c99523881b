"""Opaque keyset cursors: signed, and bound to the list and the filters they were made for.

A cursor is `payload.mac`, both url-safe base64. The payload holds the last row's position
(`due_at`, `id`) and a digest of the list's scope (which list, which ministry, which filters);
the MAC is an HMAC-SHA256 under a key derived from the service secret. A cursor that was
altered, truncated, made by another server, or made for another list or other filters is
refused as `invalid_cursor` before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.kit.canonical_json import digest
from service.kit.errors import InvalidCursor

MAX_CURSOR_LENGTH = 512
_KEY_LABEL = b"nrm/list-cursor/v1"


@dataclass(frozen=True)
class Position:
    """Where a page ended: the lists are ordered by (`due_at`, `id`)."""

    due_at: datetime
    id: uuid.UUID


def scope_of(**parts: Any) -> str:
    """A canonical digest of what a list shows (name, ministry, filters...)."""
    return digest(parts)[:32]


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def encode(self, scope: str, position: Position) -> str:
        payload = json.dumps(
            {"s": scope, "d": position.due_at.isoformat(), "i": position.id.hex},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, scope: str, token: str) -> Position:
        payload = self._verified(token)
        try:
            data = json.loads(payload)
            position = Position(datetime.fromisoformat(data["d"]), uuid.UUID(hex=data["i"]))
            made_for = data["s"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCursor("cursor: not a cursor of this service") from exc
        if made_for != scope:
            raise InvalidCursor(
                "cursor: it belongs to another list or to other filters; start again without it"
            )
        if position.due_at.tzinfo is None:
            raise InvalidCursor("cursor: not a cursor of this service")
        return position

    def _verified(self, token: str) -> bytes:
        if len(token) > MAX_CURSOR_LENGTH or token.count(".") != 1:
            raise InvalidCursor("cursor: not a cursor of this service")
        encoded_payload, encoded_mac = token.split(".")
        try:
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("cursor: not a cursor of this service") from exc
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("cursor: it was altered or was not made by this service")
        return payload

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("cursor is not ASCII")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
