from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from service.auth.dependencies import RunPublicDep
from service.kit.context import AppContext

router = APIRouter(tags=["health"])


def _database(session: Session, _context: AppContext) -> str | None:
    """ "ok" or None: which database it is stays unsaid (it helps nobody but an attacker)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return None
    return "ok"


@router.get("/health", responses={503: {"description": "the database does not answer"}})
async def health(run: RunPublicDep) -> Any:
    """Whether the service and its database answer (no authentication, no case data)."""
    try:
        database = await run.read(_database)
    except SQLAlchemyError:
        database = None
    if database is None:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return {"status": "ok", "database": database}
