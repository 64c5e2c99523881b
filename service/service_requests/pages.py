"""A case's service requests as a page: each service, its owner, and its start clock; the
forms that ask for a service (the lead or the provider) and move one on (start, complete,
decline: the provider; withdraw: the lead or the provider). The use cases decide who may."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.service_request import ServiceAction, ServiceRequestChange, ServiceRequestCreate
from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.errors import Invalid, NotFound
from service.kit.principal import Principal
from service.service_requests import service as services
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AnyPage = Annotated[Page, Depends(page_as())]
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
ACTIONS: tuple[ServiceAction, ...] = ("start", "complete", "decline", "withdraw")


@router.get("/cases/{case_id}/services")
async def services_page(case_id: str, page: AnyPage) -> Response:
    def load(session: Session, context: AppContext, me: Principal) -> tuple[Any, Any, Any]:
        view = cases.view_case(session, context, me, case_id)
        definition = context.registry.engine(view.case.workflow, view.case.workflow_version)
        offered = [(kind, spec.label) for kind, spec in definition.definition.services.items()]
        return view.case, services.list_services(session, context, me, case_id).items, offered

    case, items, offered = await page.read(load)
    return page.render(
        templates, "services.html", case=case, services=items, offered=offered,
        me=page.principal, notice=page.request.query_params.get("notice"),
    )  # fmt: skip


@router.post("/cases/{case_id}/services")
async def request_service(case_id: str, page: WorkerPage) -> Response:
    try:
        data = ServiceRequestCreate(
            kind=page.field("kind"),  # checked by the model
            emergency=page.field("emergency") == "on",
            lawful_basis=page.field("lawful_basis") or None,
            note=page.field("note") or None,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "kind"
        raise Invalid(f"{field}: choose a service (and a lawful basis the list offers)") from exc
    await page(
        lambda session, context, me: services.request_service(session, context, me, case_id, data)
    )
    return page.redirect(f"/cases/{case_id}/services?notice=requested")


@router.post("/cases/{case_id}/services/{request_id}/{action}")
async def change_service(case_id: str, request_id: str, action: str, page: WorkerPage) -> Response:
    if action not in ACTIONS:
        raise NotFound("no such action")
    verb: ServiceAction = action  # one of ACTIONS
    try:
        data = ServiceRequestChange(
            expected_version=int(page.field("expected_version") or 0),
            note=page.field("note") or None,
        )
    except (ValidationError, ValueError) as exc:
        raise Invalid("expected_version: reload the page and try again") from exc
    await page(
        lambda session, context, me: services.change_service(
            session, context, me, case_id, request_id, verb, data
        )
    )
    return page.redirect(f"/cases/{case_id}/services?notice={verb}")
