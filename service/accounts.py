"""Accounts: log in, and manage users. Passwords are argon2id hashes and never leave this module."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from schemas.auth import TokenRead, UserCreate
from service.context import AppContext
from service.errors import Conflict, Invalid, NotAuthenticated
from service.models import UserAccount
from service.principal import MINISTRY_ROLES
from service.security import hash_password, issue_token, verify_password


def log_in(session: Session, context: AppContext, username: str, password: str) -> TokenRead:
    """The same answer whether the user is unknown, inactive or mistyped their password."""
    user = session.exec(select(UserAccount).where(col(UserAccount.username) == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise NotAuthenticated("incorrect username or password")
    assert user.id is not None
    token, expires_in = issue_token(
        context.settings.keys.secret_key,
        user.id,
        secrets.token_urlsafe(16),
        timedelta(minutes=context.settings.access_token_minutes),
    )
    return TokenRead(access_token=token, expires_in=expires_in)


def create_user(session: Session, context: AppContext, data: UserCreate) -> UserAccount:
    if data.role in MINISTRY_ROLES:
        if data.ministry is None:
            raise Invalid(f"ministry: a {data.role} belongs to exactly one ministry")
        if data.ministry not in context.registry.ministries():
            known = ", ".join(sorted(context.registry.ministries()))
            raise Invalid(f"ministry: {data.ministry!r} is not a ministry code ({known})")
    elif data.ministry is not None:
        raise Invalid(f"ministry: a {data.role} works across ministries and has none")
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
    return user


def list_users(session: Session) -> Sequence[UserAccount]:
    return session.exec(select(UserAccount).order_by(col(UserAccount.id))).all()
