"""Tokens and user accounts (never any password material on the way out)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from schemas.common import StrictModel


class Role(StrEnum):
    """What a user may do: work cases or supervise them (of one ministry), audit, administer."""

    CASE_WORKER = "case_worker"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


MINISTRY_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR})
MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = frozenset(
    {
        "password1234", "123456789012", "qwertyuiopas", "passwordpassword", "iloveyou1234",
        "indonesia123", "indonesia2024", "indonesia2025", "indonesia2026", "jakarta12345",
        "admin1234567", "administrator", "welcome12345", "bismillah123", "changeme1234",
    }
)  # fmt: skip


def check_password(password: str, username: str) -> str:
    """A minimal policy (NIST SP 800-63B spirit): long enough, not guessable from context."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 5:
        raise ValueError("password: use at least 5 different characters")
    if password.casefold() in COMMON_PASSWORDS or username.casefold() in password.casefold():
        raise ValueError("password: too easy to guess (common, or contains the username)")
    return password


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="exchange at /api/v1/auth/refresh; single use")
    refresh_expires_in: int


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=20, max_length=200)


class UserCreate(StrictModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    role: Role
    ministry: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(
        default=None,
        max_length=40,
        description="the unit's code; default: the ministry's national unit",
    )
    password: str = Field(max_length=256)

    @model_validator(mode="after")
    def _password_policy(self) -> UserCreate:
        check_password(self.password, self.username)
        return self


class UserUpdate(StrictModel):
    """What an admin may change; the password is never set through here."""

    role: Role | None = None
    ministry: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=40, description="move to this unit")
    is_active: bool | None = None

    @field_validator("role", "is_active", mode="before")
    @classmethod
    def _given_or_left_out(cls, value: Any) -> Any:
        """null would mean "no role" or "neither active nor not": leave the field out instead."""
        if value is None:
            raise ValueError("give a value, or leave the field out to keep it")
        return value


class UserRead(BaseModel):
    id: int
    username: str
    role: Role
    ministry: str | None
    unit: str | None = Field(description="the code of the unit the user works in")
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead] = Field(description="oldest first")
    next_cursor: str | None
