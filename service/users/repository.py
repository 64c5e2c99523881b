"""Queries of user administration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from service.models import AccountRequest, UserAccount


def users_after(session: Session, after_id: int, limit: int) -> Sequence[UserAccount]:
    statement = (
        select(UserAccount)
        .where(col(UserAccount.id) > after_id)
        .order_by(col(UserAccount.id))
        .limit(limit)
    )
    return session.exec(statement).all()


def user_by_name(session: Session, username: str) -> UserAccount | None:
    return session.exec(select(UserAccount).where(col(UserAccount.username) == username)).first()


def username_of(session: Session, user_id: int) -> str:
    user = session.get(UserAccount, user_id)
    return user.username if user else "?"


def usernames(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = {i for i in ids if i is not None}
    rows = session.exec(select(UserAccount).where(col(UserAccount.id).in_(wanted))).all()
    return {user.id: user.username for user in rows}


def pending_requests_after(session: Session, after_id: int, limit: int) -> Sequence[AccountRequest]:
    statement = (
        select(AccountRequest)
        .where(col(AccountRequest.status) == "pending", col(AccountRequest.id) > after_id)
        .order_by(col(AccountRequest.id))
        .limit(limit)
    )
    return session.exec(statement).all()


def pending_request(session: Session, request_id: int) -> AccountRequest | None:
    return session.exec(
        select(AccountRequest)
        .where(col(AccountRequest.id) == request_id, col(AccountRequest.status) == "pending")
        .with_for_update()
    ).first()
