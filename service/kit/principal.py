from __future__ import annotations

from dataclasses import dataclass

from schemas.auth import MINISTRY_ROLES, Role

SYSTEM_ROLE = "system"  # the service itself (the SLA sweep, the CLI): never a user's role


@dataclass(frozen=True)
class Principal:
    """Who acts: the authenticated user as every use case and the log see them."""

    user_id: int | None
    username: str
    role: Role | str  # a Role, or SYSTEM_ROLE
    ministry: str | None

    @property
    def works_cases(self) -> bool:
        return self.role in MINISTRY_ROLES


SYSTEM = Principal(user_id=None, username="system", role=SYSTEM_ROLE, ministry=None)


@dataclass(frozen=True)
class BrowserLogin:
    """Who is behind a browser's session cookie, in which session, and which language."""

    principal: Principal
    session_id: str
    language: str
    stale: bool  # last seen long enough ago that its `last_seen_at` should be written again
