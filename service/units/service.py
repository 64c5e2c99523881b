"""Units: opening, renaming and closing offices, and finding the unit that serves a place.

Every change is an event on the `units` stream of the audit log. A ministry's national unit is
made at start-up for every ministry of every published workflow; below it, province units sit
under the national one, district and city units under their province's unit where one exists
(else under the national one), missions abroad under the national one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.unit import RegionRead, UnitCreate, UnitLevel, UnitPage, UnitRead, UnitUpdate
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.db import insert_if_absent
from service.kit.errors import Conflict, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import Unit, utcnow
from service.units import repository as repo
from workflows.regions import load_regions
from workflows.registry import Registry

UNITS_STREAM = "units"


def national_code(ministry: str) -> str:
    return f"{ministry}-NASIONAL"


def ensure_national_units(session: Session, registry: Registry) -> None:
    """Every ministry of every published workflow has its national unit (idempotent; several
    workers may start at once)."""
    for ministry in sorted(registry.ministries()):
        inserted = insert_if_absent(
            session,
            Unit,
            {
                "code": national_code(ministry), "name": f"{ministry} (nasional)",
                "ministry": ministry, "level": UnitLevel.NATIONAL, "path": "",
                "is_active": True, "created_at": utcnow(),
            },
        )  # fmt: skip
        if inserted:
            unit = repo.by_code(session, national_code(ministry))
            assert unit is not None and unit.id is not None
            unit.path = str(unit.id)
    session.flush()


def list_units(
    session: Session, context: AppContext, ministry: str | None, cursor: str | None, limit: int
) -> UnitPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="units", ministry=ministry), cursor,
        limit, context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.units_after(session, paging.after_number(), paging.fetch, ministry)
    page, next_cursor = paging.page(rows, lambda unit: [unit.id or 0])
    return UnitPage(items=present_units(session, page), next_cursor=next_cursor)


def get_unit(session: Session, code: str) -> UnitRead:
    return present_units(session, [_by_code(session, code)])[0]


def create_unit(
    session: Session, context: AppContext, admin: Principal, data: UnitCreate
) -> UnitRead:
    if data.ministry not in context.registry.ministries():
        raise Invalid(f"ministry: {data.ministry!r} is not a ministry code of the workflow")
    _check_place(data)
    if data.level == UnitLevel.NATIONAL:
        raise Conflict(f"ministry: {data.ministry} has its national unit already")
    parent = _parent_for(session, data)
    unit = Unit(
        code=data.code, name=data.name, ministry=data.ministry, level=data.level,
        region_code=data.region_code, country=data.country, parent_id=parent.id,
    )  # fmt: skip
    session.add(unit)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"code: a unit called {data.code!r} exists already") from exc
    unit.path = f"{parent.path}.{unit.id}"
    _record(session, context, admin, "unit_created", unit, parent=parent.code)
    return present_units(session, [unit])[0]


def update_unit(
    session: Session, context: AppContext, admin: Principal, code: str, data: UnitUpdate
) -> UnitRead:
    unit = _by_code(session, code)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude_none=True)
    if changes.get("is_active") is False and unit.is_active:
        assert unit.id is not None
        if unit.level == UnitLevel.NATIONAL:
            raise Conflict("is_active: a ministry's national unit stays open")
        if (count := repo.open_cases(session, unit.id)) > 0:
            raise Conflict(
                f"is_active: {unit.code} still leads or is about to receive {count} open "
                f"case{'s' if count != 1 else ''}; hand them over first"
            )
    for name, value in changes.items():
        setattr(unit, name, value)
    if changes:
        _record(session, context, admin, "unit_updated", unit, changes=sorted(changes))
    return present_units(session, [unit])[0]


def unit_for_user(session: Session, ministry: str | None, unit_code: str | None) -> Unit | None:
    """The unit a case worker or supervisor works in: the one named, or their ministry's
    national unit. The ministry, if given too, must be the unit's."""
    if unit_code is not None:
        unit = repo.by_code(session, unit_code)
        if unit is None or not unit.is_active:
            raise Invalid(f"unit: no open unit has the code {unit_code!r}")
        if ministry is not None and ministry != unit.ministry:
            raise Invalid(f"unit: {unit_code} belongs to {unit.ministry}, not {ministry}")
        return unit
    if ministry is None:
        return None
    return repo.national(session, ministry)


def nearest_unit(
    session: Session, ministry: str, *, region_code: str | None = None,
    country: str | None = None,
) -> Unit:  # fmt: skip
    """The unit of `ministry` closest to a place: the district's or city's own unit, else its
    province's, else the national one; abroad, the mission in that country, else national."""
    found: Unit | None = None
    if country is not None:
        found = repo.at_place(session, ministry, UnitLevel.MISSION, country=country)
    if region_code is not None and "." in region_code:
        found = repo.at_place(session, ministry, UnitLevel.DISTRICT, region_code=region_code)
    if found is None and region_code is not None:
        found = repo.at_place(
            session, ministry, UnitLevel.PROVINCE, region_code=region_code.split(".")[0]
        )
    found = found or repo.national(session, ministry)
    if found is None:
        raise NotFound(f"{ministry} has no unit")
    return found


