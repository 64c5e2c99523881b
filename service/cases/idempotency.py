"""Idempotency keys: the same key and body answer the first answer again and write nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from service.cases import repository as repo
from service.kit.canonical_json import digest
from service.kit.context import AppContext
from service.kit.db import insert_if_absent
from service.kit.encryption import IdentityCipher
from service.kit.errors import IdempotencyKeyReused, Invalid, RequestInProgress
from service.kit.principal import Principal
from service.models import IdempotencyRecord, utcnow

MAX_KEY_LENGTH = 200
IN_PROGRESS = 0  # the status of a claimed key whose request has not answered yet


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


def idempotent(
    session: Session,
    context: AppContext,
    principal: Principal,
    key: str | None,
    scope: str,
    body: Any,
    action: Callable[[], Answer],
    replay: Callable[[Answer], Answer],
) -> Answer:
    """Run `action` once per (user, key): a retry with the same body gets the first answer.

    The key is claimed before the action runs, by inserting its record; concurrent retries of
    one key therefore queue behind the first (PostgreSQL waits on the key's unique index) and
    then replay its answer, instead of racing it to a duplicate or a version conflict. The
    claim, the action's effect and the answer commit together or not at all.

    A stored answer leaves only through `replay`, which checks the caller's access as it is
    now and redacts by it (the answer was made for the caller's rights of then). A key older
    than `idempotency_ttl_hours` is a new key: it is claimed again and the action runs, the
    same as once the prune has removed its record, so the answer never depends on when the
    prune last ran.
    """
    if key is None:
        return action()
    stored = claim(session, context, principal, key, scope, body)
    if stored is not None:
        return replay(stored)
    answer = action()
    store(session, context, principal, key, answer)
    return answer


def claim(
    session: Session, context: AppContext, principal: Principal, key: str, scope: str, body: Any
) -> Answer | None:
    """Claim (user, key) for this request: None if claimed (the caller acts, then `store`s its
    answer), else the first request's answer, to be checked and replayed by the caller; 422
    if the key came with another request, 409 while the first has not answered.

    A use case that spans several transactions (a group decision) claims in its first and
    stores in its last: until then a retry is told the first is still running."""
    check_key(key)
    assert principal.user_id is not None
    request_hash = fingerprint(scope, body)
    now = utcnow()
    claim = {
        "user_id": principal.user_id, "key": key, "request_hash": request_hash,
        "status_code": IN_PROGRESS, "response": {}, "created_at": now,
    }  # fmt: skip
    expired_before = now - timedelta(hours=context.settings.idempotency_ttl_hours)
    claimed = insert_if_absent(session, IdempotencyRecord, claim) or _reclaim_expired(
        session, claim, expired_before
    )
    if claimed:
        return None
    record = session.get(IdempotencyRecord, (principal.user_id, key), populate_existing=True)
    assert record is not None
    return _stored(context.cipher, principal, record, request_hash)


def note_pending(session: Session, principal: Principal, key: str, note: str) -> None:
    """What a retry is told to read while the claimed request still runs (a group's id)."""
    record = session.get(IdempotencyRecord, (principal.user_id, key), populate_existing=True)
    assert record is not None and record.status_code == IN_PROGRESS
    record.response = {"pending": note}


def pending_note(session: Session, principal: Principal, key: str) -> str | None:
    record = session.get(IdempotencyRecord, (principal.user_id, key))
    note = record.response.get("pending") if record is not None else None
    return note if isinstance(note, str) else None


def store(
    session: Session, context: AppContext, principal: Principal, key: str, answer: Answer
) -> None:
    """The answer to a claimed key, sealed (it may hold a victim's identity)."""
    record = session.get(IdempotencyRecord, (principal.user_id, key), populate_existing=True)
    assert record is not None
    record.status_code = answer.status_code
    record.response = {
        "sealed": base64.b64encode(
            context.cipher.encrypt(answer.body, _bound_to(principal, key))
        ).decode()
    }


def _reclaim_expired(session: Session, claim: dict[str, Any], expired_before: datetime) -> bool:
    """Claim a key whose record has expired, as if it had never been used. A concurrent
    reclaim waits on the row (PostgreSQL) or the write lock (SQLite), then finds it fresh."""
    result = session.execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.user_id) == claim["user_id"],
            col(IdempotencyRecord.key) == claim["key"],
            col(IdempotencyRecord.created_at) < expired_before,
        )
        .values(**{k: v for k, v in claim.items() if k not in ("user_id", "key")})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _stored(
    cipher: IdentityCipher, principal: Principal, record: IdempotencyRecord, request_hash: str
) -> Answer:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "Idempotency-Key: this key was already used with a different request"
        )
    if record.status_code == IN_PROGRESS:  # only if the first is still running (not seen yet)
        raise RequestInProgress(
            "Idempotency-Key: the first request with this key is still running; retry shortly",
            headers={"Retry-After": "1"},
        )
    sealed = base64.b64decode(record.response["sealed"])
    body = cipher.decrypt(sealed, _bound_to(principal, record.key))
    return Answer(status_code=record.status_code, body=body, replayed=True)


def _bound_to(principal: Principal, key: str) -> bytes:
    """Stored encrypted: an answer may hold a victim's identity, which never rests in clear."""
    return f"idempotency:{principal.user_id}:{key}".encode()


def prune_expired(context: AppContext) -> int:
    """Stored answers older than `idempotency_ttl_hours` are deleted: a retry that late is a
    new request (its `expected_version` no longer matches, so it cannot act twice)."""
    cutoff = context.clock() - timedelta(hours=context.settings.idempotency_ttl_hours)
    with context.database.transaction() as session:
        return repo.delete_idempotency_records_before(session, cutoff)
