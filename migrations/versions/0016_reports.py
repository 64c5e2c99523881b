"""reports: a covering index for the monthly milestones

`ix_case_event_moves` (kind, at, trigger, from_state, to_state, case_id) holds every column the
monthly report's aggregates read (service/reports/repository.py::monthly_moves): each is a
range of one kind over time, so PostgreSQL counts a million creations from the index alone
instead of reading the wide event rows (payload, hashes), and a ministry's scope joins on the
case id from the index too. The cost: one more index entry per event appended.

Revision ID: 0016_reports
Revises: 0015_duplicates
Create Date: 2026-11-30 00:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_reports"
down_revision: str | Sequence[str] | None = "0015_duplicates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["kind", "at", "trigger", "from_state", "to_state", "case_id"]


def upgrade() -> None:
    op.create_index("ix_case_event_moves", "case_event", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_case_event_moves", table_name="case_event")