def task_force(
    session: Session, task_force_ministry: str, level: str, lead: Unit | None
) -> Unit | None:
    """The Task Force an escalation at `level` reaches for a case led by `lead`: the one of the
    lead unit's district, of its province, or the national one. A rung with no open Task Force
    unit there (a mission abroad has neither district nor province; a region may not have set
    one up yet) passes to the next one up, so an escalation always reaches someone."""
    region = lead.region_code if lead is not None else None
    if level == "district" and region is not None and "." in region:
        found = repo.at_place(session, task_force_ministry, UnitLevel.DISTRICT, region_code=region)
        if found is not None:
            return found
    if level in ("district", "province") and region is not None:
        province = region.split(".")[0]
        found = repo.at_place(
            session, task_force_ministry, UnitLevel.PROVINCE, region_code=province
        )
        if found is not None:
            return found
    return repo.national(session, task_force_ministry)


class Lookup:
    """Units read once for a batch of work (the SLA sweep's): by id, and each rung's Task Force
    by ministry, level and the lead's region. A session's identity map holds its objects
    weakly, so a unit looked up again for every case was read again (and every read flushed
    the batch's pending events one case at a time)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_id: dict[int, Unit | None] = {}
        self._task_forces: dict[tuple[str, str, str | None], Unit | None] = {}

    def by_id(self, unit_id: int | None) -> Unit | None:
        if unit_id is None:
            return None
        if unit_id not in self._by_id:
            self._by_id[unit_id] = repo.by_id(self._session, unit_id)
        return self._by_id[unit_id]

    def task_force(self, task_force_ministry: str, level: str, lead: Unit | None) -> Unit | None:
        key = (task_force_ministry, level, lead.region_code if lead is not None else None)
        if key not in self._task_forces:
            self._task_forces[key] = task_force(self._session, task_force_ministry, level, lead)
        return self._task_forces[key]


def regions(province: str | None) -> list[RegionRead]:
    data = load_regions()
    if province is not None and data.get(province) is None:
        raise NotFound(f"province: no province has the code {province!r}")
    found = data.regencies(province) if province else data.provinces()
    return [RegionRead(code=r.code, name=r.name, level=r.level) for r in found]


def within(session: Session, unit: Unit) -> list[Unit]:
    """The unit and the units below it."""
    return list(repo.within(session, unit))


def in_region(session: Session, region_code: str) -> list[Unit]:
    """The units of every ministry placed in a province (with its districts) or a district."""
    return list(repo.in_region(session, region_code))


def open_units(session: Session, ministry: str) -> list[Unit]:
    """A ministry's open units, national first, then by their place in its tree."""
    return list(repo.open_of(session, ministry))


def open_case_count(session: Session, code: str) -> int:
    """Open cases a unit leads or is about to receive (what keeps it from closing)."""
    unit = _by_code(session, code)
    assert unit.id is not None
    return repo.open_cases(session, unit.id)


def find(session: Session, code: str) -> Unit | None:
    return repo.by_code(session, code)


def codes(session: Session, ids: set[int]) -> dict[int, str]:
    return repo.codes_of(session, ids)


def by_id(session: Session, unit_id: int) -> Unit | None:
    return repo.by_id(session, unit_id)


def present_units(session: Session, units: list[Unit]) -> list[UnitRead]:
    parents = repo.codes_of(session, {u.parent_id for u in units if u.parent_id is not None})
    regions = load_regions()
    return [
        UnitRead(
            code=unit.code,
            name=unit.name,
            ministry=unit.ministry,
            level=UnitLevel(unit.level),
            region_code=unit.region_code,
            region_name=(r.name if (r := regions.get(unit.region_code or "")) else None),
            country=unit.country,
            parent=parents.get(unit.parent_id) if unit.parent_id is not None else None,
            is_active=unit.is_active,
            created_at=unit.created_at,
        )
        for unit in units
    ]


def _by_code(session: Session, code: str) -> Unit:
    unit = repo.by_code(session, code)
    if unit is None:
        raise NotFound(f"no unit has the code {code!r}")
    return unit


def _check_place(data: UnitCreate) -> None:
    regions = load_regions()
    if data.level in (UnitLevel.PROVINCE, UnitLevel.DISTRICT):
        wanted = "province" if data.level == UnitLevel.PROVINCE else "regency"
        region = regions.get(data.region_code or "")
        if region is None or region.level != wanted:
            example = "province (e.g. 53)" if wanted == "province" else "regency or city (53.71)"
            raise Invalid(
                f"region_code: {data.level} units need the Kemendagri code of a {example}"
            )
    elif data.region_code is not None:
        raise Invalid(f"region_code: a {data.level} unit has no region")
    if (data.level == UnitLevel.MISSION) != (data.country is not None):
        raise Invalid("country: give the country of a mission abroad, and of nothing else")


def _parent_for(session: Session, data: UnitCreate) -> Unit:
    parent: Unit | None = None
    if data.level == UnitLevel.DISTRICT and data.region_code is not None:
        parent = repo.at_place(
            session, data.ministry, UnitLevel.PROVINCE, region_code=data.region_code[:2]
        )
    parent = parent or repo.national(session, data.ministry)
    if parent is None:
        raise NotFound(f"ministry: {data.ministry} has no national unit")
    return parent


def _record(
    session: Session, context: AppContext, admin: Principal, kind: str, unit: Unit, **extra: Any
) -> None:
    append_stream_event(
        session, UNITS_STREAM, actor=admin, at=context.clock(), kind=kind,
        payload={
            "code": unit.code, "ministry": unit.ministry, "level": unit.level,
            "region_code": unit.region_code, "country": unit.country,
            "is_active": unit.is_active, "name": unit.name, **extra,
        },
    )  # fmt: skip
