"""A case in the browser: register a referral, read a case, act on it, its history and its
place in the workflow. Every page goes through the case use cases, so through `readable`: a
case the caller may not see is the same not-found page whether or not it exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.approval import ApprovalRead
from schemas.case import CaseCreate, EventRead, TransitionRequest
from schemas.unit import TransferDecision, TransferRequest
from schemas.victim import VictimRead
from service.cases import firing, four_eyes, transfers
from service.cases import service as cases
from service.cases.intake_form import INTAKE_CHOICES, countries, read_intake
from service.kit.context import AppContext
from service.kit.errors import DomainError, NotFound, PayloadInvalid, VersionConflict
from service.kit.principal import Principal
from service.units import service as units
from service.web.errors import page_router
from service.web.forms import (
    SchemaField,
    domain_message,
    read_payload,
    schema_fields,
    translated_errors,
)
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AnyPage = Annotated[Page, Depends(page_as())]
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
RECENT_EVENTS = 5
HISTORY_PAGE = 100  # events per page of the history page
OVERRIDE_GUARD = "consent_covers_recipient"


@dataclass(frozen=True)
class ActionForm:
    """A transition the caller's ministry may fire now, as a form from its payload schema."""

    trigger: str
    source: str
    dest: str
    sensitive: bool
    fields: list[SchemaField]
    may_override_consent: bool
    units: list[tuple[str, str]]  # where the next step may go (to_unit), if it leaves the state


@dataclass(frozen=True)
class CaseScreen:
    view: cases.CaseView
    approval: ApprovalRead | None
    actions: list[ActionForm]
    recent: list[EventRead]
    reroute_units: list[tuple[str, str]]  # the step ministry's open units, for the sender
    reroute_due: bool  # the sender holds a step of another ministry: it must name a unit


# --- register a referral ------------------------------------------------------------------
@router.get("/cases/new")
async def new_case(page: WorkerPage) -> Response:
    await page.ensure()
    return _intake_page(page, {}, {}, secrets.token_urlsafe(16))


@router.post("/cases")
async def register_case(page: WorkerPage) -> Response:
    """One case even if the button is pressed twice: the form's key is an idempotency key."""
    key = page.field("form_key")[:64] or secrets.token_urlsafe(16)
    body = read_intake(page.field, page.fields)
    try:
        data = CaseCreate.model_validate(body)
        answer = await page(
            lambda session, context, me: cases.register_case(
                session, context, me, data, endpoint=page.endpoint,
                idempotency_key=f"web-intake-{key}", reveal=False,
            )
        )  # fmt: skip
    except ValidationError as exc:
        await page.ensure()
        return _intake_page(page, body, translated_errors(page.t, exc.errors()), key, 422)
    except DomainError as exc:
        if exc.status_code != 422:
            raise
        return _intake_page(page, body, {"_": domain_message(page.t, exc)}, key, 422)
    return page.redirect(f"/cases/{answer.body['id']}?registered=1")


def _intake_page(
    page: Page, draft: dict[str, Any], errors: dict[str, str], key: str, status_code: int = 200
) -> Response:
    return page.render(
        templates, "new.html", status_code,
        draft=_flat(draft), errors=errors, form_key=key, choices=INTAKE_CHOICES,
        countries=countries(page.language),
    )  # fmt: skip


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"victim": {"sex": "female"}} as {"victim.sex": "female"}: the form's own names."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# --- one case -----------------------------------------------------------------------------
@router.get("/cases/{case_id}")
async def case_page(case_id: str, page: AnyPage) -> Response:
    screen = await page.read(lambda session, context, me: _screen(session, context, me, case_id))
    query = page.request.query_params
    notice = None
    if query.get("registered"):
        notice = page.t("case.registered")
    elif query.get("done"):
        notice = page.t("case.done", action=page.t.trigger(query["done"]))
    elif query.get("pending"):
        notice = page.t("case.pending", action=page.t.trigger(query["pending"]))
    elif query.get("notice") in _NOTICES:
        notice = page.t(f"case.notice.{query['notice']}")
    return _case_response(page, screen, notice=notice)


@router.post("/cases/{case_id}/identity")
async def reveal_identity(case_id: str, page: WorkerPage) -> Response:
    """Show the victim's identity: a deliberate look, logged like the API's."""
    screen, victim = await page(
        lambda session, context, me: (
            _screen(session, context, me, case_id),
            cases.reveal_identity(session, context, me, case_id, endpoint=page.endpoint),
        )
    )
    return _case_response(page, screen, identity=victim, block="identity")


