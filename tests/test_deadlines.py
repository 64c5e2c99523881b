"""Deadlines that follow the law: Indonesian business days, and a step's SLA checkpoints (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from workflows import (
    Calendar,
    Deadline,
    DefinitionError,
    SlaLevel,
    checkpoints,
    load_calendar,
    load_directory,
    parse,
)
from workflows.calendar import WIB
from workflows.loader import DEFINITIONS_DIR


def _wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def test_business_days_skip_a_weekend() -> None:
    calendar = Calendar(frozenset())
    friday_afternoon = _wib(2026, 7, 10, 15, 30)
    due = calendar.due_at(friday_afternoon, Deadline(1, "business_days"))
    assert due == _wib(2026, 7, 14)  # the end of Monday 13 July, WIB
    due = calendar.due_at(friday_afternoon, Deadline(3, "business_days"))
    assert due == _wib(2026, 7, 16)  # Mon, Tue, Wed


def test_business_days_skip_a_weekend_and_the_national_holidays_of_the_data_file() -> None:
    calendar = load_calendar()
    # Tue 26 May 2026; Wed 27 is Iduladha, Sun 31 Waisak, Mon 1 June Hari Lahir Pancasila.
    entered = _wib(2026, 5, 26, 10, 0)
    due = calendar.due_at(entered, Deadline(3, "business_days"))
    assert due == _wib(2026, 6, 3)  # Thu 28, Fri 29, Tue 2 June: due at the end of 2 June
    assert due.tzinfo is UTC and due == datetime(2026, 6, 2, 17, 0, tzinfo=UTC)
    assert not calendar.is_business_day(date(2026, 5, 27))
    assert not calendar.is_business_day(date(2026, 6, 1))
    assert calendar.is_business_day(date(2026, 6, 2))


def test_the_day_is_the_day_in_jakarta_not_in_utc() -> None:
    calendar = Calendar(frozenset())
    # 23:30 UTC on Friday is already Saturday morning in Jakarta: the count starts from Saturday.
    late_friday_utc = datetime(2026, 7, 10, 23, 30, tzinfo=UTC)
    assert calendar.due_at(late_friday_utc, Deadline(1, "business_days")) == _wib(2026, 7, 14)
    early_friday_utc = datetime(2026, 7, 10, 1, 0, tzinfo=UTC)
    assert calendar.due_at(early_friday_utc, Deadline(1, "business_days")) == _wib(2026, 7, 14)


def test_an_operator_file_adds_holidays(tmp_path: Path) -> None:
    extra = tmp_path / "cuti-bersama.yaml"
    extra.write_text("holidays:\n  2026-07-13: Cuti bersama (example)\n", encoding="utf-8")
    calendar = load_calendar([extra])
    friday = _wib(2026, 7, 10, 9, 0)
    assert calendar.due_at(friday, Deadline(1, "business_days")) == _wib(2026, 7, 15)
    assert load_calendar().due_at(friday, Deadline(1, "business_days")) == _wib(2026, 7, 14)


def test_calendar_deadlines_count_every_hour() -> None:
    calendar = load_calendar()
    start = datetime(2026, 5, 30, 8, 0, tzinfo=UTC)  # a Saturday before a holiday Monday
    assert calendar.due_at(start, Deadline(72, "hours")) == start + timedelta(hours=72)
    assert calendar.due_at(start, Deadline(7, "days")) == start + timedelta(days=7)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.due_at(datetime(2026, 5, 30, 8, 0), Deadline(1, "days"))


def test_checkpoints_warn_at_three_quarters_breach_at_due_and_escalate_after_the_period() -> None:
    [definition] = [d for d in load_directory() if d.name == "nrm-indonesia" and d.version == 1]
    state = definition.state("identified")  # 72 hours; escalation after the default 2 days
    entered = datetime(2026, 7, 6, 0, 0, tzinfo=UTC)
    points = checkpoints(definition, state, entered, entered + timedelta(hours=72), load_calendar())
    assert points.warn == entered + timedelta(hours=54)
    assert points.due == entered + timedelta(hours=72)
    assert points.escalations == (entered + timedelta(hours=72 + 48),)  # v1: national only
    assert points.next_after(SlaLevel.ON_TRACK) == points.warn
    assert points.next_after(SlaLevel.WARNED) == points.due
    assert points.next_after(SlaLevel.BREACHED) == points.escalations[0]
    assert points.next_after(SlaLevel.ESCALATED) is None


def test_version_2_climbs_the_task_force_ladder_district_province_nation() -> None:
    [definition] = [d for d in load_directory() if d.name == "nrm-indonesia" and d.version == 2]
    assert [rung.level for rung in definition.ladder] == ["district", "province", "national"]
    state = definition.state("identified")
    entered = _wib(2026, 7, 6, 0, 0)  # a Monday
    due = entered + timedelta(hours=72)  # Thursday 00:00
    points = checkpoints(definition, state, entered, due, load_calendar())
    district, province, nation = points.escalations
    assert district == due + timedelta(days=2)  # Saturday: the state's escalate_after
    assert province == _wib(2026, 7, 15)  # then 2 business days: to the end of Tue 14
    assert nation == _wib(2026, 7, 21)  # then 3 more after Wed 15's start: Thu, Fri, Mon 20
    assert points.to_record(SlaLevel.BREACHED, nation) == [3, 4, 5]
    assert points.to_record(3, province) == [4]
    assert points.next_after(5) is None


@pytest.mark.parametrize(
    ("ladder", "message"),
    [
        ([{"level": "province"}, {"level": "district", "after": {"days": 1}}], "climbs"),
        ([{"level": "district"}, {"level": "province"}], "needs `after`"),
        ([{"level": "district", "after": {"days": 1}}, {"level": "national"}], "no `after`"),
        ([{"level": "district"}], "ends with the national"),
        ([{"level": "village"}], "level must be one of"),
    ],
)
def test_a_ladder_that_does_not_climb_to_the_nation_is_refused(
    ladder: list[dict[str, object]], message: str
) -> None:
    document = yaml.safe_load((DEFINITIONS_DIR / "nrm-indonesia-v1.yaml").read_text())
    document["escalation"]["ladder"] = ladder
    with pytest.raises(DefinitionError, match=message):
        parse(document)


def test_levels_to_record_rise_once_and_a_warning_overtaken_by_the_breach_is_skipped() -> None:
    [definition] = [d for d in load_directory() if d.name == "nrm-indonesia" and d.version == 1]
    entered = datetime(2026, 7, 6, 0, 0, tzinfo=UTC)
    points = checkpoints(definition, definition.state("identified"), entered,
                         entered + timedelta(hours=72), load_calendar())  # fmt: skip

    def at(hours: float, level: SlaLevel = SlaLevel.ON_TRACK) -> list[int]:
        return points.to_record(level, entered + timedelta(hours=hours))

    assert at(53) == []
    assert at(54) == [SlaLevel.WARNED]
    assert at(60, SlaLevel.WARNED) == []
    assert at(72, SlaLevel.WARNED) == [SlaLevel.BREACHED]
    assert at(73) == [SlaLevel.BREACHED]  # a sweep that comes late does not warn after the fact
    assert at(500) == [SlaLevel.BREACHED, SlaLevel.ESCALATED]  # v1's ladder: one rung
    assert at(500, SlaLevel.BREACHED) == [SlaLevel.ESCALATED]
    assert at(500, SlaLevel.ESCALATED) == []


def test_an_escalation_period_in_business_days_follows_the_calendar() -> None:
    [definition] = [d for d in load_directory() if d.name == "nrm-indonesia" and d.version == 1]
    state = definition.state("referred")
    business = replace(state, escalate_after=Deadline(1, "business_days"))
    entered = _wib(2026, 5, 25, 9, 0)  # Monday; Wednesday 27 is a holiday
    due = load_calendar().due_at(entered, Deadline(3, "business_days"))
    assert due == _wib(2026, 5, 30)  # the end of Friday 29 May
    points = checkpoints(definition, business, entered, due, load_calendar())
    # One business day more: not Saturday, Sunday (Waisak) or Monday 1 June (Pancasila).
    assert points.escalations == (_wib(2026, 6, 3),)
