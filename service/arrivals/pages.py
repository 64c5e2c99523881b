"""The arrivals pages: the list (and recording one), an arrival with its cases and the manifest
upload, and the upload's per-row report. The same use cases as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from schemas.arrival import ArrivalCreate, ManifestReport
from service.arrivals import intake
from service.arrivals import service as arrivals
from service.arrivals.manifest import COLUMNS
from service.kit.capacity import in_thread
from service.kit.errors import DomainError, Forbidden, NotFound
from service.web.errors import page_router
from service.web.forms import domain_message, translated_errors
from service.web.session import CsrfRefused, Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
ReaderPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
PAGE_SIZE = 50
Cursor = Annotated[str | None, Query(max_length=512)]


@router.get("/arrivals")
async def arrivals_page(page: ReaderPage, cursor: Cursor = None) -> Response:
    return await _list(page, cursor)


@router.post("/arrivals")
async def record_arrival(page: WorkerPage) -> Response:
    values = {name: page.field(name) for name in ("arrival_date", "place", "source_country",
                                                   "operation_name")}  # fmt: skip
    try:
        data = ArrivalCreate.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        await page.ensure()
        return await _list(page, None, values, translated_errors(page.t, exc.errors()), 422)
    made = await page(lambda s, c, me: arrivals.create_arrival(s, c, me, data))
    return page.redirect(f"/arrivals/{made.id}")


@router.get("/arrivals/{arrival_id}")
async def arrival_page(arrival_id: str, page: ReaderPage, cursor: Cursor = None) -> Response:
    return await _arrival(page, arrival_id, cursor)


@router.post("/arrivals/{arrival_id}/manifest")
async def upload_manifest(arrival_id: str, page: WorkerPage) -> Response:
    try:
        return await _upload(arrival_id, page)
    finally:
        if page.form is not None:
            await page.form.close()  # the upload's spooled file, whatever the answer


async def _upload(arrival_id: str, page: Page) -> Response:
    upload = page.form.get("file") if page.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        await page.ensure()
        return await _arrival(page, arrival_id, None, page.t("arrivals.no_file"), 422)
    limit = page.context.settings.max_manifest_bytes
    try:
        report: ManifestReport = await in_thread(
            page.context,
            lambda: intake.import_manifest(
                page.writer(), arrival_id, upload.file, upload.size or 0, max_bytes=limit,
                endpoint=page.endpoint,
            ),
        )  # fmt: skip
    except (NotFound, Forbidden, CsrfRefused):
        raise
    except DomainError as exc:
        await page.ensure()
        message = page.t.maybe(f"arrivals.refused.{exc.code}", domain_message(page.t, exc))
        return await _arrival(page, arrival_id, None, f"{message} ({exc.detail})", 422)
    arrival = await page.read(lambda s, c, me: arrivals.read_arrival(s, c, me, arrival_id))
    return page.render(templates, "report.html", arrival=arrival, report=report)


async def _list(
    page: Page,
    cursor: str | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    listing = await page.read(lambda s, c, me: arrivals.list_arrivals(s, c, me, cursor, PAGE_SIZE))
    return page.render(
        templates, "arrivals.html", status_code, listing=listing, values=values or {},
        errors=errors or {},
    )  # fmt: skip


async def _arrival(
    page: Page, arrival_id: str, cursor: str | None, error: str | None = None, status: int = 200
) -> Response:
    def all_of(s: Any, c: Any, me: Any) -> tuple[Any, Any, Any]:
        return (
            arrivals.read_arrival(s, c, me, arrival_id),
            arrivals.arrival_cases(s, c, me, arrival_id, cursor, PAGE_SIZE),
            arrivals.states_of_cases(s, c, me, arrival_id),
        )

    arrival, cases, states = await page.read(all_of)
    return page.render(
        templates, "arrival.html", status, arrival=arrival, cases=cases, error=error, states=states,
        columns=COLUMNS, limit_mib=page.context.settings.max_manifest_bytes // (1024 * 1024),
    )  # fmt: skip
