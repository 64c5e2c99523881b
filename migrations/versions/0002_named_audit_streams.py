"""named audit streams

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 11:23:42.130742
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_stream',
    sa.Column('stream', sa.String(length=40), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('stream', name=op.f('pk_audit_stream'))
    )


def downgrade() -> None:
    op.drop_table('audit_stream')
