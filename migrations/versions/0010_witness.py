"""witnesses and the identity-access seal

`audit_witness`: how far the webhook witness has received the checkpoints. Checkpoints gain
the seal of the `identity_access` log (format /2: `access_last_id`, `access_count`,
`access_root`; null on the checkpoints sealed before). The checkpoint lock now also waits for
every writer of `identity_access`, so that no lower row id commits into a sealed range.

Revision ID: 0010_witness
Revises: 0009b_accounts
Create Date: 2026-11-29 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_lock_log() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE {schema}.case_event IN SHARE ROW EXCLUSIVE MODE;{more}
END
$$
"""
ALSO_ACCESS = "\n    LOCK TABLE {schema}.identity_access IN SHARE ROW EXCLUSIVE MODE;"

revision: str = "0010_witness"
down_revision: str | Sequence[str] | None = "0009b_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_witness",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_witness")),
    )
    # plain add_column, not batch: a batch rebuild on SQLite would drop the append-only triggers
    op.add_column("audit_checkpoint", sa.Column("access_last_id", sa.BigInteger(), nullable=True))
    op.add_column("audit_checkpoint", sa.Column("access_count", sa.Integer(), nullable=True))
    op.add_column(
        "audit_checkpoint", sa.Column("access_root", sa.String(length=64), nullable=True)
    )
    _lock_function(also_access=True)


def downgrade() -> None:
    _lock_function(also_access=False)
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_column("access_root")
        batch_op.drop_column("access_count")
        batch_op.drop_column("access_last_id")
    if op.get_bind().dialect.name == "sqlite":
        append_only.create(op, "audit_checkpoint")  # the batch rebuilt the table
    op.drop_table("audit_witness")


def _lock_function(also_access: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = bind.dialect.identifier_preparer.quote(schema)
    more = ALSO_ACCESS.format(schema=quoted) if also_access else ""
    op.execute(LOCK_FUNCTION.format(schema=quoted, more=more))
