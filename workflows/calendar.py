"""Deadlines that follow the law: calendar time, or Indonesian business days.

Business days are counted in Western Indonesian Time (WIB, Asia/Jakarta): Monday to Friday,
less the national holidays of the data file(s). A step due in N business days is due at the end
of the N-th business day after the day it was entered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from workflows.errors import DefinitionError
from workflows.model import Deadline

WIB = ZoneInfo("Asia/Jakarta")
HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays-id.yaml"
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date]

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, start: datetime, days: int) -> datetime:
        day = start.astimezone(WIB).date()
        counted = 0
        while counted < days:
            day += _ONE_DAY
            counted += self.is_business_day(day)
        return datetime.combine(day + _ONE_DAY, time(0), WIB).astimezone(UTC)

    def due_at(self, start: datetime, deadline: Deadline) -> datetime:
        if start.tzinfo is None:
            raise ValueError("deadlines are computed from timezone-aware instants")
        if deadline.unit == "business_days":
            return self.add_business_days(start, deadline.amount)
        return (start + timedelta(**{deadline.unit: deadline.amount})).astimezone(UTC)


def load_calendar(extra_files: Iterable[Path] = ()) -> Calendar:
    """The national holidays shipped with the code, plus any operator file (e.g. cuti bersama)."""
    holidays: set[date] = set()
    for path in (HOLIDAYS_FILE, *extra_files):
        holidays |= _read_holidays(path)
    return Calendar(frozenset(holidays))


def _read_holidays(path: Path) -> set[date]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"holiday file {path}: {exc}") from exc
    entries = data.get("holidays", {})
    if not isinstance(entries, dict):
        raise DefinitionError(f"holiday file {path}: 'holidays' must map dates to names")
    days: set[date] = set()
    for key in entries:
        day = key if isinstance(key, date) else None
        if day is None:
            try:
                day = date.fromisoformat(str(key))
            except ValueError as exc:
                raise DefinitionError(f"holiday file {path}: {key!r} is not a date") from exc
        days.add(day)
    return days
