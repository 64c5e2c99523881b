"""queues, deadlines and escalation: assignment and SLA level columns, their indexes

Open cases that exist before this migration are checked at their deadline (their 75% warning
is not recorded after the fact): the sweep then records the breach and any escalation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:28:33.682062
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_level', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sla_next_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_case_file_escalated', ['due_at', 'id'], unique=False, sqlite_where=sa.text('sla_level >= 2'), postgresql_where=sa.text('sla_level >= 2'))
        batch_op.create_index('ix_case_file_assignee', ['assigned_to_id', 'due_at', 'id'], unique=False, sqlite_where=sa.text('assigned_to_id IS NOT NULL'), postgresql_where=sa.text('assigned_to_id IS NOT NULL'))
        batch_op.create_index('ix_case_file_open', ['due_at', 'id'], unique=False, sqlite_where=sa.text('due_at IS NOT NULL'), postgresql_where=sa.text('due_at IS NOT NULL'))
        batch_op.create_index('ix_case_file_sla_next', ['sla_next_at', 'id'], unique=False, sqlite_where=sa.text('sla_next_at IS NOT NULL'), postgresql_where=sa.text('sla_next_at IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_case_file_assigned_to_id_user_account'), 'user_account', ['assigned_to_id'], ['id'])
    op.execute("UPDATE case_file SET sla_next_at = due_at WHERE due_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_file_assigned_to_id_user_account'), type_='foreignkey')
        batch_op.drop_index('ix_case_file_sla_next', sqlite_where=sa.text('sla_next_at IS NOT NULL'), postgresql_where=sa.text('sla_next_at IS NOT NULL'))
        batch_op.drop_index('ix_case_file_open', sqlite_where=sa.text('due_at IS NOT NULL'), postgresql_where=sa.text('due_at IS NOT NULL'))
        batch_op.drop_index('ix_case_file_escalated', sqlite_where=sa.text('sla_level >= 2'), postgresql_where=sa.text('sla_level >= 2'))
        batch_op.drop_index('ix_case_file_assignee', sqlite_where=sa.text('assigned_to_id IS NOT NULL'), postgresql_where=sa.text('assigned_to_id IS NOT NULL'))
        batch_op.drop_column('sla_next_at')
        batch_op.drop_column('sla_level')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('assigned_to_id')
