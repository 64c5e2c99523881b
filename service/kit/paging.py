"""One paging style for every list: keyset pages, `limit` capped, signed opaque cursors.

A list answers `{"items": [...], "next_cursor": str | null}`; `next_cursor` is null on the last
page. A cursor is `payload.mac`, both url-safe base64. The payload holds the last row's sort key
and a digest of the list's scope (which list, for whom, which filters); the MAC is an
HMAC-SHA256 under a key derived from the service secret. A cursor that was altered, truncated,
made by another server, or made for another list or other filters is refused as
`invalid_cursor` before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from service.kit.canonical_json import canonical_json, digest
from service.kit.errors import InvalidCursor

MAX_CURSOR_LENGTH = 512
_KEY_LABEL = b"nrm/list-cursor/v1"
NOT_OURS = "cursor: not a cursor of this service"

T = TypeVar("T")
SortKey = Sequence[str | int]


def scope_of(**parts: Any) -> str:
    """A canonical digest of what a list shows (name, caller, filters...)."""
    return digest(parts)[:32]


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def encode(self, scope: str, key: SortKey) -> str:
        payload = canonical_json({"s": scope, "k": list(key)})
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, scope: str, token: str) -> list[Any]:
        payload = self._verified(token)
        try:
            data = json.loads(payload)
            made_for, key = data["s"], data["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCursor(NOT_OURS) from exc
        if made_for != scope:
            raise InvalidCursor(
                "cursor: it belongs to another list or to other filters; start again without it"
            )
        if not isinstance(key, list):
            raise InvalidCursor(NOT_OURS)
        return key

    def _verified(self, token: str) -> bytes:
        if len(token) > MAX_CURSOR_LENGTH or token.count(".") != 1:
            raise InvalidCursor(NOT_OURS)
        encoded_payload, encoded_mac = token.split(".")
        try:
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor(NOT_OURS) from exc
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("cursor: it was altered or was not made by this service")
        return payload

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


@dataclass(frozen=True)
class Paging:
    """One request's view of one list: where to start, how many, and how to go on.

    The repository fetches `fetch` rows (one more than `limit`) after `after`; `page` keeps
    `limit` of them and makes the next cursor only if there was more.
    """

    codec: CursorCodec
    scope: str
    limit: int
    after: list[Any] | None

    @classmethod
    def of(cls, secret: str, scope: str, cursor: str | None, limit: int, cap: int) -> Paging:
        """`scope` is `scope_of(...)` the list; `limit` as asked, capped at `cap`."""
        codec = CursorCodec(secret)
        after = codec.decode(scope, cursor) if cursor else None
        return cls(codec, scope, max(1, min(limit, cap)), after)

    def after_number(self) -> int:
        """For lists ordered by one growing number (seq, id): 0 before the first page."""
        if self.after is None:
            return 0
        if len(self.after) != 1 or type(self.after[0]) is not int or self.after[0] < 0:
            raise InvalidCursor(NOT_OURS)
        number: int = self.after[0]
        return number

    def after_instant_and_id(self) -> tuple[datetime, uuid.UUID] | None:
        """For lists ordered by an aware instant and a uuid (due dates): None before the
        first page."""
        if self.after is None:
            return None
        try:
            instant, row_id = self.after
            at, parsed = datetime.fromisoformat(instant), uuid.UUID(hex=row_id)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidCursor(NOT_OURS) from exc
        if at.tzinfo is None:
            raise InvalidCursor(NOT_OURS)
        return at, parsed

    @property
    def fetch(self) -> int:
        return self.limit + 1

    def page(self, rows: Sequence[T], key: Callable[[T], SortKey]) -> tuple[list[T], str | None]:
        kept = list(rows[: self.limit])
        more = len(rows) > self.limit
        return kept, (self.codec.encode(self.scope, key(kept[-1])) if more and kept else None)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("cursor is not ASCII")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
