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
from service.models import CaseFile
from service.units.repository import national as national_unit
from service.users.service import seed_account
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
    user = seed_account(
        session, f"bulk.{secrets.token_hex(4)}", password_hash(), "case_worker", "KEMENPPPA"
    )
    assert user.user_id is not None
    return user.user_id


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
    nationals: dict[str, int] = {}

    def national_id(ministry: str) -> int:
        if ministry not in nationals:
            unit = national_unit(session, ministry)
            assert unit is not None and unit.id is not None
            nationals[ministry] = unit.id
        return nationals[ministry]

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
        values[-1].setdefault("unit_id", national_id(values[-1]["ministry"]))
        values[-1].setdefault("referring_unit_id", national_id(values[-1]["referring_ministry"]))
    session.execute(insert(CaseFile), values)
    return [v["id"] for v in values]
