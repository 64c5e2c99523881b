from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow


class WorkflowDefinitionRow(SQLModel, table=True):
    """A published definition version, frozen by its checksum the first time it is seen."""

    __tablename__ = "workflow_definition"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    checksum: str = Field(max_length=64)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
