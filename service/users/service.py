"""User administration: list, create, change role or ministry, (de)activate, reset a
password; and a user's own password change.

Every admin action is an event on the `users` stream of the audit log; a change of role,
ministry or activity ends the user's sessions at once. What hands someone an account that may
see identity, approve or administer waits for a second admin (`four_eyes.py`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.auth import (
    MINISTRY_ROLES,
    AccountRequestPage,
    AccountRequestRead,
    PasswordChange,
    PasswordReset,
    Role,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
    check_password,
)
from service.assignments import service as assignments
from service.audit.log import append_stream_event
from service.auth.security import hash_password, verify_password
from service.auth.service import end_sessions
from service.kit.context import AppContext
from service.kit.errors import Conflict, Forbidden, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import AccountRequest, Unit, UserAccount, utcnow
from service.models.user import LANGUAGES
from service.units import service as units_service
from service.users import four_eyes
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
) -> UserRead | AccountRequestRead:
    """An account that may see identity, approve or administer waits for a second admin
    (`four_eyes`); others (and the operator's CLI, the bootstrap path) are made at once."""
    unit = _unit(session, context, data.role, data.ministry, data.unit)
    if four_eyes.needed(actor, data.role):
        if repo.user_by_name(session, data.username) is not None:
            raise Conflict(f"username: {data.username!r} is taken")
        asked = _where(data.role.value, unit)
        return four_eyes.request(session, context, actor, "create", None, data.username, asked,
                                 hash_password(data.password))  # fmt: skip
    asked = {"username": data.username, **_where(data.role.value, unit)}
    return make_user(session, context, actor, asked, hash_password(data.password))


def _where(role: str, unit: Unit | None) -> dict[str, Any]:
    return {"role": role, "ministry": unit.ministry if unit else None,
            "unit": unit.code if unit else None}  # fmt: skip


def make_user(
    session: Session, context: AppContext, actor: Principal, asked: dict[str, Any],
    password_hash: str, **extra: Any,
) -> UserRead:  # fmt: skip
    unit = _unit(session, context, asked["role"], asked["ministry"], asked["unit"])
    user = UserAccount(
        username=asked["username"],
        password_hash=password_hash,
        role=asked["role"],
        ministry=unit.ministry if unit else None,
        unit_id=unit.id if unit else None,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"username: {asked['username']!r} is taken") from exc
    code = unit.code if unit else None
    _record(session, context, actor, "user_created", user, unit=code, **extra)
    return present_user(user, code)


def update_user(
    session: Session, context: AppContext, actor: Principal, user_id: int, data: UserUpdate
) -> UserRead | AccountRequestRead:
    """A change that lets the account see identity, approve or administer (a new role, unit or
    reactivation of a supervisor or admin), or any change to another admin, waits for a second
    admin; others apply at once."""
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound("user not found")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)  # null role: refused (schema)
    if user.id == actor.user_id and ("role" in changes or changes.get("is_active") is False):
        raise Conflict("an admin cannot change their own role or deactivate themselves")
    role, unit = _planned(session, context, user, changes)
    if four_eyes.needed_for_change(actor, user, role, unit, changes):
        asked = {**changes, "unit": unit.code if unit else None, "role": role}
        return four_eyes.request(session, context, actor, "update", user, user.username, asked)
    return change_user(session, context, actor, user, changes)


def _planned(
    session: Session, context: AppContext, user: UserAccount, changes: dict[str, Any]
) -> tuple[str, Unit | None]:
    """The role and unit the user will have after `changes` (refusing an impossible one)."""
    role = changes.get("role", user.role)
    works = role in MINISTRY_ROLES
    ministry = changes.get("ministry", user.ministry if works else None)
    unit_code = changes.get("unit")
    if unit_code is None and works and "ministry" not in changes and user.unit_id is not None:
        return role, units_service.by_id(session, user.unit_id)  # stays where it is
    return role, _unit(session, context, role, ministry, unit_code)


def change_user(
    session: Session, context: AppContext, actor: Principal, user: UserAccount,
    changes: dict[str, Any], **extra: Any,
) -> UserRead:  # fmt: skip
    assert user.id is not None
    role, unit = _planned(session, context, user, changes)
    moved = (unit.id if unit else None) != user.unit_id
    user.role, user.ministry = role, unit.ministry if unit else None
    user.unit_id = unit.id if unit else None
    if "is_active" in changes:
        user.is_active = changes["is_active"]
    if not user.is_active or "role" in changes or moved:
        end_sessions(session, user.id, utcnow())
    if moved or not user.is_active or role not in MINISTRY_ROLES:
        assignments.end_assignments_of(session, context, actor, user.id, reason="user_moved")
    unit_code = unit.code if unit else None
    _record(session, context, actor, "user_updated", user, changes=sorted(changes),
            unit=unit_code, **extra)  # fmt: skip
    return present_user(user, unit_code)


