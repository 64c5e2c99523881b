from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

ACCOUNT_REQUEST_KINDS = ("create", "update", "reset_password")
ACCOUNT_REQUEST_STATUSES = ("pending", "approved", "rejected")


class AccountRequest(SQLModel, table=True):
    """An account change that needs a second admin (four eyes): creating or elevating an
    account that may see identity, approve or administer, or changing another admin's account.
    Until a different admin approves, nothing of it is applied."""

    __tablename__ = "account_request"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_REQUEST_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {ACCOUNT_REQUEST_STATUSES!r}", name="status"),
        Index("ix_account_request_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")  # null: create
    username: str = Field(max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    password_hash: str | None = Field(default=None, max_length=200)  # create, reset_password
    status: str = Field(default="pending", max_length=12)
    requested_by_id: int = Field(foreign_key="user_account.id")
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
