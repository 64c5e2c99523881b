"""Alembic environment: the URL comes from the settings (or the caller), the schema from models."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

from service.kit.config import Settings
from service.kit.db import UNBOUNDED_STATEMENTS, create_db_engine
from service.models import metadata
from service.models.base import UTCDateTime

config = context.config


def render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    """Render the models' own types as plain SQLAlchemy ones, so migrations never import them."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})"
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.attributes.get("url") or Settings().database_url
    engine = create_db_engine(url, UNBOUNDED_STATEMENTS)
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
main()