def reset_password(
    session: Session, context: AppContext, actor: Principal, user_id: int, data: PasswordReset
) -> UserRead | AccountRequestRead:
    """A temporary password the user must change at the next login. Resetting the password of
    a supervisor or admin hands over that account: it waits for a second admin."""
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound("user not found")
    if user.id == actor.user_id:
        raise Conflict(
            "change your own password with your old one (POST /api/v1/users/me/password)"
        )
    check_password_text(data.password, user.username)
    digest = hash_password(data.password)
    if four_eyes.needed(actor, user.role):
        return four_eyes.request(session, context, actor, "reset_password", user, user.username,
                                 {}, digest)  # fmt: skip
    return set_temporary_password(session, context, actor, user, digest)


def set_temporary_password(
    session: Session, context: AppContext, actor: Principal, user: UserAccount,
    password_hash: str, **extra: Any,
) -> UserRead:  # fmt: skip
    assert user.id is not None
    user.password_hash, user.must_change_password = password_hash, True
    end_sessions(session, user.id, utcnow())
    _record(session, context, actor, "password_reset", user, **extra)
    return present_user(user, _unit_code(session, user))


def change_password(
    session: Session, context: AppContext, principal: Principal, data: PasswordChange
) -> None:
    """The user's own change, proven by the old password; every session of theirs ends (this
    one too), so that whoever had the old password is out."""
    user = session.get(UserAccount, principal.user_id)
    if user is None:
        raise NotFound("user not found")
    if not verify_password(user.password_hash, data.old_password):
        raise Invalid("old_password: not your current password")
    if data.new_password == data.old_password:
        raise Invalid("new_password: choose a password other than the old one")
    check_password_text(data.new_password, user.username)
    user.password_hash, user.must_change_password = hash_password(data.new_password), False
    end_sessions(session, principal.user_id or 0, utcnow())
    _record(session, context, principal, "password_changed", user)


def check_password_text(password: str, username: str) -> None:
    try:
        check_password(password, username)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def _unit_code(session: Session, user: UserAccount) -> str | None:
    return units_service.codes(session, {user.unit_id}).get(user.unit_id) if user.unit_id else None


def list_requests(
    session: Session, context: AppContext, cursor: str | None, limit: int
) -> AccountRequestPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="account_requests"), cursor, limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.pending_requests_after(session, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda row: [row.id or 0])
    return AccountRequestPage(
        items=[four_eyes.present(session, row) for row in page], next_cursor=next_cursor
    )


def approve_request(
    session: Session, context: AppContext, admin: Principal, request_id: int
) -> AccountRequestRead:
    """The second admin: not the one who asked, nor the account's own user. The change is
    checked again against the accounts as they are now, then applied; its event names both."""
    row = _decidable(session, admin, request_id)
    both = {"request_id": row.id, "requested_by": repo.username_of(session, row.requested_by_id)}
    if row.kind == "create":
        assert row.password_hash is not None
        make_user(session, context, admin, {"username": row.username, **row.changes},
                  row.password_hash, **both)  # fmt: skip
    else:
        user = session.get(UserAccount, row.user_id)
        if user is None:
            raise NotFound("user not found")
        if row.kind == "reset_password":
            assert row.password_hash is not None
            set_temporary_password(session, context, admin, user, row.password_hash, **both)
        else:
            changes = {k: v for k, v in row.changes.items() if k != "role" or v != user.role}
            change_user(session, context, admin, user, changes, **both)
    return _decide(session, context, admin, row, "approved", None)


def reject_request(
    session: Session, context: AppContext, admin: Principal, request_id: int, reason: str
) -> AccountRequestRead:
    row = _decidable(session, admin, request_id)
    return _decide(session, context, admin, row, "rejected", reason)


def _decidable(session: Session, admin: Principal, request_id: int) -> AccountRequest:
    row = repo.pending_request(session, request_id)
    if row is None:
        raise NotFound("no pending account request with this id")
    if admin.user_id in (row.requested_by_id, row.user_id):
        raise Forbidden("a second admin decides: not the one who asked, nor the account's user")
    return row


def _decide(
    session: Session, context: AppContext, admin: Principal, row: AccountRequest, status: str,
    reason: str | None,
) -> AccountRequestRead:  # fmt: skip
    row.status, row.decided_by_id, row.decided_at = status, admin.user_id, context.clock()
    row.decision_reason = reason
    row.password_hash = None  # applied or refused: the hash is kept nowhere but on the account
    four_eyes.record(session, context, admin, f"account_change_{status}", row, note=reason)
    return four_eyes.present(session, row)


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
