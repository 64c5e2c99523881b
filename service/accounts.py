"""Accounts: log in, renew, log out, and manage users. Every admin action is an audit event.

Passwords are argon2id hashes and never leave this module. Access tokens live minutes and name a
session; logging out or deactivating a user ends the session, and with it every token, at once.
Sessions and login limits run on real time (`utcnow`), never on the simulated case clock.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from schemas.auth import TokenRead, UserCreate, UserUpdate
from service.context import AppContext
from service.errors import Conflict, Invalid, NotAuthenticated, NotFound, TooManyRequests
from service.events import append_stream_event
from service.jobs import PeriodicJob, register
from service.models import AuthSession, LoginFailure, UserAccount, utcnow
from service.principal import MINISTRY_ROLES, Principal
from service.security import hash_password, issue_token, verify_password

USERS_STREAM = "users"
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
_SESSION_ID_BYTES = 16


@dataclass(frozen=True)
class LoginRefused:
    """A failed login is an answer, not an error: its failure record must be committed."""

    detail: str = "incorrect username or password"


def log_in(
    session: Session, context: AppContext, username: str, password: str, client: str
) -> TokenRead | LoginRefused:
    """The same answer whether the user is unknown, inactive or mistyped their password."""
    now = utcnow()
    _check_rate(session, username, client, now)
    user = session.exec(select(UserAccount).where(col(UserAccount.username) == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(username=username[:64], client=client[:64], at=now))
        return LoginRefused()
    session.execute(delete(LoginFailure).where(col(LoginFailure.username) == username))
    assert user.id is not None
    return open_session(session, context, user.id, now)


def refresh(session: Session, context: AppContext, refresh_token: str) -> TokenRead | LoginRefused:
    """Rotate: the old refresh token stops working; presenting it again ends the session."""
    now = utcnow()
    digest = _digest(refresh_token)
    login = session.exec(select(AuthSession).where(col(AuthSession.refresh_hash) == digest)).first()
    if login is None:
        replayed = session.exec(
            select(AuthSession).where(col(AuthSession.previous_refresh_hash) == digest)
        ).first()
        if replayed is not None and replayed.revoked_at is None:
            replayed.revoked_at = now  # a used token came back: end the whole session
            return LoginRefused("the refresh token was already used; the session is ended")
        raise NotAuthenticated("the refresh token is invalid or has expired")
    user = session.get(UserAccount, login.user_id)
    if login.revoked_at or login.expires_at <= now or user is None or not user.is_active:
        raise NotAuthenticated("the refresh token is invalid or has expired")
    token = secrets.token_urlsafe(32)
    login.previous_refresh_hash, login.refresh_hash = login.refresh_hash, _digest(token)
    login.refreshed_at = now
    return _tokens(context, login, token, now)


def log_out(session: Session, context: AppContext, session_id: str) -> None:
    login = session.get(AuthSession, session_id)
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()


def create_user(
    session: Session, context: AppContext, actor: Principal, data: UserCreate
) -> UserAccount:
    _check_role_and_ministry(context, data.role, data.ministry)
    user = UserAccount(
        username=data.username,
        password_hash=hash_password(data.password),
        role=data.role,
        ministry=data.ministry,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"username: {data.username!r} is taken") from exc
    _record(session, context, actor, "user_created", user)
    return user


def update_user(
    session: Session, context: AppContext, actor: Principal, user_id: int, data: UserUpdate
) -> UserAccount:
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound("user not found")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if user.id == actor.user_id and ("role" in changes or changes.get("is_active") is False):
        raise Conflict("an admin cannot change their own role or deactivate themselves")
    role = changes.get("role", user.role)
    ministry = changes.get("ministry", user.ministry if role in MINISTRY_ROLES else None)
    _check_role_and_ministry(context, role, ministry)
    user.role, user.ministry = role, ministry
    if "is_active" in changes:
        user.is_active = changes["is_active"]
    if not user.is_active or "role" in changes or "ministry" in changes:
        _revoke_sessions(session, user_id, utcnow())
    _record(session, context, actor, "user_updated", user, changes=sorted(changes))
    return user


def list_users(session: Session) -> Sequence[UserAccount]:
    return session.exec(select(UserAccount).order_by(col(UserAccount.id))).all()


def principal_for(
    session: Session, user_id: int, session_id: str, now: datetime
) -> Principal | None:
    """The active user behind an access token, if its session is still open."""
    row = session.exec(
        select(UserAccount, AuthSession)
        .join(AuthSession, col(AuthSession.user_id) == col(UserAccount.id))
        .where(col(UserAccount.id) == user_id, col(AuthSession.id) == session_id)
    ).first()
    if row is None:
        return None
    user, login = row
    if not user.is_active or login.revoked_at is not None or login.expires_at <= now:
        return None
    return Principal(
        user_id=user.id, username=user.username, role=user.role, ministry=user.ministry
    )


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


def _check_rate(session: Session, username: str, client: str, now: datetime) -> None:
    since = now - FAILURE_WINDOW
    for column, value, limit in (
        (LoginFailure.username, username, MAX_FAILURES_PER_USER),
        (LoginFailure.client, client, MAX_FAILURES_PER_CLIENT),
    ):
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(
                col(column) == value, col(LoginFailure.at) > since
            )
        ).one()
        if count >= limit and oldest is not None:
            retry = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise TooManyRequests(
                "too many failed logins; wait before trying again",
                headers={"Retry-After": str(retry)},
            )


def _check_role_and_ministry(context: AppContext, role: str, ministry: str | None) -> None:
    if role in MINISTRY_ROLES:
        if ministry is None:
            raise Invalid(f"ministry: a {role} belongs to exactly one ministry")
        known = context.registry.ministries()
        if ministry not in known:
            raise Invalid(
                f"ministry: {ministry!r} is not a ministry code ({', '.join(sorted(known))})"
            )
    elif ministry is not None:
        raise Invalid(f"ministry: a {role} works across ministries and has none")


def _revoke_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def _record(
    session: Session,
    context: AppContext,
    actor: Principal,
    kind: str,
    user: UserAccount,
    **extra: Any,
) -> None:
    append_stream_event(
        session,
        USERS_STREAM,
        actor=actor,
        at=context.clock(),
        kind=kind,
        payload={
            "user_id": user.id,
            "username": user.username,
            "role": user.role,
            "ministry": user.ministry,
            "is_active": user.is_active,
            **extra,
        },
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _prune_login_failures(context: AppContext) -> None:
    with context.database.transaction() as session:
        cutoff = utcnow() - 4 * FAILURE_WINDOW
        session.execute(delete(LoginFailure).where(col(LoginFailure.at) < cutoff))


register(PeriodicJob("prune-login-failures", lambda _context: 900.0, _prune_login_failures))
