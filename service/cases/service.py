"""Case use cases: intake, read, history. Each is one unit of work; none commits.

Every answer that shows a victim's identity goes through `present`, which records who looked.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlmodel import Session

from schemas.case import CaseCreate, CaseCreated, CaseRead, EventRead, HistoryRead
from schemas.common import WIB
from schemas.victim import VictimRead
from service.audit import identity_access as identity_log
from service.audit.integrity.chain import GENESIS
from service.audit.log import append_case_event
from service.cases import erasable, routing
from service.cases import repository as repo
from service.cases.aggregate import LoadedCase, UnitsOfCase
from service.cases.duplicates import service as duplicates
from service.cases.idempotency import Answer, idempotent
from service.cases.presenters import (
    REFERRAL_COLUMNS,
    may_see_identity,
    present_case,
    present_event,
)
from service.kit.context import AppContext
from service.kit.errors import Forbidden, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseFile, CaseMinistry, Victim
from service.sla import clock
from service.units import service as units
from workflows import Definition
from workflows.registry import DEFAULT_WORKFLOW

ADULT_AGE = 18
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on a phone
IDENTITY_FIELDS = (
    "full_name", "other_names", "birth_date", "identity_document", "district_of_origin", "contact",
)  # fmt: skip


def register_case(
    session: Session,
    context: AppContext,
    principal: Principal,
    data: CaseCreate,
    *,
    endpoint: str,
    idempotency_key: str | None = None,
    reveal: bool = True,
) -> Answer:
    """Intake: the case starts in the workflow's initial state, pinned to its latest version.

    `reveal=False` (the pages) answers without the identity, so no look is logged."""
    if not principal.works_cases or principal.ministry is None:
        raise Forbidden("only case workers and supervisors of a ministry register referrals")
    engine = context.registry.latest(data.workflow or DEFAULT_WORKFLOW)
    if engine is None:
        raise Invalid(f"workflow: no published workflow is called {data.workflow!r}")
    return idempotent(
        session, context, principal, idempotency_key, "POST /cases",
        data.model_dump(mode="json"),
        lambda: _register(session, context, principal, data, engine.definition, endpoint, reveal),
        lambda stored: checked_replay(session, context, principal, stored, endpoint),
    )  # fmt: skip


def read_case(
    session: Session, context: AppContext, principal: Principal, case_id: str, *, endpoint: str
) -> CaseRead:
    return present(
        session, context, principal, readable(session, context, principal, case_id), endpoint
    )


@dataclass(frozen=True)
class CaseView:
    """A case as its page first shows it: everything but the victim's identity."""

    case: CaseRead
    may_reveal: bool  # the caller's unit may look at the identity (`reveal_identity`)
    approval_pending: bool
    works_step: bool = False  # the caller's unit (or one above it) works the current step
    receives: bool = False  # a hand-over waits for the caller's unit (or one below it)
    sends: bool = False  # the caller's unit (or one above it) leads the step: it names the receiver


