"""Tokens and user accounts (never any password material on the way out)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.common import StrictModel

Role = Literal["case_worker", "supervisor", "auditor", "admin"]


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class UserCreate(StrictModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    role: Role
    ministry: str | None = Field(default=None, max_length=20)
    password: str = Field(min_length=12, max_length=256)


class UserRead(BaseModel):
    id: int
    username: str
    role: Role
    ministry: str | None
    is_active: bool
    created_at: datetime
