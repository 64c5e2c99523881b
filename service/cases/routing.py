"""Which unit a step belongs to, and hand-overs between units that the receiver accepts.

The rules that pick the lead unit (design choices, each falling back to the ministry's
national unit when no closer unit exists):
- the caller names it (`to_unit`): any open unit of the ministry that leads the next step;
- the next step stays with the same ministry: the same unit, unless the hand-over names a
  place on the way home (the district leg names the district);
- abroad (KEMLU's steps before departure): the mission in the country of exploitation;
- on the way home and after (repatriation by Kemensos or the regions, reintegration): the
  victim's home, i.e. the district or city the hand-over names within the province of origin,
  else the province of origin;
- anything else (shelter, care, screening): the unit of that ministry nearest to the unit that
  hands over (its district, else its province).

A step that moves to another unit is a hand-over: the case waits in the receiving unit's
incoming list, the sender keeps responsibility until the receiver accepts (it then leads and
the step's deadline starts again from the acceptance) or declines with a reason (the sender then
names another unit). While it waits, the case's clock is the hand-over's (sla/clock.py: due
within one business day, warned, breached and escalated up the Task Force ladder like a step).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.cases.aggregate import LoadedCase
from service.kit.context import AppContext
from service.kit.errors import Invalid
from service.models import CaseFile, CaseMinistry, CaseUnit, Unit
from service.sla import clock
from service.units import service as units
from workflows import StateSpec
from workflows.regions import load_regions

HOMEWARD_PHASES = frozenset({"repatriation", "reintegration", "closure"})
ABROAD_MINISTRY = "KEMLU"
PLACE_KEYS = ("province", "district")  # a hand-over's payload that names where it goes


def unit_for_intake(session: Session, referrer: Unit, initial: StateSpec) -> Unit:
    """A referral goes to the referrer's own unit if its ministry screens, else to the nearest
    screening unit."""
    if referrer.ministry == initial.ministry:
        return referrer
    return units.nearest_unit(session, initial.ministry, region_code=referrer.region_code)


def unit_for_step(
    session: Session,
    case: CaseFile,
    current: Unit,
    dest: StateSpec,
    payload: dict[str, Any],
    requested: str | None,
) -> Unit:
    if requested is not None:
        return requested_unit(session, requested, dest.ministry)
    homeward = dest.phase in HOMEWARD_PHASES
    names_a_place = any(key in payload for key in PLACE_KEYS)
    if dest.ministry == current.ministry and not (homeward and names_a_place):
        return current
    if dest.ministry == ABROAD_MINISTRY and case.country_of_exploitation and not homeward:
        return units.nearest_unit(session, dest.ministry, country=case.country_of_exploitation)
    if homeward and dest.ministry != ABROAD_MINISTRY and case.province_of_origin:
        return units.nearest_unit(session, dest.ministry, region_code=_home(case, payload))
    return units.nearest_unit(session, dest.ministry, region_code=current.region_code)


def unit_for_service(
    session: Session, case: CaseFile, lead: Unit, ministry: str, requested: str | None
) -> Unit:
    """The unit that owns a service request: the one named (`to_unit`, of that ministry), else
    the lead unit when its own ministry provides the service, else as a step would go: a
    mission in the country of exploitation for KEMLU, otherwise the ministry's unit nearest
    the case's lead unit."""
    if requested is not None:
        return requested_unit(session, requested, ministry)
    if ministry == lead.ministry:
        return lead
    if ministry == ABROAD_MINISTRY and case.country_of_exploitation:
        return units.nearest_unit(session, ministry, country=case.country_of_exploitation)
    return units.nearest_unit(session, ministry, region_code=lead.region_code)


def join_service_owner(session: Session, loaded: LoadedCase, owner: Unit, now: datetime) -> None:
    """The owner of a service request works with the case: its ministry may read it
    (`case_ministry`, as a ministry that led a step) and its unit sees the identity it
    serves (`case_unit`)."""
    case = loaded.case
    assert owner.id is not None
    if owner.ministry not in loaded.handled:
        session.add(CaseMinistry(case_id=case.id, ministry=owner.ministry, since=now))
        loaded.handled.add(owner.ministry)
    _join(session, case, owner.id, now, referred=False)
    loaded.units.identity.add(owner.id)


