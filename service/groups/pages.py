"""The group pages: from an arrival, one trigger fired at its cases in one state (the payload
form generated from the trigger's published schema, as for one case), with the per-case
answer; the groups waiting for a decision, and one group decided once, with one reason, by a
supervisor of its ministry who did not ask. The same use cases as the API."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

import workflows
from schemas.arrival import (
    ArrivalCaseRead,
    ArrivalRead,
    GroupDecide,
    GroupDecisionRead,
    GroupTransitionRequest,
)
from service.arrivals import service as arrivals
from service.groups import service as groups
from service.kit.capacity import in_thread
from service.kit.context import AppContext
from service.kit.errors import DomainError, Forbidden, NotFound
from service.kit.principal import Principal
from service.web.errors import page_router
from service.web.forms import (
    SchemaField,
    domain_message,
    read_payload,
    schema_fields,
    translated_errors,
)
from service.web.session import CsrfRefused, Page, page_as
from service.web.templating import Templates
from workflows.payload import compile_schema, validate_payload

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
ReaderPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
SupervisorPage = Annotated[Page, Depends(page_as("supervisor"))]
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
LISTED = 50
State = Annotated[str, Query(max_length=64)]


@dataclass
class GroupAction:
    """A trigger that leaves the chosen state and that the caller's ministry may fire, with the
    inputs of its published payload schema."""

    trigger: str
    dest: str
    sensitive: bool
    fields: list[SchemaField]
    schema: Mapping[str, Any]


@dataclass
class GroupScreen:
    arrival: ArrivalRead
    state: str
    cases: list[ArrivalCaseRead]
    actions: list[GroupAction]


@router.get("/arrivals/{arrival_id}/group")
async def group_form(arrival_id: str, page: WorkerPage, state: State = "") -> Response:
    screen = await page.read(lambda s, c, me: _screen(s, c, me, arrival_id, state))
    return _form(page, screen, {}, {})


@router.post("/arrivals/{arrival_id}/group")
async def fire_group(arrival_id: str, page: WorkerPage) -> Response:
    """One trigger at the chosen cases of the arrival; the answer lists each case's outcome."""
    state, trigger = page.field("state")[:64], page.field("trigger")[:64]
    key = page.field("form_key")[:64] or secrets.token_urlsafe(16)
    chosen = page.fields("case_id")
    await page.ensure()  # the CSRF token first, even for a form refused before its use case
    screen = await page.read(lambda s, c, me: _screen(s, c, me, arrival_id, state))
    action = next((a for a in screen.actions if a.trigger == trigger), None)
    submitted = {"trigger": trigger, "key": key, "chosen": chosen, "values": _submitted(page)}
    if action is None or not chosen:
        reason = "groups.form.no_action" if action is None else "groups.form.no_cases"
        return _form(page, screen, submitted, {"_": page.t(reason)}, 422)
    # the versions the page showed: each case's compare-and-set, and a resubmission's sameness
    versions = {i: v for i in chosen if (v := page.field(f"version.{i}")).isdigit()}
    payload = read_payload(action.fields, page.field, page.fields)
    try:  # the form once, beside its fields, before each case checks it again
        validate_payload(compile_schema(action.schema), payload)
    except workflows.PayloadInvalid as exc:
        return _form(page, screen, submitted, translated_errors(page.t, exc.errors), 422)
    try:
        request = GroupTransitionRequest.model_validate(
            {
                "case_ids": chosen,
                "trigger": trigger,
                "payload": payload,
                "note": page.field("note") or None,
                "expected_versions": versions,
            }
        )
        answer = await in_thread(
            page.context,
            lambda: groups.fire_group(page.writer(), request, page.endpoint, f"web-group-{key}"),
        )
    except ValidationError as exc:
        return _form(page, screen, submitted, translated_errors(page.t, exc.errors()), 422)
    except (NotFound, Forbidden, CsrfRefused):
        raise
    except DomainError as exc:
        return _form(page, screen, submitted, {"_": domain_message(page.t, exc)}, exc.status_code)
    return page.render(
        templates, "group_result.html", arrival=screen.arrival, group=answer,
        references={c.id: c.reference for c in screen.cases},
    )  # fmt: skip


@router.get("/group-approvals")
async def waiting_groups(page: ReaderPage) -> Response:
    waiting = await page.read(lambda s, c, me: groups.waiting_groups(s, c, me, LISTED))
    return page.render(templates, "groups.html", waiting=waiting)


@router.get("/group-approvals/{group_id}")
async def group_page(group_id: str, page: ReaderPage) -> Response:
    group = await page.read(lambda s, c, me: groups.read_group(s, c, me, group_id))
    return page.render(templates, "group.html", group=group, errors={}, decided=None)


@router.post("/group-approvals/{group_id}/approve")
async def approve_group(group_id: str, page: SupervisorPage) -> Response:
    return await _decide(page, group_id, True)


@router.post("/group-approvals/{group_id}/reject")
async def reject_group(group_id: str, page: SupervisorPage) -> Response:
    return await _decide(page, group_id, False)


async def _decide(page: Page, group_id: str, approve: bool) -> Response:
    errors: dict[str, str] = {}
    decided: GroupDecisionRead | None = None
    try:
        decision = GroupDecide(reason=page.field("reason"))
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
    else:
        try:
            decided = await in_thread(
                page.context,
                lambda: groups.decide_group(
                    page.writer(), group_id, approve, decision.reason, page.endpoint
                ),
            )
        except (NotFound, Forbidden, CsrfRefused):
            raise
        except DomainError as exc:
            errors = {"_": domain_message(page.t, exc)}
    group = await page.read(lambda s, c, me: groups.read_group(s, c, me, group_id))
    status = 422 if errors else 200
    return page.render(templates, "group.html", status, group=group, errors=errors, decided=decided)


def _screen(
    session: Session, context: AppContext, me: Principal, arrival_id: str, state: str
) -> GroupScreen:
    arrival = arrivals.read_arrival(session, context, me, arrival_id)
    found = arrivals.cases_in_state(session, context, me, arrival_id, state, groups.MAX_CASES)
    actions: dict[str, GroupAction] = {}
    for workflow, version in dict.fromkeys((w, v) for _, w, v in found):
        definition = context.registry.engine(workflow, version).definition
        for row in definition.exits(state):
            if me.ministry in row.ministries and row.trigger not in actions:
                actions[row.trigger] = GroupAction(
                    trigger=row.trigger, dest=row.dest, sensitive=row.sensitive,
                    fields=schema_fields(row.payload_schema), schema=row.payload_schema,
                )  # fmt: skip
    return GroupScreen(arrival, state, [case for case, _, _ in found], list(actions.values()))


def _form(
    page: Page,
    screen: GroupScreen,
    submitted: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return page.render(
        templates, "group_form.html", status, screen=screen, submitted=submitted, errors=errors,
        new_key=secrets.token_urlsafe(16),
    )  # fmt: skip


def _submitted(page: Page) -> dict[str, list[str]]:
    if page.form is None:
        return {}
    return {
        name: [v for v in page.form.getlist(name) if isinstance(v, str)]
        for name in page.form
        if name.startswith("payload.") or name == "note"
    }
