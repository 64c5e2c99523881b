"""reports: a covering index for the monthly milestones

`ix_case_event_moves` (at, kind, trigger, from_state, to_state, case_id) holds every column the
monthly report's one aggregate reads (service/reports/repository.py::monthly_moves), so
PostgreSQL counts a million events with an index-only scan instead of reading the wide event
rows (payload, hashes). The cost: one more index entry per event appended.

Revision ID: 0016_reports
Revises: 0010_erasure
Create Date: 2026-11-30 00:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_reports"
down_revision: str | Sequence[str] | None = "0010_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["at", "kind", "trigger", "from_state", "to_state", "case_id"]


def upgrade() -> None:
    op.create_index("ix_case_event_moves", "case_event", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_case_event_moves", table_name="case_event")
