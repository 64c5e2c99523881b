from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from schemas.audit import (
    CheckpointPage,
    EventPage,
    ProofRead,
    PublicKeyRead,
    SealRead,
    VerifyRead,
)
from schemas.common import ErrorRead
from service import audit, checkpoints
from service.api.deps import ContextDep, SessionDep, require_role
from service.errors import Invalid
from service.principal import Principal
from service.repositories.audit import EventFilter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AuditorDep = Annotated[Principal, Depends(require_role("auditor"))]
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404, 422)}
_TEXT = r"^[^\x00-\x1f]*$"  # no control characters (PostgreSQL refuses NUL in text)
Seq = Annotated[int, Path(ge=1, le=2**63 - 1, description="the event's global sequence number")]
_MEDIA = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}


@router.get("/verify", responses=_ERRORS)
def verify(context: ContextDep, _auditor: AuditorDep) -> VerifyRead:
    """Check every event, checkpoint and case row; `first_broken` names the earliest problem."""
    return audit.present_verdict(audit.verify(context))


@router.get("/checkpoints", responses=_ERRORS)
def list_checkpoints(
    session: SessionDep,
    context: ContextDep,
    _auditor: AuditorDep,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> CheckpointPage:
    """The signed checkpoints, oldest first, with the public key that verifies them."""
    return checkpoints.list_checkpoints(session, context, audit.parse_cursor(cursor), limit)


@router.post("/checkpoints", response_model=SealRead, status_code=201, responses=_ERRORS)
def seal_now(session: SessionDep, context: ContextDep, _auditor: AuditorDep) -> JSONResponse:
    """Seal the events not yet in a checkpoint now (201), or say there were none (200)."""
    result = checkpoints.seal_now(session, context)
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if result.created else 200)


@router.get("/public-key", responses=_ERRORS)
def public_key(context: ContextDep, _auditor: AuditorDep) -> PublicKeyRead:
    """The Ed25519 public key that verifies checkpoints: keep a copy outside the system."""
    return checkpoints.public_key(context)


@router.get("/events", responses=_ERRORS)
def search_events(
    session: SessionDep,
    context: ContextDep,
    _auditor: AuditorDep,
    case_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    ministry: Annotated[str | None, Query(max_length=20, pattern=_TEXT)] = None,
    trigger: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    kind: Annotated[str | None, Query(max_length=32, pattern=_TEXT)] = None,
    since: Annotated[datetime | None, Query(description="at or after (with a time zone)")] = None,
    until: Annotated[datetime | None, Query(description="before (with a time zone)")] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> EventPage:
    """Events by case, actor, ministry, trigger, kind and time, oldest first."""
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.tzinfo is None:
            raise Invalid(f"{name}: give a time zone, e.g. 2026-01-31T00:00:00Z")
    where = EventFilter(case_id, actor, ministry, trigger, kind, since, until)
    return audit.search(session, context, where, audit.parse_cursor(cursor), limit)


@router.get("/events/{seq}/proof", responses=_ERRORS)
def prove(seq: Seq, session: SessionDep, context: ContextDep, _auditor: AuditorDep) -> ProofRead:
    """An inclusion proof of event `seq` against the checkpoint that seals it."""
    return audit.prove(session, context, seq)


@router.get(
    "/export",
    responses={**_ERRORS, 200: {"content": {m: {} for m in _MEDIA.values()}}},
    response_class=StreamingResponse,
)
def export(
    session: SessionDep,
    context: ContextDep,
    auditor: AuditorDep,
    fmt: Annotated[audit.ExportFormat, Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """The whole log, streamed: JSON Lines (checkable offline with `nrm audit verify
    --offline`) or CSV. The export is recorded as an event before it starts."""
    audit.record_export(session, context, auditor, fmt, via="api")
    return StreamingResponse(
        audit.export(context, fmt),
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="nrm-audit.{fmt}"'},
    )
