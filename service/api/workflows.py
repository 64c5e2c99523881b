from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from schemas.common import ErrorRead
from schemas.workflow import WorkflowRead, WorkflowSummary
from service import definitions
from service.api.deps import ContextDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])


@router.get("")
def list_workflows(
    session: SessionDep, context: ContextDep, _principal: PrincipalDep
) -> list[WorkflowSummary]:
    """Every published workflow version, oldest first; `current` marks what new cases use."""
    return definitions.list_workflows(session, context)


@router.get("/{name}", responses={404: {"model": ErrorRead}})
def get_workflow(
    name: str, context: ContextDep, _principal: PrincipalDep, version: int | None = None
) -> WorkflowRead:
    """A definition: the current version, or `version` if given."""
    return definitions.get_workflow(context, name, version)


@router.get(
    "/{name}/diagram",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 404: {"model": ErrorRead}},
)
def get_diagram(
    name: str,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
    case: str | None = None,
    version: int | None = None,
) -> str:
    """The workflow as Mermaid text grouped by phase; `case` marks that case's current state."""
    return definitions.draw(session, context, principal, name, case_id=case, version=version)
