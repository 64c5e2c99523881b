"""Privileges of the application's login role on PostgreSQL, versioned in migrations.

Migrations run as the owner of the schema; the API connects as a separate role named by
NRM_DB_APP_ROLE. That role gets what the service needs on every table (and, through default
privileges, on every table a later migration creates), minus UPDATE, DELETE and TRUNCATE on
the append-only log tables, minus writing `alembic_version`. Nothing happens on SQLite, when
the setting is empty, or when no such role exists yet.

A later migration that adds an append-only table calls `append_only.create(op, table)`, which
revokes those privileges again for its table (default privileges would otherwise grant them).
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from service.kit.config import Settings

log = logging.getLogger("alembic.nrm")
LOG_TABLES = ("case_event", "audit_checkpoint", "identity_access")
LOCK_FUNCTION = "audit_lock_log"


def app_role(bind: Connection) -> str | None:
    """The configured application role, if this is PostgreSQL and the role exists."""
    role = Settings().db_app_role
    if bind.dialect.name != "postgresql" or not role:
        return None
    exists = bind.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        log.warning("NRM_DB_APP_ROLE=%s does not exist: no privileges granted", role)
        return None
    return role


def grant_app(bind: Connection, role: str) -> None:
    quote = bind.dialect.identifier_preparer.quote
    who, schema = quote(role), quote(_schema(bind))
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {who}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {who}" for table in LOG_TABLES),
        f"GRANT EXECUTE ON FUNCTION {LOCK_FUNCTION}() TO {who}",
    ):
        bind.execute(text(statement))


def revoke_app(bind: Connection, role: str) -> None:
    quote = bind.dialect.identifier_preparer.quote
    who, schema = quote(role), quote(_schema(bind))
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who}",
        f"REVOKE EXECUTE ON FUNCTION {LOCK_FUNCTION}() FROM {who}",
    ):
        bind.execute(text(statement))


def revoke_changes(bind: Connection, table: str) -> None:
    """The application role may add rows to `table` and read them, never change or remove them."""
    role = app_role(bind)
    if role is not None:
        who = bind.dialect.identifier_preparer.quote(role)
        bind.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {who}"))


def _schema(bind: Connection) -> str:
    schema: str = bind.execute(text("SELECT current_schema()")).scalar_one()
    return schema