def hand_over(
    session: Session, context: AppContext, loaded: LoadedCase, to: Unit, now: datetime
) -> None:
    """After the transition moved the case: if its step now belongs to another unit, it waits
    for that unit to accept (the sender keeps it meanwhile; the hand-over is due within
    one business day, on its own clock)."""
    case = loaded.case
    if to.id == case.unit_id:  # the step stays with its unit (the transition started its clock)
        case.transfer_to_unit_id = case.transfer_at = case.transfer_due_at = None
        loaded.units.transfer_code = loaded.units.transfer_path = None
        return
    assert to.id is not None
    case.transfer_to_unit_id = to.id
    clock.enter_transfer(context, case, now)
    _join(session, case, to.id, now, referred=False)  # it must know whom it is to receive
    loaded.units.transfer_code, loaded.units.transfer_path = to.code, to.path
    loaded.units.identity.add(to.id)


def take_over(
    session: Session, context: AppContext, loaded: LoadedCase, now: datetime
) -> dict[str, str]:
    """The receiving unit takes the step: it leads, the sender leaves (keeping sight of the
    identity for a while), the step's deadline starts again. Returns what the event records;
    the caller writes the event (an acceptance, or the transition that accepted by acting)."""
    case = loaded.case
    sender, receiver = case.unit_id, case.transfer_to_unit_id
    assert receiver is not None
    handed = {"from_unit": loaded.units.lead_code, "to_unit": loaded.units.transfer_code or ""}
    _leave(session, case.id, sender, now)
    _join(session, case, receiver, now, referred=False)
    case.unit_id = receiver
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    clock.end_transfer(context, case, definition.state(case.state), now)
    loaded.units.lead_code = loaded.units.transfer_code or ""
    loaded.units.lead_path = loaded.units.transfer_path or ""
    loaded.units.transfer_code = loaded.units.transfer_path = None
    return handed


def record_intake(session: Session, case: CaseFile, referrer: Unit, lead: Unit) -> set[int]:
    """The referring and the first lead unit of a new case; both see its identity."""
    assert referrer.id is not None and lead.id is not None
    session.add(
        CaseUnit(case_id=case.id, unit_id=referrer.id, referred=True, since=case.created_at)
    )
    if lead.id != referrer.id:
        session.add(CaseUnit(case_id=case.id, unit_id=lead.id, since=case.created_at))
    return {referrer.id, lead.id}


def withdraw(
    session: Session, context: AppContext, loaded: LoadedCase, now: datetime
) -> dict[str, str]:
    """The hand-over no longer waits (declined, or the sender chose another unit): the unit it
    waited for stops seeing the identity it was shown to decide, and the step's clock starts
    again for the sender (a new hand-over, if one follows, starts its own)."""
    case = loaded.case
    receiver = case.transfer_to_unit_id
    assert receiver is not None
    row = session.get(CaseUnit, (case.id, receiver))
    if row is not None and not row.referred and receiver != case.unit_id:
        row.withdrawn_at = now  # kept: the unit's figures count the refusal
        loaded.units.identity.discard(receiver)
    withdrawn = {"from_unit": loaded.units.lead_code, "to_unit": loaded.units.transfer_code or ""}
    loaded.units.transfer_code = loaded.units.transfer_path = None
    definition = context.registry.engine(case.workflow_name, case.workflow_version).definition
    clock.end_transfer(context, case, definition.state(case.state), now)
    return withdrawn


def _join(session: Session, case: CaseFile, unit_id: int, now: datetime, referred: bool) -> None:
    row = session.get(CaseUnit, (case.id, unit_id))
    if row is None:
        session.add(CaseUnit(case_id=case.id, unit_id=unit_id, referred=referred, since=now))
    else:
        row.left_at = row.withdrawn_at = None


def _leave(session: Session, case_id: Any, unit_id: int, now: datetime) -> None:
    row = session.get(CaseUnit, (case_id, unit_id))
    if row is not None and not row.referred:
        row.left_at = now


def _home(case: CaseFile, payload: dict[str, Any]) -> str | None:
    regions = load_regions()
    province = regions.province_named(case.province_of_origin or "")
    if province is None:
        return None
    district = payload.get("district")
    if isinstance(district, str) and (regency := regions.regency_named(province.code, district)):
        return regency.code
    return province.code


def requested_unit(session: Session, code: str, ministry: str) -> Unit:
    unit = units.find(session, code)
    if unit is None or not unit.is_active:
        raise Invalid(f"to_unit: no open unit has the code {code!r}")
    if unit.ministry != ministry:
        raise Invalid(f"to_unit: {code} belongs to {unit.ministry}; the next step is {ministry}'s")
    return unit
