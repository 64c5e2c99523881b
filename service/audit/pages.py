"""The auditor's pages: search the log, verify it, its checkpoints, the export, and who looked
at which identity. Events carry no victim identity, and neither do these pages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from schemas.common import WIB
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.filters import EventFilter, IdentityAccessFilter
from service.kit.errors import Invalid
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AuditorPage = Annotated[Page, Depends(page_as("auditor"))]
PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00-\x1f]*$")]
Day = Annotated[date | None, Query()]
_MEDIA = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}


@router.get("/audit")
async def search_events(
    page: AuditorPage,
    case_id: Text = None,
    actor: Text = None,
    ministry: Text = None,
    trigger: Text = None,
    kind: Text = None,
    since: Day = None,
    until: Day = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Events by case, actor, ministry, trigger, kind and days (WIB), oldest first."""
    given = {"case_id": case_id, "actor": actor, "ministry": ministry, "trigger": trigger,
             "kind": kind, "since": since.isoformat() if since else None,
             "until": until.isoformat() if until else None}  # fmt: skip
    where = EventFilter(
        _case_id(case_id), actor or None, ministry or None, trigger or None, kind or None,
        _start(since), _start(until + timedelta(days=1)) if until else None,
    )  # fmt: skip
    events = await page.read(lambda s, c, _me: audit.search(s, c, where, cursor, PAGE_SIZE))
    more = _more("/audit", given, events.next_cursor)
    return page.render(templates, "events.html", events=events, given=given, more=more)


@router.get("/audit/verify")
async def verify(page: AuditorPage, run: bool = False) -> Response:
    """A button, then the verdict: the whole log is checked from one snapshot."""
    verdict = await page.read(
        lambda _s, c, _me: audit.present_verdict(audit.verify(c, workers=1)) if run else None
    )
    return page.render(templates, "verify.html", verdict=verdict)


@router.get("/audit/checkpoints")
async def list_checkpoints(
    page: AuditorPage, cursor: Annotated[str | None, Query(max_length=512)] = None
) -> Response:
    listing = await page.read(
        lambda s, c, _me: checkpoints.list_checkpoints(s, c, cursor, PAGE_SIZE)
    )
    more = _more("/audit/checkpoints", {}, listing.next_cursor)
    return page.render(templates, "checkpoints.html", listing=listing, more=more)


@router.post("/audit/export")
async def export(page: AuditorPage) -> Response:
    """The whole log as a download; the export is itself an event, sealed before it starts."""
    fmt: Any = page.field("format") if page.field("format") in _MEDIA else "jsonl"
    await page(lambda s, c, me: audit.record_export(s, c, me, fmt, via="web"))
    return StreamingResponse(
        audit.export(page.context, fmt),
        media_type=_MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="nrm-audit.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit/identity-access")
async def identity_access(
    page: AuditorPage,
    case_id: Text = None,
    username: Text = None,
    ministry: Text = None,
    since: Day = None,
    until: Day = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Who saw a victim's identity, when, on which case, through which page or endpoint."""
    given = {"case_id": case_id, "username": username, "ministry": ministry,
             "since": since.isoformat() if since else None,
             "until": until.isoformat() if until else None}  # fmt: skip
    where = IdentityAccessFilter(
        _case_id(case_id), username or None, ministry or None,
        _start(since), _start(until + timedelta(days=1)) if until else None,
    )  # fmt: skip
    rows = await page.read(
        lambda s, c, _me: audit.search_identity_access(s, c, where, cursor, PAGE_SIZE)
    )
    more = _more("/audit/identity-access", given, rows.next_cursor)
    return page.render(templates, "identity_access.html", rows=rows, given=given, more=more)


def _case_id(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError as exc:
        raise Invalid("case_id: not a case id") from exc


def _start(day: date | None) -> datetime | None:
    """The first instant of a WIB day."""
    return datetime.combine(day, time(0), WIB).astimezone(UTC) if day else None


def _more(path: str, given: dict[str, Any], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = {k: v for k, v in given.items() if v}
    return f"{path}?{urlencode({**params, 'cursor': cursor})}"
