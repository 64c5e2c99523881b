"""Four eyes on accounts: what needs a second admin, and the pending request that waits for one.

An account that may see victims' identity, approve sensitive transitions or administer (a
supervisor or an admin) is never made, elevated, moved, reactivated or handed over (a password
reset) by one admin alone; nor is another admin's account changed by one admin alone. Such a
change becomes an `account_request`: nothing of it applies until a different admin, who is not
its subject either, approves it (`service.approve_request`). The operator's CLI on the server
(`nrm users add`, no user behind it) is the bootstrap path and acts directly.

Case workers are not in the set: they see the identity of their unit's cases, but are the many
accounts every ministry makes daily, and approve nothing.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from schemas.auth import AccountRequestRead, Role
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.models import AccountRequest, Unit, UserAccount
from service.users import repository as repo

FOUR_EYES_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
USERS_STREAM = "users"


def needed(actor: Principal, role: str) -> bool:
    """Making an account of `role`, or handing one over, needs a second admin."""
    return actor.user_id is not None and role in FOUR_EYES_ROLES


def needed_for_change(
    actor: Principal, user: UserAccount, role: str, unit: Unit | None, changes: dict[str, Any]
) -> bool:
    if actor.user_id is None:
        return False
    if user.role == Role.ADMIN:
        return True  # no admin takes over, demotes or locks out another alone
    if role not in FOUR_EYES_ROLES:
        return False  # a case worker or auditor, or a supervisor made one: access shrinks
    elevated = role != user.role
    moved = (unit.id if unit else None) != user.unit_id
    reactivated = changes.get("is_active") is True and not user.is_active
    return elevated or moved or reactivated


def request(
    session: Session, context: AppContext, actor: Principal, kind: str,
    user: UserAccount | None, username: str, asked: dict[str, Any],
    password_hash: str | None = None,
) -> AccountRequestRead:  # fmt: skip
    assert actor.user_id is not None
    row = AccountRequest(
        kind=kind, user_id=user.id if user else None, username=username, changes=asked,
        password_hash=password_hash, requested_by_id=actor.user_id, requested_at=context.clock(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    record(session, context, actor, "account_change_requested", row)
    return present(session, row)


def record(
    session: Session, context: AppContext, actor: Principal, kind: str, row: AccountRequest,
    note: str | None = None,
) -> None:  # fmt: skip
    append_stream_event(
        session, USERS_STREAM, actor=actor, at=context.clock(), kind=kind, note=note,
        payload={"request_id": row.id, "request": row.kind, "user_id": row.user_id,
                 "username": row.username, "changes": row.changes,
                 "requested_by": repo.username_of(session, row.requested_by_id)},
    )  # fmt: skip


def present(session: Session, row: AccountRequest) -> AccountRequestRead:
    names = repo.usernames(session, {row.requested_by_id, row.decided_by_id})
    return AccountRequestRead(
        id=row.id or 0, kind=row.kind, status=row.status, user_id=row.user_id,
        username=row.username, changes=row.changes,
        requested_by=names.get(row.requested_by_id, "?"), requested_at=row.requested_at,
        decided_by=names.get(row.decided_by_id) if row.decided_by_id else None,
        decided_at=row.decided_at, decision_reason=row.decision_reason,
    )  # fmt: skip
