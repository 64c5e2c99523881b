"""app role grants: the API's login role may not change or remove the log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

from migrations import grants


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    role = grants.app_role(bind)
    if role is not None:
        grants.grant_app(bind, role)


def downgrade() -> None:
    bind = op.get_bind()
    role = grants.app_role(bind)
    if role is not None:
        grants.revoke_app(bind, role)
