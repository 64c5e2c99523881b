"""Everything a request needs that lives as long as the process: built once, at start-up."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from service.kit.config import Settings
from service.kit.db import Database
from service.kit.encryption import IdentityCipher
from service.models.base import utcnow
from workflows import Calendar
from workflows.registry import Registry


@dataclass
class AppContext:
    settings: Settings
    database: Database
    registry: Registry
    calendar: Calendar
    cipher: IdentityCipher
    clock: Callable[[], datetime] = field(default=utcnow)
    # What other features keep that derives from a victim's identity and must go when a case is
    # erased (cases/erasure.py calls each in the erasure's transaction); the composition root
    # fills it, so that `cases` imports no other feature.
    on_erase: tuple[Callable[[Session, uuid.UUID], None], ...] = ()
