"""service requests beside the pathway, and the lawful basis a case rests on

`service_request`: one request for one service of a case (health, shelter, LPSK protection,
...), owned by a ministry's unit, with the time it has to start (UU 21/2007 Art. 52(1)) and
the SLA sweep's columns for that start clock. `case_file.lawful_basis`: what the case's
processing rests on now (UU 27/2022 Art. 20(2)). Existing cases keep null: their basis is in
their consent rows.

Revision ID: 0011_service_requests
Revises: 0010_erasure
Create Date: 2026-11-30 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0011_service_requests"
down_revision: str | Sequence[str] | None = "0010_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_SERVICES = sa.text("status IN ('requested', 'started')")
SLA_PENDING = sa.text("sla_next_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lawful_basis", sa.String(length=24), nullable=True))
    op.create_table(
        "service_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ministry", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=24), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sla_level", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("sla_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_unit_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'started', 'completed', 'declined', 'withdrawn')",
            name=op.f("ck_service_request_status"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_service_request_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_service_request_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["escalated_unit_id"], ["unit.id"],
            name=op.f("fk_service_request_escalated_unit_id_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"],
            name=op.f("fk_service_request_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
    )  # fmt: skip
    op.create_index(
        "ix_service_request_case", "service_request", ["case_id", "requested_at"], unique=False
    )
    op.create_index(
        "ix_service_request_unit_queue", "service_request", ["unit_id", "start_due_at", "id"],
        unique=False, sqlite_where=OPEN_SERVICES, postgresql_where=OPEN_SERVICES,
    )  # fmt: skip
    op.create_index(
        "ix_service_request_sla_next", "service_request", ["sla_next_at", "id"],
        unique=False, sqlite_where=SLA_PENDING, postgresql_where=SLA_PENDING,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_service_request_sla_next", table_name="service_request")
    op.drop_index("ix_service_request_unit_queue", table_name="service_request")
    op.drop_index("ix_service_request_case", table_name="service_request")
    op.drop_table("service_request")
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_column("lawful_basis")
