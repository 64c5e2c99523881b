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
    unit_id: int | None = None  # case workers and supervisors work in one unit
    unit_path: str | None = None  # that unit's place in its ministry's tree ("1.5.17")
    must_change_password: bool = False  # after an admin's reset: nothing else until they do

    @property
    def works_cases(self) -> bool:
        """A case worker or supervisor of an open unit: without one, nobody works cases."""
        return self.role in MINISTRY_ROLES and self.unit_id is not None

    def serves(self, unit_path: str | None) -> bool:
        """Whether the caller works in that unit or in one above it (same ministry's tree)."""
        return within(unit_path, self.unit_path)


def within(unit_path: str | None, ancestor_path: str | None) -> bool:
    """Whether a unit is the unit `ancestor_path` or one below it."""
    if unit_path is None or ancestor_path is None:
        return False
    return unit_path == ancestor_path or unit_path.startswith(ancestor_path + ".")


SYSTEM = Principal(user_id=None, username="system", role=SYSTEM_ROLE, ministry=None)


@dataclass(frozen=True)
class BrowserLogin:
    """Who is behind a browser's session cookie, in which session, and which language."""

    principal: Principal
    session_id: str
    language: str
    stale: bool  # last seen long enough ago that its `last_seen_at` should be written again
