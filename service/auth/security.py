"""Passwords (argon2id) and signed, short-lived access tokens (HS256 JWT)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.kit.errors import LoginBusy

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile (64 MiB)
# Logins hashing a password at once in one process: each costs 64 MiB and a core for ~50 ms,
# so an unauthenticated flood queues here instead of exhausting memory and threads.
MAX_CONCURRENT_HASHES = 2
HASH_WAIT_SECONDS = 10.0
_HASH_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_DUMMY_HASH = _HASHER.hash("a password nobody has")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists: an unknown user checks a dummy hash."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@contextmanager
def hashing_slot(wait: float | None = None) -> Iterator[None]:
    """One of the process's few password-hashing slots; 503 `login_busy` if none frees up."""
    if not _HASH_SLOTS.acquire(timeout=HASH_WAIT_SECONDS if wait is None else wait):
        raise LoginBusy(
            "too many logins at once; try again in a moment", headers={"Retry-After": "1"}
        )
    try:
        yield
    finally:
        _HASH_SLOTS.release()


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    session_id: str
    expires_at: datetime


def issue_token(secret: str, user_id: int, session_id: str, ttl: timedelta) -> tuple[str, int]:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "sid": session_id, "iat": now, "exp": now + ttl, "typ": "access"}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), int(ttl.total_seconds())


def read_token(secret: str, token: str) -> TokenClaims | None:
    """The claims of a genuine, unexpired token. Decoding is memoised (a token's claims never
    change; a client sends the same one for minutes); the expiry is checked on every call."""
    claims = _decode(secret, token)
    if claims is None or claims.expires_at <= datetime.now(UTC):
        return None
    return claims


@lru_cache(maxsize=4096)
def _decode(secret: str, token: str) -> TokenClaims | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "sid"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        return None
    return TokenClaims(
        user_id=int(claims["sub"]),
        session_id=str(claims["sid"]),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
