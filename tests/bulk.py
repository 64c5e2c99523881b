"""Cases inserted in bulk (for lists and sweeps at size), and a clock that tests can move."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from service.audit.integrity.chain import GENESIS
from service.kit.context import AppContext
from service.models import CaseFile, UserAccount
from tests.factories import password_hash


@dataclass
class Clock:
    """`context.clock` for tests: starts at a fixed instant and only moves when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def bulk_user(session: Session) -> int:
    user = UserAccount(
        username=f"bulk.{secrets.token_hex(4)}",
        password_hash=password_hash(),
        role="case_worker",
        ministry="KEMENPPPA",
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    return user.id


def insert_cases(
    context: AppContext, session: Session, rows: Iterable[dict[str, Any]]
) -> list[uuid.UUID]:
    """Insert open cases in one statement; each row overrides the defaults below.

    The rows have no history: they are for list and index tests, not for the audit trail.
    """
    engine = context.registry.latest("nrm-indonesia")
    assert engine is not None
    definition = engine.definition
    creator = bulk_user(session)
    entered = datetime.now(UTC) - timedelta(days=1)
    values: list[dict[str, Any]] = []
    for row in rows:
        state = definition.state(row.get("state", "sheltered"))
        case_id = uuid.uuid4()
        values.append(
            {
                "id": case_id,
                "reference": f"NRM-T{case_id.hex[:10].upper()}",
                "workflow_name": definition.name,
                "workflow_version": definition.version,
                "state": state.name,
                "phase": state.phase,
                "ministry": state.ministry,
                "version": 1,
                "event_count": 0,
                "head_hash": GENESIS,
                "due_at": entered + timedelta(days=7),
                "state_entered_at": entered,
                "is_child": False,
                "sex": "female",
                "age_at_intake": 25,
                "nationality": "ID",
                "province_of_origin": "Nusa Tenggara Timur",
                "referring_ministry": "KEMLU",
                "referral_channel": "embassy",
                "referral_date": date(2026, 1, 10),
                "objects_to_country_notification": False,
                "legal": {},
                "created_by_id": creator,
                "created_at": entered,
                "updated_at": entered,
                "sla_level": 0,
                "sla_next_at": None,
                **row,
            }
        )
    session.execute(insert(CaseFile), values)
    return [v["id"] for v in values]
