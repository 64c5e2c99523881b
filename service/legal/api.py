"""Criminal cases (perkara), their suspects and victims, counts; each victim's legal track."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import ErrorRead
from schemas.legal import (
    CountsQuery,
    CountsRead,
    CriminalCaseCreate,
    CriminalCasePage,
    CriminalCaseQuery,
    CriminalCaseRead,
    LegalRecordRequest,
    LegalTrackRead,
    LpskLatePage,
    StageChange,
    SuspectCreate,
    SuspectPage,
    SuspectRead,
    VictimLink,
)
from schemas.queue import PageQuery
from service.auth.dependencies import RunDep
from service.legal import service as legal
from service.legal import track

router = APIRouter(prefix="/api/v1", tags=["legal"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.post("/criminal-cases", status_code=201, responses=_ERRORS)
async def open_criminal_case(body: CriminalCaseCreate, run: RunDep) -> CriminalCaseRead:
    """POLRI opens a criminal case (perkara) from its police report."""
    return await run(lambda s, c, p: legal.create_criminal_case(s, c, p, body))


@router.get("/criminal-cases", responses=_ERRORS)
async def list_criminal_cases(
    query: Annotated[CriminalCaseQuery, Query()], run: RunDep
) -> CriminalCasePage:
    """The criminal cases the caller may see, newest police report first; keyset-paged."""
    return await run.read(
        lambda s, c, p: legal.list_criminal_cases(s, c, p, query.stage, query.cursor, query.limit)
    )


@router.get("/criminal-cases/counts", responses=_ERRORS)
async def count_criminal_cases(query: Annotated[CountsQuery, Query()], run: RunDep) -> CountsRead:
    """Criminal cases reported in a period, their victims and suspects, by region and in total."""
    return await run.read(
        lambda s, c, p: legal.count_criminal_cases(
            s, c, p, query.reported_from, query.reported_to, query.by
        )
    )


@router.get("/criminal-cases/{criminal_case_id}", responses=_ERRORS)
async def read_criminal_case(criminal_case_id: str, run: RunDep) -> CriminalCaseRead:
    """A criminal case with its victims' cases (pseudonymous) and its number of suspects."""
    return await run.read(lambda s, c, p: legal.read_criminal_case(s, c, p, criminal_case_id))


@router.post("/criminal-cases/{criminal_case_id}/stage", responses=_ERRORS)
async def change_criminal_case_stage(
    criminal_case_id: str, body: StageChange, run: RunDep
) -> CriminalCaseRead:
    """Record the stage a criminal case reached (compare-and-set on its `version`)."""
    return await run(lambda s, c, p: legal.change_stage(s, c, p, criminal_case_id, body))


@router.post("/criminal-cases/{criminal_case_id}/suspects", status_code=201, responses=_ERRORS)
async def add_suspect(criminal_case_id: str, body: SuspectCreate, run: RunDep) -> SuspectRead:
    """Record a suspect; the identity is sealed at once and not shown back."""
    return await run(lambda s, c, p: legal.add_suspect(s, c, p, criminal_case_id, body))


@router.get("/criminal-cases/{criminal_case_id}/suspects", responses=_ERRORS)
async def list_suspects(
    criminal_case_id: str, query: Annotated[PageQuery, Query()], run: RunDep
) -> SuspectPage:
    """The suspects; their identities for POLRI and KEJAKSAAN, each look logged."""
    return await run(
        lambda s, c, p: legal.list_suspects(
            s, c, p, criminal_case_id, query.cursor, query.limit, endpoint=run.endpoint
        )
    )


@router.post("/criminal-cases/{criminal_case_id}/victims", responses=_ERRORS)
async def link_victim(criminal_case_id: str, body: VictimLink, run: RunDep) -> CriminalCaseRead:
    """POLRI links a victim's case to the criminal case; the victim's legal track begins."""
    return await run(lambda s, c, p: legal.link_victim(s, c, p, criminal_case_id, body))


@router.get("/cases/{case_id}/legal", responses=_ERRORS)
async def read_legal_track(case_id: str, run: RunDep) -> LegalTrackRead:
    """A victim's legal track: witness, court decision and restitution, LPSK and its deadline."""
    return await run.read(lambda s, c, p: track.read_legal_track(s, c, p, case_id))


@router.post("/cases/{case_id}/legal", responses=_ERRORS)
async def record_legal_fact(case_id: str, body: LegalRecordRequest, run: RunDep) -> LegalTrackRead:
    """Record one fact of a victim's legal track, as an event on the case's audit stream."""
    return await run(lambda s, c, p: track.record_legal(s, c, p, case_id, body))


@router.get("/legal/lpsk-late", responses=_ERRORS)
async def list_late_lpsk_decisions(
    query: Annotated[PageQuery, Query()], run: RunDep
) -> LpskLatePage:
    """LPSK protection decisions made, or still due, after their deadline (UU 13/2006 Art. 29)."""
    return await run.read(lambda s, c, p: track.lpsk_late(s, c, p, query.cursor, query.limit))
