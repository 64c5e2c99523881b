"""User administration: list, create, change role or ministry, (de)activate.

Every admin action is an event on the `users` stream of the audit log; a change of role,
ministry or activity ends the user's sessions at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.auth import MINISTRY_ROLES, Role, UserCreate, UserPage, UserRead, UserUpdate
from service.assignments import service as assignments
from service.audit.log import append_stream_event
from service.auth.security import hash_password
from service.auth.service import end_sessions
from service.kit.context import AppContext
from service.kit.errors import Conflict, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import Unit, UserAccount, utcnow
from service.models.user import LANGUAGES
from service.units import service as units_service
from service.users import repository as repo

USERS_STREAM = "users"


def list_users(session: Session, context: AppContext, cursor: str | None, limit: int) -> UserPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="users"), cursor, limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.users_after(session, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda user: [user.id or 0])
    units = units_service.codes(session, {u.unit_id for u in page if u.unit_id is not None})
    items = [present_user(u, units.get(u.unit_id) if u.unit_id else None) for u in page]
    return UserPage(items=items, next_cursor=next_cursor)


def present_user(user: UserAccount, unit_code: str | None) -> UserRead:
    return UserRead(
        id=user.id or 0, username=user.username, role=Role(user.role), ministry=user.ministry,
        unit=unit_code, is_active=user.is_active, created_at=user.created_at,
    )  # fmt: skip


def create_user(
    session: Session, context: AppContext, actor: Principal, data: UserCreate
) -> UserRead:
    unit = _unit(session, context, data.role, data.ministry, data.unit)
    user = UserAccount(
        username=data.username,
        password_hash=hash_password(data.password),
        role=data.role,
        ministry=unit.ministry if unit else None,
        unit_id=unit.id if unit else None,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"username: {data.username!r} is taken") from exc
    _record(session, context, actor, "user_created", user, unit=unit.code if unit else None)
    return present_user(user, unit.code if unit else None)


def update_user(
    session: Session, context: AppContext, actor: Principal, user_id: int, data: UserUpdate
) -> UserRead:
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound("user not found")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if user.id == actor.user_id and ("role" in changes or changes.get("is_active") is False):
        raise Conflict("an admin cannot change their own role or deactivate themselves")
    role = changes.get("role", user.role)
    works = role in MINISTRY_ROLES
    ministry = changes.get("ministry", user.ministry if works else None)
    unit_code = changes.get("unit")
    if unit_code is None and works and "ministry" not in changes and user.unit_id is not None:
        unit = units_service.by_id(session, user.unit_id)  # stays where it is
    else:
        unit = _unit(session, context, role, ministry, unit_code)
    moved = (unit.id if unit else None) != user.unit_id
    user.role, user.ministry = role, unit.ministry if unit else None
    user.unit_id = unit.id if unit else None
    if "is_active" in changes:
        user.is_active = changes["is_active"]
    if not user.is_active or "role" in changes or moved:
        end_sessions(session, user_id, utcnow())
    if moved or not user.is_active or not works:
        assignments.end_assignments_of(session, context, actor, user_id, reason="user_moved")
    unit_code = unit.code if unit else None
    _record(session, context, actor, "user_updated", user, changes=sorted(changes), unit=unit_code)
    return present_user(user, unit_code)


def seed_account(
    session: Session,
    username: str,
    password_hash: str,
    role: str,
    ministry: str | None,
    unit_code: str | None = None,
) -> Principal:
    """An account made without an admin (the demo, tests, benchmarks): in the unit named, or
    the ministry's national unit; no audit event, no password policy (the hash is given)."""
    unit = (
        units_service.unit_for_user(session, ministry, unit_code) if ministry or unit_code else None
    )
    user = UserAccount(
        username=username, password_hash=password_hash, role=role,
        ministry=unit.ministry if unit else None, unit_id=unit.id if unit else None,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return Principal(
        user.id, username, role, user.ministry, unit.id if unit else None,
        unit.path if unit else None,
    )  # fmt: skip


def _unit(
    session: Session, context: AppContext, role: str, ministry: str | None, unit: str | None
) -> Unit | None:
    """Case workers and supervisors work in one unit; auditors and admins in none."""
    if role in MINISTRY_ROLES:
        if ministry is None and unit is None:
            raise Invalid(
                f"ministry: a {role} belongs to exactly one ministry (give it, or their unit)"
            )
        if ministry is not None:
            _check_role_and_ministry(context, role, ministry)
        found = units_service.unit_for_user(session, ministry, unit)
        if found is None:
            raise Invalid(f"ministry: {ministry} has no unit")
        return found
    if unit is not None:
        raise Invalid(f"unit: a {role} works across units and has none")
    _check_role_and_ministry(context, role, ministry)
    return None


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
