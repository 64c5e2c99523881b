from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from schemas.auth import Role
from schemas.common import ErrorRead
from schemas.workflow import MigrationRead, MigrationRequest, WorkflowRead, WorkflowSummary
from service.auth.dependencies import Run, RunDep, run_as
from service.kit.capacity import in_thread
from service.workflow import migrations
from service.workflow import service as definitions

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
RunAsAdmin = Annotated[Run, Depends(run_as(Role.ADMIN))]


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


@router.post("/{name}/migrations")
async def migrate_cases(name: str, body: MigrationRequest, run: RunAsAdmin) -> MigrationRead:
    """Move running cases to another version by a reviewed mapping: a dry run by default; with
    `dry_run: false` and the dry run's `checksum`, case by case, each in its own transaction."""
    if body.dry_run:
        return await run.read(
            lambda session, context, _admin: migrations.plan(
                session, context, name, body.mapping, body.cases
            )
        )
    admin = await run.read(lambda _session, _context, principal: principal)
    context = run.context
    return await in_thread(
        context, migrations.apply, context, admin, name, body.mapping, body.checksum, body.cases
    )
