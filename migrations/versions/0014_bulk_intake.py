"""bulk intake: arrivals, the manifest rows imported into them, group decisions

`arrival` groups the cases of one mass arrival; `manifest_row` holds a keyed hash of each
imported manifest row (primary key with its arrival), so a re-upload makes no second case;
`group_decision` is one trigger fired at many cases, and `approval.group_id` names the group
a pending four-eyes request belongs to.

Revision ID: 0014_bulk_intake
Revises: 0013_criminal_cases
Create Date: 2026-11-30 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_bulk_intake"
down_revision: str | Sequence[str] | None = "0013_criminal_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arrival",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("source_country", sa.String(length=2), nullable=False),
        sa.Column("operation_name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("ministry", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"],
            name=op.f("fk_arrival_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_arrival_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrival")),
    )  # fmt: skip
    op.create_index("ix_arrival_date", "arrival", ["arrival_date", "id"], unique=False)
    op.create_table(
        "manifest_row",
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["arrival_id"], ["arrival.id"], name=op.f("fk_manifest_row_arrival_id_arrival")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_manifest_row_case_id_case_file")
        ),
        sa.PrimaryKeyConstraint("arrival_id", "row_key", name=op.f("pk_manifest_row")),
    )
    op.create_index("ix_manifest_row_case", "manifest_row", ["case_id"], unique=False)
    op.create_table(
        "group_decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("arrival_id", sa.Uuid(), nullable=True),
        sa.Column("ministry", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'done')",
            name=op.f("ck_group_decision_status"),
        ),
        sa.ForeignKeyConstraint(
            ["arrival_id"], ["arrival.id"], name=op.f("fk_group_decision_arrival_id_arrival")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"],
            name=op.f("fk_group_decision_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"],
            name=op.f("fk_group_decision_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_decision")),
    )  # fmt: skip
    op.create_index(
        "ix_group_decision_ministry_status", "group_decision", ["ministry", "status"], unique=False
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_approval_group_id_group_decision"), "group_decision", ["group_id"],
            ["id"],
        )  # fmt: skip
        batch_op.create_index("ix_approval_group", ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_group")
        batch_op.drop_constraint(
            batch_op.f("fk_approval_group_id_group_decision"), type_="foreignkey"
        )
        batch_op.drop_column("group_id")
    op.drop_index("ix_group_decision_ministry_status", table_name="group_decision")
    op.drop_table("group_decision")
    op.drop_index("ix_manifest_row_case", table_name="manifest_row")
    op.drop_table("manifest_row")
    op.drop_index("ix_arrival_date", table_name="arrival")
    op.drop_table("arrival")
