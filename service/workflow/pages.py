"""Where a case stands in its workflow, drawn by the server: the phases, the case's state, the
states it passed and those it may go to next.

Not the Mermaid diagram of the API: mermaid.js weighs ~3 MB, needs script, and reads poorly on
a 360 px phone or to a screen reader; this page is a few KB of lists, marked in words too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlmodel import Session
from starlette.responses import Response

from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates
from service.workflow import service as workflows

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AnyPage = Annotated[Page, Depends(page_as())]


@router.get("/cases/{case_id}/diagram")
async def diagram_page(case_id: str, page: AnyPage) -> Response:
    def load(session: Session, context: AppContext, me: Principal) -> tuple[Any, Any]:
        view = cases.view_case(session, context, me, case_id)
        return view, workflows.case_map(session, context, me, case_id)

    view, where = await page.read(load)
    return page.render(templates, "diagram.html", case=view.case, where=where)