@router.post("/cases/{case_id}/transitions")
async def fire_transition(case_id: str, page: WorkerPage) -> Response:
    trigger, source = page.field("trigger")[:64], page.field("source")[:64]
    key = page.field("form_key")[:64] or secrets.token_urlsafe(16)
    fields = _fields_of(
        page.context, page.field("workflow"), page.field("version"), trigger, source
    )
    payload = _read_payload(page, fields)
    submitted = {"trigger": trigger, "key": key, "values": _submitted(page)}
    try:
        request = TransitionRequest.model_validate(
            {
                "trigger": trigger,
                "expected_version": page.field("expected_version") or "0",
                "payload": payload,
                "note": page.field("note") or None,
                "to_unit": page.field("to_unit") or None,
                "consent_override_reason": page.field("consent_override_reason") or None,
            }
        )
        answer = await page(
            lambda session, context, me: firing.fire_transition(
                session, context, me, case_id, request, endpoint=page.endpoint,
                idempotency_key=f"web-fire-{key}", reveal=False,
            )
        )  # fmt: skip
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
        return await _case_again(page, case_id, submitted, errors, 422)
    except VersionConflict:
        screen = await page.read(lambda s, c, me: _screen(s, c, me, case_id))
        message = page.t(
            "case.conflict",
            state=page.t.state(screen.view.case.state),
            version=screen.view.case.version,
        )
        return _case_response(page, screen, alert=message, status_code=409)
    except PayloadInvalid as exc:
        details = exc.detail if isinstance(exc.detail, list) else []
        errors = translated_errors(page.t, details) or {"_": domain_message(page.t, exc)}
        return await _case_again(page, case_id, submitted, errors, 422)
    except NotFound:
        raise
    except DomainError as exc:
        errors = {_field_of(exc, "to_unit"): domain_message(page.t, exc)}
        return await _case_again(page, case_id, submitted, errors, exc.status_code)
    if answer.status_code == 202:
        return page.redirect(f"/cases/{case_id}?pending={trigger}")
    return page.redirect(f"/cases/{case_id}?done={trigger}")


# --- hand-overs between units ---------------------------------------------------------------
@router.post("/cases/{case_id}/transfer/accept")
async def accept_transfer(case_id: str, page: WorkerPage) -> Response:
    """The receiving unit takes the case: it leads from now on."""
    try:
        await page(
            lambda session, context, me: (
                transfers.accept_transfer(session, context, me, case_id, page.endpoint).id
            )
        )
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        return await _case_again(page, case_id, {}, {"_": domain_message(page.t, exc)}, 409)
    return page.redirect(f"/cases/{case_id}?notice=accepted")


@router.post("/cases/{case_id}/transfer/decline")
async def decline_transfer(case_id: str, page: WorkerPage) -> Response:
    """The receiving unit refuses, with a reason: the case stays with the sender."""
    draft = {"reason": page.field("reason")}
    try:
        data = TransferDecision.model_validate(draft)
        await page(
            lambda session, context, me: (
                transfers.decline_transfer(
                    session, context, me, case_id, data.reason, page.endpoint
                ).id
            )
        )
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
        return await _case_again(page, case_id, {"transfer": draft}, errors, 422)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        return await _case_again(page, case_id, {}, {"_": domain_message(page.t, exc)}, 409)
    return page.redirect(f"/cases/{case_id}?notice=declined")


@router.post("/cases/{case_id}/transfer")
async def reroute_transfer(case_id: str, page: WorkerPage) -> Response:
    """The sender names the unit the step goes to (after a refusal, or instead of waiting)."""
    draft = {"to_unit": page.field("to_unit")}
    try:
        data = TransferRequest.model_validate(draft)
        await page(
            lambda session, context, me: (
                transfers.reroute_transfer(
                    session, context, me, case_id, data.to_unit, page.endpoint
                ).id
            )
        )
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
        return await _case_again(page, case_id, {"transfer": draft}, errors, 422)
    except DomainError as exc:
        if exc.status_code not in (409, 422):
            raise
        errors = {_field_of(exc, "to_unit"): domain_message(page.t, exc)}
        return await _case_again(page, case_id, {"transfer": draft}, errors, exc.status_code)
    return page.redirect(f"/cases/{case_id}?notice=rerouted")


