"""witnesses: how far the webhook witness has received the checkpoints

Revision ID: 0010_witness
Revises: 0009a_access
Create Date: 2026-11-29 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_witness"
down_revision: str | Sequence[str] | None = "0009a_access"
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


def downgrade() -> None:
    op.drop_table("audit_witness")
