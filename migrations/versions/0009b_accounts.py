"""accounts: four-eyes requests for privileged account changes, forced password change

`account_request` holds an account change that a second admin must approve (creating or
elevating a supervisor or admin, moving a supervisor, changing another admin's account);
`user_account.must_change_password` is set by an admin's password reset.

Revision ID: 0009b_accounts
Revises: 0009a_access
Create Date: 2026-11-29 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009b_accounts'
down_revision: str | Sequence[str] | None = '0009a_access'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'account_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('create', 'update', 'reset_password')", name=op.f('ck_account_request_kind')),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_account_request_status')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_request_user_id_user_account')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_account_request_requested_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_account_request_decided_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_request')),
    )
    op.create_index('ix_account_request_status_id', 'account_request', ['status', 'id'], unique=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    op.drop_index('ix_account_request_status_id', table_name='account_request')
    op.drop_table('account_request')
