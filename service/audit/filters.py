"""What an auditor searches by: the filters of the event search and of the identity-access log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class EventFilter:
    case_id: uuid.UUID | None = None
    actor: str | None = None
    ministry: str | None = None
    trigger: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def scope(self) -> dict[str, str | None]:
        """The filters as text, for binding a page cursor to them."""
        return {k: None if v is None else str(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class IdentityAccessFilter:
    case_id: uuid.UUID | None = None
    username: str | None = None
    ministry: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def scope(self) -> dict[str, str | None]:
        return {k: None if v is None else str(v) for k, v in vars(self).items()}
