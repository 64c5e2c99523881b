"""escalation ladder: the Task Force units an overdue step reached; when a hand-over started

`case_escalation` records each Task Force unit (district, province, national) that an overdue
step was escalated to, so that each of them sees, read-only, what reached it. `sla_level` now
also counts the rungs: 3 + n is "escalated to the ladder's rung n". Cases escalated before this
revision reached the national Task Force (version 1 had no other rung): they get that row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'case_escalation',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=12), nullable=False),
        sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_escalation_case_id_case_file'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_case_escalation_unit_id_unit')),
        sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_escalation')),
    )
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_escalation_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('case_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE case_file SET transfer_at = state_entered_at WHERE transfer_to_unit_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO case_escalation (case_id, unit_id, level, reached_at)"
        " SELECT c.id, u.id, 'national', c.updated_at FROM case_file c"
        " JOIN unit u ON u.level = 'national' AND u.ministry = 'GUGUS_TUGAS'"
        " WHERE c.sla_level >= 3"
    )


def downgrade() -> None:
    op.execute("UPDATE case_file SET sla_level = 3 WHERE sla_level > 3")
    with op.batch_alter_table('case_unit', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_column('transfer_at')
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_escalation_unit_id'))
    op.drop_table('case_escalation')
