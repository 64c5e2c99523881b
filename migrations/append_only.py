"""Make a table append-only in the database itself: triggers refuse UPDATE and DELETE.

Use it from a migration, after the table exists:

    from migrations import append_only

    def upgrade() -> None:
        ...create the table...
        append_only.create(op, "identity_access")

    def downgrade() -> None:
        append_only.drop(op, "identity_access")
        ...drop the table...

PostgreSQL: one statement-level trigger refuses UPDATE, DELETE and TRUNCATE, and the
application role (NRM_DB_APP_ROLE, when it exists) loses those privileges on the table, so the
refusal holds even if the triggers are disabled. SQLite has no roles: two triggers refuse
UPDATE and DELETE. The owner (who runs migrations) can still drop the triggers; nothing inside
one database can stop its owner, which is what signed checkpoints are for.

On SQLite an Alembic `batch_alter_table` on such a table rebuilds it and loses its triggers:
call `create` again after any batch operation on it.
"""

from __future__ import annotations

from typing import Any

from migrations import grants


def statements(dialect: str, table: str) -> list[str]:
    """The SQL that makes `table` append-only (also used by tests that must tamper)."""
    _check_identifier(table)
    if dialect == "postgresql":
        return [
            f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on {table} is refused: the table is append-only', TG_OP;
END
$$""",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_refuse_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{verb} on {table} is refused: the table is append-only');"
            " END"
            for verb in ("UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"append-only triggers for {dialect}")


def drop_statements(dialect: str, table: str) -> list[str]:
    _check_identifier(table)
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()",
        ]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_refuse_{verb}" for verb in ("update", "delete")]
    raise NotImplementedError(f"append-only triggers for {dialect}")


def create(op: Any, table: str) -> None:
    bind = op.get_bind()
    for statement in statements(bind.dialect.name, table):
        op.execute(statement)
    grants.revoke_changes(bind, table)


def drop(op: Any, table: str) -> None:
    for statement in drop_statements(op.get_bind().dialect.name, table):
        op.execute(statement)


def _check_identifier(name: str) -> None:
    if not name.isidentifier() or not name.isascii() or name.lower() != name:
        raise ValueError(f"{name!r} is not a plain lower-case table name")
