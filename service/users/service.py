"""User administration: list, create, change role or ministry, (de)activate.

Every admin action is an event on the `users` stream of the audit log; a change of role,
ministry or activity ends the user's sessions at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.auth import MINISTRY_ROLES, UserCreate, UserPage, UserRead, UserUpdate
from service.audit.log import append_stream_event
from service.auth.security import hash_password
from service.auth.service import end_sessions
from service.kit.context import AppContext
from service.kit.errors import Conflict, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import UserAccount, utcnow
from service.models.user import LANGUAGES
from service.users import repository as repo

USERS_STREAM = "users"


def list_users(session: Session, context: AppContext, cursor: str | None, limit: int) -> UserPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="users"), cursor, limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.users_after(session, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda user: [user.id or 0])
    return UserPage(items=[present_user(user) for user in page], next_cursor=next_cursor)


def present_user(user: UserAccount) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


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
        end_sessions(session, user_id, utcnow())
    _record(session, context, actor, "user_updated", user, changes=sorted(changes))
    return user


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


def set_language(session: Session, principal: Principal, language: str) -> None:
    """The language a user reads the pages in, remembered across sessions (not an admin
    action: no event)."""
    if language not in LANGUAGES:
        raise Invalid(f"language: one of {', '.join(LANGUAGES)}")
    user = session.get(UserAccount, principal.user_id)
    if user is None:
        raise NotFound("user not found")
    user.language = language
