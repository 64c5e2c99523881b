from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a keyed request, stored in the same transaction as its effect."""

    __tablename__ = "idempotency_record"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
