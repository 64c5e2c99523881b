"""Units and regions: the offices that do the work, and the region codes they are placed by."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from schemas.common import ErrorRead
from schemas.unit import REGION_CODE, RegionRead, UnitCreate, UnitPage, UnitRead, UnitUpdate
from service.auth.dependencies import Run, RunDep, run_as
from service.units import service as units

router = APIRouter(prefix="/api/v1", tags=["units"])
RunAsAdmin = Annotated[Run, Depends(run_as("admin"))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.get("/units", responses=_ERRORS)
async def list_units(
    run: RunDep,
    ministry: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> UnitPage:
    """The units, oldest first, of one ministry if given."""
    return await run.read(
        lambda session, context, _p: units.list_units(session, context, ministry, cursor, limit)
    )


@router.post("/units", status_code=201, responses=_ERRORS)
async def create_unit(body: UnitCreate, run: RunAsAdmin) -> UnitRead:
    """Open a unit of a ministry at a level, placed by its region code or country."""
    return await run(
        lambda session, context, admin: units.create_unit(session, context, admin, body)
    )


@router.get("/units/{code}", responses=_ERRORS)
async def read_unit(code: str, run: RunDep) -> UnitRead:
    """One unit."""
    return await run.read(lambda session, _context, _p: units.get_unit(session, code))


@router.patch("/units/{code}", responses=_ERRORS)
async def update_unit(code: str, body: UnitUpdate, run: RunAsAdmin) -> UnitRead:
    """Rename a unit, or close it (refused while it has open cases, with their count)."""
    return await run(
        lambda session, context, admin: units.update_unit(session, context, admin, code, body)
    )


@router.get("/regions", responses=_ERRORS)
async def list_regions(
    run: RunDep,
    province: Annotated[str | None, Query(pattern=REGION_CODE)] = None,
) -> list[RegionRead]:
    """The 38 provinces, or the regencies and cities of one province, with their codes."""
    return await run.read(lambda _session, _context, _p: units.regions(province))