def _field_of(exc: DomainError, name: str) -> str:
    """The form field a refusal names ("to_unit: ..."), else the whole form ("_")."""
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return name if detail.startswith(f"{name}:") else "_"


@router.get("/cases/{case_id}/history")
async def history_page(case_id: str, page: AnyPage, cursor: str | None = None) -> Response:
    def load(session: Session, context: AppContext, me: Principal) -> tuple[Any, Any]:
        view = cases.view_case(session, context, me, case_id)
        return view, cases.read_history(session, context, me, case_id, cursor, HISTORY_PAGE)

    view, history = await page.read(load)
    return page.render(
        templates, "history.html", case=view.case, events=history.items,
        next_cursor=history.next_cursor,
    )  # fmt: skip


# --- the screen ---------------------------------------------------------------------------
_NOTICES = ("claimed", "released", "assigned", "cancelled", "accepted", "declined", "rerouted")


def _screen(session: Session, context: AppContext, me: Principal, case_id: str) -> CaseScreen:
    view = cases.view_case(session, context, me, case_id)
    approval = four_eyes.pending_request(session, context, me, case_id)
    recent = cases.latest_events(session, context, me, case_id, RECENT_EVENTS)
    definition = context.registry.engine(view.case.workflow, view.case.workflow_version).definition
    open_units: dict[str, list[tuple[str, str]]] = {}

    def units_of(ministry: str) -> list[tuple[str, str]]:
        if ministry not in open_units:
            found = units.open_units(session, ministry)
            open_units[ministry] = [(u.code, f"{u.code} — {u.name}") for u in found]
        return open_units[ministry]

    actions = []
    for action in view.case.actions:
        row = definition.transition(action.trigger, view.case.state)
        if row is None:
            continue
        dest = definition.state(row.dest)
        leaves = row.dest != row.source and not dest.terminal
        actions.append(
            ActionForm(
                trigger=row.trigger,
                source=row.source,
                dest=row.dest,
                sensitive=row.sensitive,
                fields=schema_fields(row.payload_schema),
                may_override_consent=me.role == "supervisor" and OVERRIDE_GUARD in row.guards,
                units=units_of(dest.ministry) if leaves else [],
            )
        )
    case = view.case
    reroute = units_of(case.ministry) if view.sends else []
    due = view.sends and case.unit not in {code for code, _name in reroute}
    if case.transfer_to is None:  # sending the step to the unit that has it changes nothing
        reroute = [(code, name) for code, name in reroute if code != case.unit]
    return CaseScreen(view, approval, actions, recent, reroute, due)


async def _case_again(
    page: Page, case_id: str, submitted: dict[str, Any], errors: dict[str, str], status: int
) -> Response:
    """The case as it is now, with the action that failed open, its values and its errors."""
    screen = await page.read(lambda s, c, me: _screen(s, c, me, case_id))
    return _case_response(page, screen, submitted=submitted, errors=errors, status_code=status)


def _case_response(
    page: Page,
    screen: CaseScreen,
    *,
    notice: str | None = None,
    alert: str | None = None,
    identity: VictimRead | None = None,
    submitted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    return page.render(
        templates, "case.html", status_code, block=block,
        screen=screen, case=screen.view.case, notice=notice, alert=alert, identity=identity,
        submitted=submitted or {}, errors=errors or {}, new_key=secrets.token_urlsafe(16),
    )  # fmt: skip


def _fields_of(
    context: AppContext, workflow: str, version: str, trigger: str, source: str
) -> list[SchemaField]:
    engine = context.registry.engines.get((workflow, int(version) if version.isdigit() else 0))
    row = engine.definition.transition(trigger, source) if engine else None
    return schema_fields(row.payload_schema) if row else []


def _read_payload(page: Page, fields: list[SchemaField]) -> dict[str, Any]:
    return read_payload(fields, page.field, page.fields)


def _submitted(page: Page) -> dict[str, list[str]]:
    if page.form is None:
        return {}
    return {
        name: [v for v in page.form.getlist(name) if isinstance(v, str)]
        for name in page.form
        if name.startswith("payload.") or name in ("note", "consent_override_reason", "to_unit")
    }
