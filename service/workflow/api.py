from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from schemas.common import ErrorRead
from schemas.workflow import WorkflowRead, WorkflowSummary
from service.auth.dependencies import RunDep
from service.workflow import service as definitions

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])


@router.get("")
async def list_workflows(run: RunDep) -> list[WorkflowSummary]:
    """Every published workflow version, oldest first; `current` marks what new cases use."""
    return await run.read(
        lambda session, context, _principal: definitions.list_workflows(session, context)
    )


@router.get("/{name}", responses={404: {"model": ErrorRead}})
async def get_workflow(name: str, run: RunDep, version: int | None = None) -> WorkflowRead:
    """A definition: the current version, or `version` if given."""
    return await run.read(
        lambda _session, context, _p: definitions.get_workflow(context, name, version)
    )


@router.get(
    "/{name}/diagram",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 404: {"model": ErrorRead}},
)
async def get_diagram(
    name: str, run: RunDep, case: str | None = None, version: int | None = None
) -> str:
    """The workflow as Mermaid text grouped by phase; `case` marks that case's current state."""
    return await run.read(
        lambda session, context, principal: definitions.draw(
            session, context, principal, name, case_id=case, version=version
        )
    )
