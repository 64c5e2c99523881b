"""units: offices of the ministries by level and region; users and case steps belong to one

Every ministry found in the data gets a national unit ("<MINISTRY>-NASIONAL"); existing users
and cases (their current step and their referral) move to the national unit of their
ministry, and each case remembers the national units of the ministries that handled it, so
that whoever saw a victim's identity before still does. Nothing is lost.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:05:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text('due_at IS NOT NULL')
IN_TRANSFER = sa.text('transfer_to_unit_id IS NOT NULL')


def upgrade() -> None:
    op.create_table(
        'unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('ministry', sa.String(length=20), nullable=False),
        sa.Column('level', sa.String(length=12), nullable=False),
        sa.Column('region_code', sa.String(length=5), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('path', sa.String(length=200), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('national', 'province', 'district', 'mission')", name=op.f('ck_unit_level')),
        sa.CheckConstraint("(level IN ('province', 'district')) = (region_code IS NOT NULL)", name=op.f('ck_unit_region')),
        sa.CheckConstraint("(level = 'mission') = (country IS NOT NULL)", name=op.f('ck_unit_country')),
        sa.ForeignKeyConstraint(['parent_id'], ['unit.id'], name=op.f('fk_unit_parent_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
        sa.UniqueConstraint('code', name=op.f('uq_unit_code')),
    )
    op.create_index('ix_unit_place', 'unit', ['ministry', 'level', 'region_code'], unique=False)
    op.create_table(
        'case_unit',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('referred', sa.Boolean(), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_unit_case_id_case_file'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_case_unit_unit_id_unit')),
        sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_unit')),
    )
    op.create_index(op.f('ix_case_unit_unit_id'), 'case_unit', ['unit_id'], unique=False)

    bind = op.get_bind()
    ministries = sorted({row[0] for row in bind.execute(sa.text(
        "SELECT ministry FROM user_account WHERE ministry IS NOT NULL"
        " UNION SELECT ministry FROM case_file UNION SELECT referring_ministry FROM case_file"
        " UNION SELECT ministry FROM case_ministry"
    ))})
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else now
    for ministry in ministries:
        bind.execute(sa.text(
            "INSERT INTO unit (code, name, ministry, level, path, is_active, created_at)"
            " VALUES (:code, :name, :ministry, 'national', '', :active, :at)"
        ), {"code": f"{ministry}-NASIONAL", "name": f"{ministry} (nasional)", "ministry": ministry,
            "active": True, "at": stamp})
    bind.execute(sa.text("UPDATE unit SET path = CAST(id AS VARCHAR(20))"))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_unit_id_unit'), 'unit', ['unit_id'], ['id'])
    national = "(SELECT id FROM unit WHERE unit.ministry = {} AND unit.level = 'national')"
    bind.execute(sa.text(
        f"UPDATE user_account SET unit_id = {national.format('user_account.ministry')}"
        " WHERE ministry IS NOT NULL"
    ))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_user_account_unit'), "(ministry IS NOT NULL) = (unit_id IS NOT NULL)")

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referring_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('transfer_to_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('transfer_due_at', sa.DateTime(timezone=True), nullable=True))
    bind.execute(sa.text(
        f"UPDATE case_file SET unit_id = {national.format('case_file.ministry')},"
        f" referring_unit_id = {national.format('case_file.referring_ministry')}"
    ))
    bind.execute(sa.text(
        "INSERT INTO case_unit (case_id, unit_id, referred, since, left_at)"
        " SELECT cm.case_id, u.id, cm.ministry = c.referring_ministry, cm.since, NULL"
        " FROM case_ministry cm JOIN case_file c ON c.id = cm.case_id"
        " JOIN unit u ON u.ministry = cm.ministry AND u.level = 'national'"
    ))
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('referring_unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_case_file_unit_id_unit'), 'unit', ['unit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_case_file_referring_unit_id_unit'), 'unit', ['referring_unit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_case_file_transfer_to_unit_id_unit'), 'unit', ['transfer_to_unit_id'], ['id'])
        batch_op.create_index('ix_case_file_unit_queue', ['unit_id', 'due_at', 'id'], unique=False, sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('ix_case_file_incoming', ['transfer_to_unit_id', 'due_at', 'id'], unique=False, sqlite_where=IN_TRANSFER, postgresql_where=IN_TRANSFER)


def downgrade() -> None:
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_incoming', sqlite_where=IN_TRANSFER, postgresql_where=IN_TRANSFER)
        batch_op.drop_index('ix_case_file_unit_queue', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_constraint(batch_op.f('fk_case_file_transfer_to_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_case_file_referring_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_case_file_unit_id_unit'), type_='foreignkey')
        batch_op.drop_column('transfer_due_at')
        batch_op.drop_column('transfer_to_unit_id')
        batch_op.drop_column('referring_unit_id')
        batch_op.drop_column('unit_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_unit'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_user_account_unit_id_unit'), type_='foreignkey')
        batch_op.drop_column('unit_id')
    op.drop_index(op.f('ix_case_unit_unit_id'), table_name='case_unit')
    op.drop_table('case_unit')
    op.drop_index('ix_unit_place', table_name='unit')
    op.drop_table('unit')
