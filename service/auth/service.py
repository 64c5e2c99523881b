"""Authentication: log in, renew, log out, and who is behind a token.

Passwords are argon2id hashes and never leave the auth package. Access tokens live minutes
and name a session; logging out or deactivating a user ends the session, and with it every
token, at once.
Sessions and login limits run on real time (`utcnow`), never on the simulated case clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from schemas.auth import TokenRead
from service.auth.security import hashing_slot, issue_token, verify_password
from service.kit.context import AppContext
from service.kit.errors import NotAuthenticated, TooManyRequests
from service.kit.principal import Principal
from service.models import (
    AuthSession,
    LoginFailure,
    RetiredRefreshToken,
    Unit,
    UserAccount,
    utcnow,
)
from service.models.base import UTCDateTime

FAILURE_WINDOW = timedelta(minutes=15)
# Failed logins allowed in FAILURE_WINDOW, each counted before any password is hashed:
MAX_FAILURES_PER_USER_AND_CLIENT = 5  # one address guessing one account: it slows down alone
MAX_FAILURES_PER_CLIENT = 20  # one address guessing many accounts
MAX_FAILURES_PER_USER = 100  # many addresses guessing one account: the only lock-out everywhere
_SESSION_ID_BYTES = 16


@dataclass(frozen=True)
class LoginRefused:
    """A failed login is an answer, not an error: its failure record must be committed."""

    detail: str = "incorrect username or password"


def log_in(
    session: Session, context: AppContext, username: str, password: str, client: str
) -> TokenRead | LoginRefused:
    """The same answer whether the user is unknown, inactive or mistyped their password."""
    user = authenticate(session, context, username, password, client)
    if isinstance(user, LoginRefused):
        return user
    assert user.id is not None
    return open_session(session, context, user.id, utcnow())


def authenticate(
    session: Session, context: AppContext, username: str, password: str, client: str
) -> UserAccount | LoginRefused:
    """The active user with this password, under the login rate limit (API and browser alike).

    The attempt is counted and recorded as a failure in a unit of work of its own, serialised
    per client and per username and committed BEFORE the password is hashed: parallel attempts
    are counted exactly, a refused one costs no argon2 work, and no transaction is open while
    argon2 runs (at most `hashing_slot`'s number at once per process). A success removes the
    recorded attempt and the failures of this user from this client. `session` (the answer's
    unit of work) must not have been used yet: its transaction begins after the hashing.
    """
    username, client = username[:64], client[:64]
    with hashing_slot():
        with context.database.transaction() as counting:
            user_id, password_hash = _count_attempt(counting, username, client, utcnow())
        ok = verify_password(password_hash, password)
    user = session.get(UserAccount, user_id) if ok and user_id is not None else None
    if user is None or not user.is_active or user.password_hash != password_hash:
        return LoginRefused()
    session.execute(
        delete(LoginFailure).where(
            col(LoginFailure.username) == username, col(LoginFailure.client) == client
        )
    )
    return user


def refresh(session: Session, context: AppContext, refresh_token: str) -> TokenRead | LoginRefused:
    """Rotate: the old refresh token stops working; presenting it, or any earlier one of the
    session, again ends the session (it was stolen or replayed)."""
    now = utcnow()
    digest = _digest(refresh_token)
    login = session.exec(
        select(AuthSession).where(
            col(AuthSession.refresh_hash) == digest, col(AuthSession.kind) == "api"
        )
    ).first()
    if login is None:
        replayed = session.exec(
            select(AuthSession)
            .join(RetiredRefreshToken, col(RetiredRefreshToken.session_id) == col(AuthSession.id))
            .where(col(RetiredRefreshToken.token_hash) == digest)
        ).first()
        if replayed is not None and replayed.revoked_at is None:
            replayed.revoked_at = now  # a used token came back: end the whole session
            return LoginRefused("the refresh token was already used; the session is ended")
        raise NotAuthenticated("the refresh token is invalid or has expired")
    user = session.get(UserAccount, login.user_id)
    if login.revoked_at or login.expires_at <= now or user is None or not user.is_active:
        raise NotAuthenticated("the refresh token is invalid or has expired")
    token = secrets.token_urlsafe(32)
    assert login.refresh_hash is not None
    # a concurrent rotation of the same token inserts the same key: one of the two gets a 409
    session.add(
        RetiredRefreshToken(token_hash=login.refresh_hash, session_id=login.id, retired_at=now)
    )
    login.refresh_hash = _digest(token)
    login.refreshed_at = now
    return _tokens(context, login, token, now)


def log_out(session: Session, context: AppContext, session_id: str) -> None:
    login = session.get(AuthSession, session_id)
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()


def principal_for(
    session: Session, user_id: int, session_id: str, now: datetime
) -> Principal | None:
    """The active user behind an access token, if its session is still open (an API session:
    a browser session's id is no bearer credential). Asked on every request, so it is one
    prepared Core statement returning plain columns, the checks in its WHERE clause."""
    row: Any = (
        session.connection()  # Core rows: through Session.execute the ORM builds each one
        .execute(_PRINCIPAL, {"user_id": user_id, "session_id": session_id, "now": now})
        .first()
    )
    if row is None:
        return None
    user_id, username, role, ministry, must_change_password, unit_id, unit_path = row
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        ministry=ministry,
        unit_id=unit_id,
        unit_path=unit_path,
        must_change_password=must_change_password,
    )


_PRINCIPAL = (
    sa_select(
        col(UserAccount.id), col(UserAccount.username), col(UserAccount.role),
        col(UserAccount.ministry), col(UserAccount.must_change_password), col(Unit.id),
        col(Unit.path),
    )
    .join(AuthSession, col(AuthSession.user_id) == col(UserAccount.id))
    .outerjoin(Unit, (col(Unit.id) == col(UserAccount.unit_id)) & col(Unit.is_active))
    .where(
        col(UserAccount.id) == bindparam("user_id"),
        col(AuthSession.id) == bindparam("session_id"),
        col(UserAccount.is_active),
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > bindparam("now", type_=UTCDateTime),
        col(AuthSession.kind) == "api",
    )
)  # fmt: skip


def principal_named(session: Session, username: str) -> Principal | None:
    """An active user by login name, acting from the command line (`nrm cases import`)."""
    user = session.exec(select(UserAccount).where(col(UserAccount.username) == username)).first()
    if user is None or not user.is_active or user.id is None:
        return None
    return principal_of(session, user.id)


def principal_of(session: Session, user_id: int, ministry: str | None = None) -> Principal:
    """A user as they act now, without a login (approvals re-check what the requester asked)."""
    row = session.exec(
        select(UserAccount, Unit)
        .outerjoin(Unit, (col(Unit.id) == col(UserAccount.unit_id)) & col(Unit.is_active))
        .where(col(UserAccount.id) == user_id)
    ).one()
    user, unit = row
    return Principal(
        user_id=user.id, username=user.username, role=user.role,
        ministry=ministry or user.ministry, unit_id=unit.id if unit else None,
        unit_path=unit.path if unit else None,
    )  # fmt: skip


def open_session(session: Session, context: AppContext, user_id: int, now: datetime) -> TokenRead:
    token = secrets.token_urlsafe(32)
    login = AuthSession(
        id=secrets.token_hex(_SESSION_ID_BYTES),
        user_id=user_id,
        refresh_hash=_digest(token),
        created_at=now,
        refreshed_at=now,
        expires_at=now + timedelta(hours=context.settings.refresh_token_hours),
    )
    session.add(login)
    return _tokens(context, login, token, now)


def _tokens(
    context: AppContext, login: AuthSession, refresh_token: str, now: datetime
) -> TokenRead:
    access, expires_in = issue_token(
        context.settings.keys.secret_key,
        login.user_id,
        login.id,
        timedelta(minutes=context.settings.access_token_minutes),
    )  # the token's own expiry is real time, whatever clock the service runs on
    return TokenRead(
        access_token=access,
        expires_in=expires_in,
        refresh_token=refresh_token,
        refresh_expires_in=int((login.expires_at - now).total_seconds()),
    )


def _count_attempt(
    session: Session, username: str, client: str, now: datetime
) -> tuple[int | None, str | None]:
    """429 if a limit is reached; else record the attempt as a failure (a success removes it)
    and return the user's id and password hash (None for an unknown user)."""
    _serialise(session, client, username)
    since = now - FAILURE_WINDOW
    limits: tuple[tuple[ColumnElement[bool], int], ...] = (
        (
            (col(LoginFailure.username) == username) & (col(LoginFailure.client) == client),
            MAX_FAILURES_PER_USER_AND_CLIENT,
        ),
        (col(LoginFailure.client) == client, MAX_FAILURES_PER_CLIENT),
        (col(LoginFailure.username) == username, MAX_FAILURES_PER_USER),
    )
    for condition, limit in limits:
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(
                condition, col(LoginFailure.at) > since
            )
        ).one()
        if count >= limit and oldest is not None:
            retry = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise TooManyRequests(
                "too many failed logins; wait before trying again",
                headers={"Retry-After": str(retry)},
            )
    session.add(LoginFailure(username=username, client=client, at=now))
    row = session.exec(
        select(UserAccount.id, UserAccount.password_hash).where(
            col(UserAccount.username) == username
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _serialise(session: Session, client: str, username: str) -> None:
    """Count-and-record as one step: PostgreSQL takes a transaction lock per client, then per
    username (always in this order, so no two logins wait on each other in a cycle); SQLite's
    BEGIN IMMEDIATE already serialises every writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in (f"login-client:{client}", f"login-user:{username}"):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


def end_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def prune_login_failures(context: AppContext) -> int:
    """Failures older than the window count for nothing; they are kept
    `login_failure_retention_hours` (at least the window) for investigation, then deleted."""
    retention = timedelta(hours=context.settings.login_failure_retention_hours)
    with context.database.transaction() as session:
        cutoff = context.clock() - max(retention, FAILURE_WINDOW)
        result = session.execute(delete(LoginFailure).where(col(LoginFailure.at) < cutoff))
        # A retired refresh token outlives its session by nothing: an expired session
        # refreshes no more, whatever token comes.
        expired = select(AuthSession.id).where(col(AuthSession.expires_at) < context.clock())
        session.execute(
            delete(RetiredRefreshToken).where(col(RetiredRefreshToken.session_id).in_(expired))
        )
    return int(getattr(result, "rowcount", 0) or 0)


def prune_ended_sessions(context: AppContext) -> int:
    """Sessions that ended (logged out or revoked, expired, or a browser's left idle) more than
    `session_retention_days` ago: their rows open nothing any more. The audit log keeps who did
    what; a session row only says which login it was."""
    settings = context.settings
    cutoff = context.clock() - timedelta(days=settings.session_retention_days)
    idle = timedelta(minutes=settings.web_idle_minutes)
    seen = func.coalesce(col(AuthSession.last_seen_at), col(AuthSession.created_at))
    ended = (
        (col(AuthSession.revoked_at) < cutoff)
        | (col(AuthSession.expires_at) < cutoff)
        | ((col(AuthSession.kind) == "browser") & (seen < cutoff - idle))
    )
    with context.database.transaction() as session:
        result = session.execute(delete(AuthSession).where(ended))
    return int(getattr(result, "rowcount", 0) or 0)
