"""The review list of possible duplicate victims: a supervisor who sees both cases opens each
(the identity one deliberate, logged look away), then links them or dismisses the match."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query
from starlette.responses import Response

from schemas.duplicate import DuplicateMatchPage, MatchStatus
from service.cases.duplicates import service as duplicates
from service.kit.errors import MatchDecided
from service.web.errors import page_router
from service.web.forms import domain_message
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
ReviewerPage = Annotated[Page, Depends(page_as("supervisor"))]
PAGE_SIZE = 25
STATUSES: tuple[MatchStatus, ...] = ("open", "linked", "dismissed")


@router.get("/duplicates")
async def review_list(
    page: ReviewerPage,
    status: Annotated[str, Query(max_length=12)] = "open",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    chosen: MatchStatus = next((s for s in STATUSES if s == status), "open")
    return await _list(page, chosen, cursor)


@router.post("/duplicates/{match_id}/link")
async def link(match_id: int, page: ReviewerPage) -> Response:
    return await _decide(page, match_id, "link")


@router.post("/duplicates/{match_id}/dismiss")
async def dismiss(match_id: int, page: ReviewerPage) -> Response:
    return await _decide(page, match_id, "dismiss")


async def _decide(page: Page, match_id: int, verb: str) -> Response:
    decide = duplicates.link if verb == "link" else duplicates.dismiss
    try:
        await page(lambda s, c, me: decide(s, c, me, match_id, page.endpoint).id)
    except MatchDecided as exc:
        return await _list(page, "open", None, domain_message(page.t, exc), 409)
    return page.redirect(f"/duplicates?done={verb}")


async def _list(
    page: Page,
    status: MatchStatus,
    cursor: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    listing: DuplicateMatchPage = await page.read(
        lambda s, c, me: duplicates.review_list(s, c, me, status, cursor, PAGE_SIZE)
    )
    done = page.request.query_params.get("done")
    values: dict[str, Any] = {
        "listing": listing, "status": status, "statuses": STATUSES, "error": error,
        "done": done if done in ("link", "dismiss") else None,
    }  # fmt: skip
    return page.render(templates, "duplicates.html", status_code, **values)
