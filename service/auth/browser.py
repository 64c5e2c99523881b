"""Browser sessions: the web's login, on the same `auth_session` rows as the API's.

The cookie carries an opaque random token; only its SHA-256 is stored. Logout, deactivation and
a change of role end the session at once (its row is revoked, as for the API), and so does
leaving it idle for longer than the idle timeout. `last_seen_at` is written at most once a
minute, so that most requests only read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.auth.service import LoginRefused, authenticate
from service.kit.context import AppContext
from service.kit.principal import BrowserLogin, Principal
from service.models import AuthSession, Unit, UserAccount, utcnow

BROWSER = "browser"
TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_BYTES = 32
_SESSION_ID_BYTES = 16


@dataclass(frozen=True)
class Opened:
    token: str  # for the cookie only; never stored
    session_id: str
    language: str


def log_in(
    session: Session, context: AppContext, username: str, password: str, client: str
) -> Opened | LoginRefused:
    """The API's checks and rate limit (`authenticate`), then a browser session."""
    user = authenticate(session, context, username, password, client)
    if isinstance(user, LoginRefused):
        return user
    assert user.id is not None
    now = utcnow()
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session_id = secrets.token_hex(_SESSION_ID_BYTES)
    session.add(
        AuthSession(
            id=session_id,
            user_id=user.id,
            kind=BROWSER,
            browser_token_hash=token_hash(token),
            created_at=now,
            refreshed_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=context.settings.refresh_token_hours),
        )
    )
    return Opened(token=token, session_id=session_id, language=user.language)


def login_for(
    session: Session, context: AppContext, token: str, now: datetime
) -> BrowserLogin | None:
    """The active user behind a cookie token, if the session is open and was not left idle."""
    row = session.exec(
        select(UserAccount, AuthSession, Unit)
        .join(AuthSession, col(AuthSession.user_id) == col(UserAccount.id))
        .outerjoin(Unit, (col(Unit.id) == col(UserAccount.unit_id)) & col(Unit.is_active))
        .where(col(AuthSession.browser_token_hash) == token_hash(token))
    ).first()
    if row is None:
        return None
    user, login, unit = row
    idle = timedelta(minutes=context.settings.web_idle_minutes)
    seen = login.last_seen_at or login.created_at
    if (
        not user.is_active
        or login.kind != BROWSER
        or login.revoked_at is not None
        or login.expires_at <= now
        or seen + idle <= now
    ):
        return None
    principal = Principal(
        user_id=user.id, username=user.username, role=user.role, ministry=user.ministry,
        unit_id=unit.id if unit else None, unit_path=unit.path if unit else None,
        must_change_password=user.must_change_password,
    )  # fmt: skip
    return BrowserLogin(principal, login.id, user.language, stale=seen + TOUCH_EVERY <= now)


def touch(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(last_seen_at=now)
    )


def log_out(session: Session, token: str) -> None:
    session.execute(
        update(AuthSession)
        .where(
            col(AuthSession.browser_token_hash) == token_hash(token),
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
