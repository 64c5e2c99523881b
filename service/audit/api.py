from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from schemas.audit import (
    CheckpointMade,
    CheckpointPage,
    EventPage,
    IdentityAccessPage,
    ProofRead,
    PublicKeyRead,
    VerifyRead,
)
from schemas.auth import Role
from schemas.common import ErrorRead, Instant
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.filters import EventFilter, IdentityAccessFilter
from service.auth.dependencies import Run, run_as
from service.kit.errors import Invalid

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
RunAsAuditor = Annotated[Run, Depends(run_as(Role.AUDITOR))]
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404, 422)}
_TEXT = r"^[^\x00-\x1f]*$"  # no control characters (PostgreSQL refuses NUL in text)
Seq = Annotated[int, Path(ge=1, le=2**63 - 1, description="the event's global sequence number")]
_MEDIA = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}


@router.get("/verify", responses=_ERRORS)
async def verify(run: RunAsAuditor) -> VerifyRead:
    """Check every event, checkpoint and case row; `first_broken` names the earliest problem."""
    # in this worker (slices, one process): a web worker does not start processes of its own;
    # `nrm audit verify` checks a large log in parallel processes
    return await run.read(
        lambda _session, context, _auditor: audit.present_verdict(audit.verify(context, workers=1))
    )


@router.get("/checkpoints", responses=_ERRORS)
async def list_checkpoints(
    run: RunAsAuditor,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> CheckpointPage:
    """The signed checkpoints, oldest first, with the public key that verifies them."""
    return await run.read(
        lambda session, context, _auditor: checkpoints.list_checkpoints(
            session, context, cursor, limit
        )
    )


@router.post(
    "/checkpoints",
    response_model=CheckpointMade,
    status_code=201,
    responses={**_ERRORS, 200: {"model": CheckpointMade, "description": "nothing to seal"}},
)
async def checkpoint_now(run: RunAsAuditor) -> JSONResponse:
    """Seal the events not yet in a checkpoint now (201), or say there were none (200)."""
    result = await run(
        lambda session, context, _auditor: checkpoints.checkpoint_now(session, context)
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if result.created else 200)


@router.get("/public-key", responses=_ERRORS)
async def public_key(run: RunAsAuditor) -> PublicKeyRead:
    """The Ed25519 public key that verifies checkpoints: keep a copy outside the system."""
    return await run.read(lambda _session, context, _auditor: checkpoints.public_key(context))


@router.get("/events", responses=_ERRORS)
async def search_events(
    run: RunAsAuditor,
    case_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    ministry: Annotated[str | None, Query(max_length=20, pattern=_TEXT)] = None,
    trigger: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    kind: Annotated[str | None, Query(max_length=32, pattern=_TEXT)] = None,
    since: Annotated[Instant | None, Query(description="at or after (with a time zone)")] = None,
    until: Annotated[Instant | None, Query(description="before (with a time zone)")] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> EventPage:
    """Events by case, actor, ministry, trigger, kind and time, oldest first."""
    _aware(since=since, until=until)
    where = EventFilter(case_id, actor, ministry, trigger, kind, since, until)
    return await run.read(
        lambda session, context, _auditor: audit.search(session, context, where, cursor, limit)
    )


@router.get("/events/{seq}/proof", responses=_ERRORS)
async def prove(seq: Seq, run: RunAsAuditor) -> ProofRead:
    """An inclusion proof of event `seq` against the checkpoint that seals it."""
    return await run(lambda session, context, _auditor: audit.prove(session, context, seq))


@router.get(
    "/export",
    responses={**_ERRORS, 200: {"content": {m: {} for m in _MEDIA.values()}}},
    response_class=StreamingResponse,
)
async def export(
    run: RunAsAuditor, fmt: Annotated[audit.ExportFormat, Query(alias="format")] = "jsonl"
) -> StreamingResponse:
    """The whole log, streamed: JSON Lines (checkable offline with `nrm audit verify
    --offline`) or CSV. The export is recorded as an event before it starts."""
    await run(
        lambda session, context, auditor: audit.record_export(
            session, context, auditor, fmt, via="api"
        )
    )
    return StreamingResponse(
        audit.export(run.context, fmt),
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="nrm-audit.{fmt}"'},
    )


@router.get("/identity-access", responses=_ERRORS)
async def search_identity_access(
    run: RunAsAuditor,
    case_id: uuid.UUID | None = None,
    username: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    ministry: Annotated[str | None, Query(max_length=20, pattern=_TEXT)] = None,
    since: Annotated[Instant | None, Query(description="at or after (with a time zone)")] = None,
    until: Annotated[Instant | None, Query(description="before (with a time zone)")] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> IdentityAccessPage:
    """Who saw a victim's identity, when, on which case and through which endpoint."""
    _aware(since=since, until=until)
    where = IdentityAccessFilter(case_id, username, ministry, since, until)
    return await run.read(
        lambda session, context, _auditor: audit.search_identity_access(
            session, context, where, cursor, limit
        )
    )


def _aware(**instants: datetime | None) -> None:
    for name, instant in instants.items():
        if instant is not None and instant.tzinfo is None:
            raise Invalid(f"{name}: give a time zone, e.g. 2026-01-31T00:00:00Z")
