"""A case's service requests as a page: each service, its owner, and its start clock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlmodel import Session
from starlette.responses import Response

from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.service_requests import service as services
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AnyPage = Annotated[Page, Depends(page_as())]


@router.get("/cases/{case_id}/services")
async def services_page(case_id: str, page: AnyPage) -> Response:
    def load(session: Session, context: AppContext, me: Principal) -> tuple[Any, Any]:
        view = cases.view_case(session, context, me, case_id)
        return view.case, services.list_services(session, context, me, case_id).items

    case, items = await page.read(load)
    return page.render(templates, "services.html", case=case, services=items)
