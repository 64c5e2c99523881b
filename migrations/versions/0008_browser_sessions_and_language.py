"""browser sessions and language: a session kind, the cookie token's hash, last use; the
user's language

A browser session is an `auth_session` row like an API login, so logout, deactivation and a
change of role end it the same way. It holds no refresh token (`refresh_hash` is null) but the
SHA-256 of its cookie token, and `last_seen_at` for the idle timeout.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='api', nullable=False))
        batch_op.add_column(sa.Column('browser_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('refresh_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_auth_session_browser_token_hash'), ['browser_token_hash'])
        batch_op.create_check_constraint('kind', "kind IN ('api', 'browser')")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='id', nullable=False))
        batch_op.create_check_constraint('language', "language IN ('id', 'en')")


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_language'), type_='check')
        batch_op.drop_column('language')
    op.execute("DELETE FROM auth_session WHERE kind = 'browser'")
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_auth_session_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_auth_session_browser_token_hash'), type_='unique')
        batch_op.alter_column('refresh_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('browser_token_hash')
        batch_op.drop_column('kind')
