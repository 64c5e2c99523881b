from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "the database does not answer"}})
def health(session: SessionDep) -> Any:
    """Whether the service and its database answer (no authentication, no case data)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return {"status": "ok", "database": session.get_bind().dialect.name}
