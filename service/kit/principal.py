from __future__ import annotations

from dataclasses import dataclass

MINISTRY_ROLES = frozenset({"case_worker", "supervisor"})


@dataclass(frozen=True)
class Principal:
    """Who acts: the authenticated user as every use case and the log see them."""

    user_id: int | None
    username: str
    role: str
    ministry: str | None

    @property
    def works_cases(self) -> bool:
        return self.role in MINISTRY_ROLES


SYSTEM = Principal(user_id=None, username="system", role="system", ministry=None)