def view_case(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> CaseView:
    """Reads only: the identity is one deliberate look away, so each look is one logged row
    rather than every page view (and the page can be a read-only snapshot)."""
    loaded = readable(session, context, principal, case_id)
    read = present(session, context, principal, loaded, endpoint="", reveal=False)
    identity = may_see_identity(principal, loaded.units.identity)
    works = principal.ministry == loaded.case.ministry and principal.serves(
        loaded.units.responsible_path
    )
    open_case = loaded.case.due_at is not None
    waiting = open_case and loaded.case.transfer_to_unit_id is not None
    receives = waiting and principal.works_cases and principal.serves(loaded.units.transfer_path)
    sends = open_case and principal.works_cases and principal.serves(loaded.units.lead_path)
    return CaseView(read, identity, loaded.approval_pending, works, receives, sends)


def reveal_identity(
    session: Session, context: AppContext, principal: Principal, case_id: str, *, endpoint: str
) -> VictimRead:
    """The victim's identity for one who may see it; the look is recorded like the API's."""
    loaded = readable(session, context, principal, case_id)
    if not may_see_identity(principal, loaded.units.identity):
        raise Forbidden("your unit does not see this victim's identity")
    return present(session, context, principal, loaded, endpoint).victim


def read_history(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    cursor: str | None = None,
    limit: int | None = None,
) -> HistoryRead:
    """A page of the case's events, oldest first (`limit` capped at `history_page_max`); free
    text as the caller may read it (cases/erasable.py)."""
    loaded = readable(session, context, principal, case_id)
    case = loaded.case
    cap = context.settings.history_page_max
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="history", case=str(case.id)), cursor,
        limit or cap, cap,
    )  # fmt: skip
    rows = repo.history(session, case.id, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda event: [event.seq or 0])
    shown = erasable.opener(context, principal, case, loaded.victim)
    items = [present_event(e, *shown(e.payload, e.note)) for e in page]
    return HistoryRead(items=items, next_cursor=next_cursor)


def latest_events(
    session: Session, context: AppContext, principal: Principal, case_id: str, count: int
) -> list[EventRead]:
    """The case's `count` latest events, newest first."""
    loaded = readable(session, context, principal, case_id)
    shown = erasable.opener(context, principal, loaded.case, loaded.victim)
    events = repo.latest_events(session, loaded.case.id, count)
    return [present_event(e, *shown(e.payload, e.note)) for e in events]


