"""duplicates: the blind index of a victim's identity document, the keyed blocks of the fuzzy
search, and the review list of possible duplicates

`victim.document_index` and `victim_block` hold HMACs under NRM_INDEX_KEY, never clear values.
Cases registered before this revision get them from `nrm keys reindex` (it needs the keys,
which a migration does not have).

Revision ID: 0015_duplicates
Revises: 0014_bulk_intake
Create Date: 2026-11-30 00:03:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_duplicates"
down_revision: str | Sequence[str] | None = "0014_bulk_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("other_case_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'linked', 'dismissed')", name=op.f("ck_duplicate_match_status")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_duplicate_match_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_duplicate_match_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"],
            ["case_file.id"],
            name=op.f("fk_duplicate_match_other_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_match")),
        sa.UniqueConstraint(
            "case_id", "other_case_id", name=op.f("uq_duplicate_match_case_id_other_case_id")
        ),
    )
    with op.batch_alter_table("duplicate_match", schema=None) as batch_op:
        batch_op.create_index("ix_duplicate_match_other", ["other_case_id"], unique=False)
        batch_op.create_index("ix_duplicate_match_status", ["status", "id"], unique=False)

    op.create_table(
        "victim_block",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("block", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_victim_block_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "block", name=op.f("pk_victim_block")),
    )
    with op.batch_alter_table("victim_block", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_victim_block_block"), ["block"], unique=False)

    with op.batch_alter_table("victim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_index", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_victim_document_index"), ["document_index"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("victim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_victim_document_index"))
        batch_op.drop_column("document_index")

    with op.batch_alter_table("victim_block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_victim_block_block"))

    op.drop_table("victim_block")
    with op.batch_alter_table("duplicate_match", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_match_status")
        batch_op.drop_index("ix_duplicate_match_other")

    op.drop_table("duplicate_match")
