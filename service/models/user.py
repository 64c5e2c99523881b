from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from schemas.auth import Role
from service.models.base import UTCDateTime, utcnow

ROLES = tuple(role.value for role in Role)
LANGUAGES = ("id", "en")  # Bahasa Indonesia by default


class UserAccount(SQLModel, table=True):
    """A person who acts: one role, and one ministry for case workers and supervisors."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint(
            "(role IN ('case_worker', 'supervisor')) = (ministry IS NOT NULL)", name="ministry"
        ),
        CheckConstraint(f"language IN {LANGUAGES!r}", name="language"),
        CheckConstraint("(ministry IS NOT NULL) = (unit_id IS NOT NULL)", name="unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    ministry: str | None = Field(default=None, max_length=20)
    # The office a case worker or supervisor works in; their ministry is the unit's.
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    is_active: bool = Field(default=True)
    # set by an admin's reset: until the user chooses a password, they may do nothing else
    must_change_password: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    language: str = Field(default="id", max_length=2, sa_column_kwargs={"server_default": "id"})
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
