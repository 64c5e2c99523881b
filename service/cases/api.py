from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from schemas.approval import PendingTransitionRead
from schemas.case import CaseCreate, CaseCreated, CaseRead, HistoryRead, TransitionRequest
from schemas.common import ErrorRead
from schemas.unit import TransferDecision, TransferRequest
from service.auth.dependencies import RunDep
from service.cases import firing as transitions
from service.cases import service as cases
from service.cases import transfers
from service.cases.idempotency import MAX_KEY_LENGTH, Answer

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="retry safely: the same key answers once",
        json_schema_extra={"pattern": f"^[ -~]{{1,{MAX_KEY_LENGTH}}}$"},  # checked by check_key
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


def respond(answer: Answer) -> Response:
    """The answer serialised once, by orjson (the stdlib's encoder cost more than the rest of
    the response; an integer past 64 bits, which orjson refuses, goes the stdlib's way)."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    try:
        content = orjson.dumps(answer.body)
    except orjson.JSONEncodeError:
        return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)
    return Response(content, answer.status_code, headers, media_type="application/json")


@router.post("", status_code=201, response_model=CaseCreated, responses=_ERRORS)
async def register_case(
    body: CaseCreate, run: RunDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Register a referral; the case starts in the workflow's initial state."""
    answer = await run(
        lambda session, context, principal: cases.register_case(
            session,
            context,
            principal,
            body,
            endpoint=run.endpoint,
            idempotency_key=idempotency_key,
        )
    )
    return respond(answer)


@router.get("/{case_id}", responses=_ERRORS)
async def read_case(case_id: str, run: RunDep) -> CaseRead:
    """A case, as far as the caller may see it (404 when they may not see it at all)."""
    return await run(
        lambda session, context, principal: cases.read_case(
            session, context, principal, case_id, endpoint=run.endpoint
        )
    )


@router.post(
    "/{case_id}/transitions",
    response_model=CaseRead,
    responses={**_ERRORS, 202: {"model": PendingTransitionRead}},
)
async def fire_transition(
    case_id: str,
    body: TransitionRequest,
    run: RunDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Fire a trigger at `expected_version`: 200 with the moved case, its event written with it;
    202 when the definition marks the trigger sensitive and it waits for a second person."""
    answer = await run(
        lambda session, context, principal: transitions.fire_transition(
            session,
            context,
            principal,
            case_id,
            body,
            endpoint=run.endpoint,
            idempotency_key=idempotency_key,
        )
    )
    return respond(answer)


@router.get("/{case_id}/history", responses=_ERRORS)
async def read_history(
    case_id: str,
    run: RunDep,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int | None, Query(ge=1, description="capped by the server")] = None,
) -> HistoryRead:
    """The case's events, oldest first, each with its place in the hash chain; keyset-paged."""
    return await run.read(
        lambda session, context, principal: cases.read_history(
            session, context, principal, case_id, cursor, limit
        )
    )


@router.post("/{case_id}/transfer/accept", responses=_ERRORS)
async def accept_transfer(case_id: str, run: RunDep) -> CaseRead:
    """The receiving unit takes the case; it leads from now, with the step's deadline."""
    return await run(
        lambda session, context, principal: transfers.accept_transfer(
            session, context, principal, case_id, run.endpoint
        )
    )


@router.post("/{case_id}/transfer/decline", responses=_ERRORS)
async def decline_transfer(case_id: str, body: TransferDecision, run: RunDep) -> CaseRead:
    """The receiving unit refuses, with a reason; the case stays with the sender."""
    return await run(
        lambda session, context, principal: transfers.decline_transfer(
            session, context, principal, case_id, body.reason, run.endpoint
        )
    )


@router.put("/{case_id}/transfer", responses=_ERRORS)
async def reroute_transfer(case_id: str, body: TransferRequest, run: RunDep) -> CaseRead:
    """The sending unit names the unit the step goes to (after a refusal, or instead)."""
    return await run(
        lambda session, context, principal: transfers.reroute_transfer(
            session, context, principal, case_id, body.to_unit, run.endpoint
        )
    )
