"""audit checkpoints and append-only log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 11:36:03.489818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Checkpointing takes this lock (service/audit/repository.py): it waits for every writer
# that has inserted an event to finish and holds new ones back for the moment it takes to read
# the range, so no lower seq can commit after the range is sealed; the mode conflicts with
# itself, so checkpointers also queue one behind the other. LOCK in that mode needs UPDATE or
# DELETE on the table, which the application role must not have: the owner lends it just this.
LOCK_FUNCTION = """
CREATE FUNCTION audit_lock_log() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE {schema}.case_event IN SHARE ROW EXCLUSIVE MODE;
END
$$
"""


def upgrade() -> None:
    op.create_table('audit_checkpoint',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('first_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.CheckConstraint('event_count >= 1', name=op.f('ck_audit_checkpoint_event_count')),
    sa.CheckConstraint('last_seq >= first_seq', name=op.f('ck_audit_checkpoint_range')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_audit_checkpoint_number')),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_audit_checkpoint')),
    sa.UniqueConstraint('first_seq', name=op.f('uq_audit_checkpoint_first_seq')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_checkpoint_hash')),
    sa.UniqueConstraint('last_seq', name=op.f('uq_audit_checkpoint_last_seq')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_checkpoint_prev_hash'))
    )
    # plain create_index, not batch: a batch rebuild of case_event on SQLite would drop triggers
    op.create_index('ix_case_event_actor_seq', 'case_event', ['actor', 'seq'], unique=False)
    op.create_index('ix_case_event_at', 'case_event', ['at'], unique=False)
    op.create_index('ix_case_event_ministry_seq', 'case_event', ['ministry', 'seq'], unique=False)
    append_only.create(op, 'case_event')
    append_only.create(op, 'audit_checkpoint')
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        schema = bind.execute(sa.text('SELECT current_schema()')).scalar_one()
        quoted = bind.dialect.identifier_preparer.quote(schema)
        op.execute(LOCK_FUNCTION.format(schema=quoted))
        op.execute('REVOKE ALL ON FUNCTION audit_lock_log() FROM PUBLIC')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION audit_lock_log()')
    append_only.drop(op, 'audit_checkpoint')
    append_only.drop(op, 'case_event')
    op.drop_index('ix_case_event_ministry_seq', table_name='case_event')
    op.drop_index('ix_case_event_at', table_name='case_event')
    op.drop_index('ix_case_event_actor_seq', table_name='case_event')
    op.drop_table('audit_checkpoint')
