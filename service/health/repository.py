"""What the readiness probe reads, on the probe's own connection."""

from __future__ import annotations

from sqlalchemy import Connection, text


def schema_revisions(connection: Connection) -> frozenset[str]:
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(str(row) for row in rows)
