"""Idempotency keys: the same key and body answer the first answer again and write nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.kit.canonical_json import digest
from service.kit.encryption import IdentityCipher
from service.kit.errors import IdempotencyKeyReused, Invalid
from service.kit.principal import Principal
from service.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Answer:
    """A use case's answer as it goes over the wire, so that it can be stored and replayed."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def fingerprint(scope: str, body: Any) -> str:
    return digest([scope, body])


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Invalid(f"Idempotency-Key: give 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return key


def replay(
    session: Session, cipher: IdentityCipher, principal: Principal, key: str, request_hash: str
) -> Answer | None:
    record = session.get(IdempotencyRecord, (principal.user_id, key))
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "Idempotency-Key: this key was already used with a different request"
        )
    body = cipher.decrypt(base64.b64decode(record.response["sealed"]), _bound_to(principal, key))
    return Answer(status_code=record.status_code, body=body, replayed=True)


def remember(
    session: Session,
    cipher: IdentityCipher,
    principal: Principal,
    key: str,
    request_hash: str,
    answer: Answer,
) -> None:
    """Stored encrypted: an answer may hold a victim's identity, which never rests in clear."""
    assert principal.user_id is not None
    sealed = cipher.encrypt(answer.body, _bound_to(principal, key))
    session.add(
        IdempotencyRecord(
            user_id=principal.user_id,
            key=key,
            request_hash=request_hash,
            status_code=answer.status_code,
            response={"sealed": base64.b64encode(sealed).decode()},
        )
    )


def _bound_to(principal: Principal, key: str) -> bytes:
    return f"idempotency:{principal.user_id}:{key}".encode()


def idempotent(
    session: Session,
    cipher: IdentityCipher,
    principal: Principal,
    key: str | None,
    scope: str,
    body: Any,
    action: Callable[[], Answer],
) -> Answer:
    """Run `action` once per (user, key): a replay with the same body returns the stored answer."""
    if key is None:
        return action()
    request_hash = fingerprint(scope, body)
    previous = replay(session, cipher, principal, check_key(key), request_hash)
    if previous is not None:
        return previous
    answer = action()
    remember(session, cipher, principal, key, request_hash, answer)
    return answer
