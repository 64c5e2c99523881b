"""refresh tokens retired by rotation: every one a session rotated away from, not only the last

Presenting any earlier refresh token of a session ends the session; `previous_refresh_hash`
remembered only one rotation back. Its values move into the new table.

Revision ID: 0009a_access
Revises: 0009
Create Date: 2026-11-29 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009a_access"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Read the old column first: on SQLite the batch below rebuilds auth_session, which must
    # happen before any table refers to it (dropping a parent would cascade).
    retired = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT previous_refresh_hash, id, refreshed_at FROM auth_session "
                "WHERE previous_refresh_hash IS NOT NULL"
            )
        )
        .all()
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_previous_refresh_hash"))
        batch_op.drop_column("previous_refresh_hash")
    op.create_table(
        "refresh_token_retired",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("fk_refresh_token_retired_session_id_auth_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_token_retired")),
    )
    with op.batch_alter_table("refresh_token_retired", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_token_retired_session_id"), ["session_id"], unique=False
        )
    if retired:  # as read, with no type conversion (SQLite keeps its own text form)
        op.get_bind().execute(
            sa.text(
                "INSERT INTO refresh_token_retired (token_hash, session_id, retired_at) "
                "VALUES (:h, :i, :at)"
            ),
            [{"h": h, "i": i, "at": at} for h, i, at in retired],
        )


def downgrade() -> None:
    retired = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT r.session_id, r.token_hash FROM refresh_token_retired r "
                "WHERE r.retired_at = (SELECT max(x.retired_at) FROM refresh_token_retired x "
                "WHERE x.session_id = r.session_id)"
            )
        )
        .all()
    )
    with op.batch_alter_table("refresh_token_retired", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_retired_session_id"))
    op.drop_table("refresh_token_retired")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_refresh_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_auth_session_previous_refresh_hash"),
            ["previous_refresh_hash"],
            unique=False,
        )
    for session_id, token_hash in retired:
        op.execute(
            sa.text("UPDATE auth_session SET previous_refresh_hash = :h WHERE id = :i").bindparams(
                h=token_hash, i=session_id
            )
        )
