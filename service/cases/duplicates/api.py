from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from schemas.common import ErrorRead
from schemas.duplicate import DuplicateMatchPage, DuplicateMatchRead, LinkedCasesRead, MatchStatus
from service.auth.dependencies import RunDep
from service.cases.duplicates import service as duplicates

router = APIRouter(prefix="/api/v1", tags=["duplicates"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (404, 409)}
MatchId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the match's id")]


@router.get("/duplicates")
async def list_duplicates(
    run: RunDep,
    status: Annotated[
        MatchStatus | None, Query(description="open (default), linked, dismissed")
    ] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int | None, Query(ge=1, description="capped by the server")] = None,
    case_id: Annotated[
        uuid.UUID | None, Query(description="only the matches of this case (either side)")
    ] = None,
) -> DuplicateMatchPage:
    """Possible duplicate victims whose two cases the calling supervisor may both see."""
    return await run.read(
        lambda session, context, principal: duplicates.review_list(
            session, context, principal, status, cursor, limit, case_id
        )
    )


@router.post("/duplicates/{match_id}/link", responses=_ERRORS)
async def link_duplicate(match_id: MatchId, run: RunDep) -> DuplicateMatchRead:
    """Same person: link the two cases (one victim, two referrals); an event on both."""
    return await run(
        lambda session, context, principal: duplicates.link(
            session, context, principal, match_id, run.endpoint
        )
    )


@router.post("/duplicates/{match_id}/dismiss", responses=_ERRORS)
async def dismiss_duplicate(match_id: MatchId, run: RunDep) -> DuplicateMatchRead:
    """Two different people: dismiss the match; an event on both cases."""
    return await run(
        lambda session, context, principal: duplicates.dismiss(
            session, context, principal, match_id, run.endpoint
        )
    )


@router.get("/cases/{case_id}/linked", responses={404: {"model": ErrorRead}})
async def list_linked_cases(case_id: str, run: RunDep) -> LinkedCasesRead:
    """The case's other referrals of the same person that the caller may see."""
    return await run.read(
        lambda session, context, principal: duplicates.linked_cases(
            session, context, principal, case_id
        )
    )