def visited_states(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> set[str]:
    """Every state the case has been in (its events' destinations)."""
    case = readable(session, context, principal, case_id).case
    return repo.visited_states(session, case.id)


def readable(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> LoadedCase:
    """The case if `principal` may see it; otherwise 404, whether or not it exists."""
    loaded = repo.load_readable(session, principal, context.registry, case_id, context.clock())
    if loaded is None:
        raise NotFound("case not found")
    return loaded


def readable_many(
    session: Session, context: AppContext, principal: Principal, case_ids: list[str]
) -> tuple[dict[str, LoadedCase], list[Any]]:
    """Of `case_ids`, those `principal` may see (by the id as given), in a few queries for a
    batch of a group decision; an id that is missing is to be refused as `readable` would.
    With them, the rows their transitions read by key (units, the case-unit links), held in
    the second list so that the session serves them from its identity map."""
    loaded = repo.load_readable_many(
        session, principal, context.registry, case_ids, context.clock()
    )
    return loaded, repo.rows_of_moves(session, [one.case for one in loaded.values()])


def present(
    session: Session,
    context: AppContext,
    principal: Principal,
    loaded: LoadedCase,
    endpoint: str,
    reveal: bool = True,
) -> CaseRead:
    """The case as `principal` may see it; if that shows the identity, the look is recorded.
    With `reveal` false the identity stays closed (and nothing is recorded)."""
    case = loaded.case
    read = present_case(
        case,
        loaded.victim,
        principal=principal,
        definition=context.registry.engine(case.workflow_name, case.workflow_version).definition,
        units=loaded.units,
        consent_recipients=loaded.consent_recipients,
        assignee=loaded.assignee,
        cipher=context.cipher,
        reveal=reveal,
    )
    if read.victim.identity_visible:
        identity_log.record(session, principal, case.id, endpoint, context.clock())
    return read


def checked_replay(
    session: Session, context: AppContext, principal: Principal, answer: Answer, endpoint: str
) -> Answer:
    """A stored answer as the caller may have it NOW: they still work cases and may still see
    the case (404 otherwise, as for any case they may not see), and its victim's identity only
    if they may see it now (a look, logged like any other); else the pseudonym."""
    if not principal.works_cases:
        raise Forbidden("only case workers and supervisors of a ministry act on cases")
    body = copy.deepcopy(answer.body)
    case: dict[str, Any] = body.get("case", body)
    loaded = readable(session, context, principal, str(case.get("id")))
    if case.get("victim", {}).get("identity_visible"):
        if may_see_identity(principal, loaded.units.identity):
            identity_log.record(
                session, principal, loaded.case.id, f"{endpoint} (replay)", context.clock()
            )
        else:
            now = present(session, context, principal, loaded, endpoint, reveal=False)
            case["victim"] = now.victim.model_dump(mode="json")
    return replace(answer, body=body)


def _register(
    session: Session,
    context: AppContext,
    principal: Principal,
    data: CaseCreate,
    definition: Definition,
    endpoint: str,
    reveal: bool,
) -> Answer:
    assert principal.ministry is not None and principal.user_id is not None
    now = context.clock()
    today = now.astimezone(WIB).date()
    initial = definition.state(definition.initial)
    referrer = units.by_id(session, principal.unit_id) if principal.unit_id else None
    assert referrer is not None and referrer.id is not None  # works_cases: in an open unit
    lead = routing.unit_for_intake(session, referrer, initial)
    assert lead.id is not None
    age = _age(data.victim.birth_date, data.victim.age_estimate, today)
    case = CaseFile(
        reference=_new_reference(),
        workflow_name=definition.name,
        workflow_version=definition.version,
        state=initial.name,
        phase=initial.phase,
        ministry=initial.ministry,
        head_hash=GENESIS,
        state_entered_at=now,
        is_child=(age is not None and age < ADULT_AGE) or data.victim.presumed_child,
        sex=data.victim.sex,
        age_at_intake=age,
        nationality=data.victim.nationality,
        province_of_origin=data.victim.province_of_origin,
        referring_ministry=principal.ministry,
        unit_id=lead.id,
        referring_unit_id=referrer.id,
        referral_channel=data.referral.channel,
        referral_date=data.referral.referral_date or today,
        country_of_exploitation=data.referral.country_of_exploitation,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    clock.enter_step(context, case, initial, now)
    victim = _victim(context, case, data)
    session.add(case)
    session.flush()  # the case row exists before anything that refers to it
    session.add(victim)
    handled = {principal.ministry, initial.ministry}
    session.add_all(CaseMinistry(case_id=case.id, ministry=m, since=now) for m in sorted(handled))
    identity = routing.record_intake(session, case, referrer, lead)
    append_case_event(
        session, case, actor=principal, at=now, kind="created", to_state=initial.name,
        payload={
            "reference": case.reference,
            "workflow": definition.name,
            "workflow_version": definition.version,
            "referral_channel": case.referral_channel,
            "is_child": case.is_child,
            "unit": lead.code,
            "referring_unit": referrer.code,
        },
    )  # fmt: skip
    warnings = duplicates.on_intake(session, context, principal, case, victim, data.victim)
    session.flush()
    where = UnitsOfCase(lead_code=lead.code, lead_path=lead.path, identity=identity)
    loaded = LoadedCase(case, victim, handled, set(), None, approval_pending=False, units=where)
    read = present(session, context, principal, loaded, endpoint, reveal)
    created = CaseCreated(**dict(read), warnings=warnings)
    return Answer(status_code=201, body=created.model_dump(mode="json"))


def _victim(context: AppContext, case: CaseFile, data: CaseCreate) -> Victim:
    victim = data.victim.model_dump(mode="json")
    referral = data.referral.model_dump(mode="json")
    return Victim(
        case_id=case.id,
        identity_ciphertext=context.cipher.encrypt(
            {k: victim[k] for k in IDENTITY_FIELDS}, case.id.bytes
        ),
        profile={k: victim[k] for k in ("languages", "has_disability", "presumed_child")},
        trafficking={k: v for k, v in referral.items() if k not in REFERRAL_COLUMNS},
    )


def _age(birth_date: date | None, estimate: int | None, today: date) -> int | None:
    if birth_date is None:
        return estimate
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def _new_reference() -> str:
    return "NRM-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
