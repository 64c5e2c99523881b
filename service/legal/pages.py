"""The legal track in the browser, read-only: the criminal cases a caller may see, one criminal
case with its victims (by case reference) and its number of suspects, and a victim's legal
track. The same use cases and visibility as the API; no suspect's or victim's identity is shown
here (the API's suspects list shows suspects' identities, each look logged)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query
from starlette.responses import Response

from service.legal import service as legal
from service.legal import track
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
LegalPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
PAGE_SIZE = 25


@router.get("/criminal-cases")
async def criminal_cases_page(
    page: LegalPage, cursor: Annotated[str | None, Query(max_length=512)] = None
) -> Response:
    """The criminal cases the caller may see, newest police report first."""
    found = await page.read(
        lambda s, c, me: legal.list_criminal_cases(s, c, me, None, cursor, PAGE_SIZE)
    )
    more = (
        f"/criminal-cases?{urlencode({'cursor': found.next_cursor})}" if found.next_cursor else None
    )
    return page.render(templates, "criminal_cases.html", rows=found, more=more)


@router.get("/criminal-cases/{criminal_case_id}")
async def criminal_case_page(criminal_case_id: str, page: LegalPage) -> Response:
    """One criminal case: its stage, its victims' cases and its number of suspects."""
    record = await page.read(lambda s, c, me: legal.read_criminal_case(s, c, me, criminal_case_id))
    return page.render(templates, "criminal_case.html", record=record)


@router.get("/cases/{case_id}/legal")
async def legal_track_page(case_id: str, page: LegalPage) -> Response:
    """A victim's legal track: witness, court decision and restitution, LPSK and its deadline."""
    read = await page.read(lambda s, c, me: track.read_legal_track(s, c, me, case_id))
    return page.render(templates, "legal_track.html", track=read)
