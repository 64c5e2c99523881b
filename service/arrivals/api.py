from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile

from schemas.arrival import ArrivalCasePage, ArrivalCreate, ArrivalPage, ArrivalRead, ManifestReport
from schemas.common import ErrorRead
from service.arrivals import intake
from service.arrivals import service as arrivals
from service.auth.dependencies import RunDep
from service.kit.capacity import in_thread

router = APIRouter(prefix="/api/v1/arrivals", tags=["arrivals"])
MANIFEST_PATH = r"(/api/v1)?/arrivals/[^/]+/manifest"  # its own body limit (kit/middleware.py)
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404)}
Cursor = Annotated[str | None, Query(description="the previous page's next_cursor")]
Limit = Annotated[int | None, Query(ge=1, description="capped by the server")]


@router.post("", status_code=201, responses=_ERRORS)
async def create_arrival(body: ArrivalCreate, run: RunDep) -> ArrivalRead:
    """Record a mass arrival (date, place, source country, operation); its manifest comes next."""
    return await run(
        lambda session, context, principal: arrivals.create_arrival(
            session, context, principal, body
        )
    )


@router.get("", responses=_ERRORS)
async def list_arrivals(run: RunDep, cursor: Cursor = None, limit: Limit = None) -> ArrivalPage:
    """Arrivals, newest first; keyset-paged."""
    return await run.read(
        lambda session, context, principal: arrivals.list_arrivals(
            session, context, principal, cursor, limit
        )
    )


@router.get("/{arrival_id}", responses=_ERRORS)
async def read_arrival(arrival_id: str, run: RunDep) -> ArrivalRead:
    """An arrival and how many of its manifest rows became cases."""
    return await run.read(
        lambda session, context, principal: arrivals.read_arrival(
            session, context, principal, arrival_id
        )
    )


@router.get("/{arrival_id}/cases", responses=_ERRORS)
async def list_arrival_cases(
    arrival_id: str, run: RunDep, cursor: Cursor = None, limit: Limit = None
) -> ArrivalCasePage:
    """The arrival's cases that the caller may see (no identity); keyset-paged."""
    return await run.read(
        lambda session, context, principal: arrivals.arrival_cases(
            session, context, principal, arrival_id, cursor, limit
        )
    )


@router.post(
    "/{arrival_id}/manifest",
    responses={**_ERRORS, 413: {"model": ErrorRead}, 422: {"model": ErrorRead}},
)
async def import_manifest(
    arrival_id: str,
    run: RunDep,
    file: Annotated[UploadFile, File(description="the manifest: CSV (UTF-8) or XLSX, ≤ 10 MiB")],
) -> ManifestReport:
    """Import a manifest: each valid row becomes a case (once, however often it is uploaded);
    the answer reports every refused row by row and column."""
    limit = run.context.settings.max_manifest_bytes
    return await in_thread(
        run.context,
        lambda: intake.import_manifest(
            run.now, arrival_id, file.file, file.size or 0, max_bytes=limit,
            endpoint=run.endpoint,
        ),
    )  # fmt: skip
