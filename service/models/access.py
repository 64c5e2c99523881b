from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from service.models.base import BigIntegerPK, UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """A login: access tokens name it, so logout and deactivation end them at once.

    The refresh token is stored only as a SHA-256 hash and rotates on every use (the hashes it
    rotated away from are kept in `refresh_token_retired`). A browser
    session (`kind` "browser") has no refresh token but the hash of its cookie's token, and
    `last_seen_at` for its idle timeout.
    """

    __tablename__ = "auth_session"
    __table_args__ = (CheckConstraint("kind IN ('api', 'browser')", name="kind"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(default="api", max_length=10, sa_column_kwargs={"server_default": "api"})
    refresh_hash: str | None = Field(default=None, max_length=64, unique=True)
    browser_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    refreshed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class RetiredRefreshToken(SQLModel, table=True):
    """Every refresh token a session rotated away from (its SHA-256): whichever of them comes
    back, however far back, was stolen or replayed, and ends the session."""

    __tablename__ = "refresh_token_retired"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(
        sa_column=Column(
            String(32),
            ForeignKey("auth_session.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    retired_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LoginFailure(SQLModel, table=True):
    """Failed logins, counted per username and per client address to slow guessing down."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    username: str = Field(max_length=64)
    client: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IdentityAccess(SQLModel, table=True):
    """Every time a victim's identity was shown: who, when, which case, through which endpoint.

    Append-only: the database refuses to update or delete these rows.
    """

    __tablename__ = "identity_access"
    __table_args__ = (Index("ix_identity_access_case_id_at", "case_id", "at"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    case_id: uuid.UUID = Field(sa_column=Column(ForeignKey("case_file.id"), nullable=False))
    user_id: int = Field(foreign_key="user_account.id", index=True)
    username: str = Field(max_length=64)
    ministry: str | None = Field(default=None, max_length=20)
    role: str = Field(max_length=20)
    endpoint: str = Field(max_length=120)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
