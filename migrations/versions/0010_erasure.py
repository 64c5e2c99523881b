"""erasure: each case's own data key, erasure and legal hold on the victim row

`victim.data_key` holds the case's key (wrapped by NRM_DATA_KEY) that seals the free text of
the case's events; `victim.identity_ciphertext` becomes nullable (erasure empties it);
`victim.erased_at` and `victim.legal_hold` record an erasure and a hold against retention.
Existing cases get their key when their next event needs one.

Revision ID: 0010_erasure
Revises: 0010_witness
Create Date: 2026-11-29 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_erasure"
down_revision: str | Sequence[str] | None = "0010_witness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("victim", schema=None) as batch_op:
        batch_op.alter_column(
            "identity_ciphertext", existing_type=sa.LargeBinary(), nullable=True
        )
        batch_op.add_column(sa.Column("data_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("victim", schema=None) as batch_op:
        batch_op.drop_column("legal_hold")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("data_key")
        batch_op.alter_column(
            "identity_ciphertext", existing_type=sa.LargeBinary(), nullable=False
        )
