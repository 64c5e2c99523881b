"""workflow core: definitions, users, cases, events

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 11:02:14.598508
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('ministry', sa.String(length=20), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role IN ('case_worker', 'supervisor')) = (ministry IS NOT NULL)", name=op.f('ck_user_account_ministry')),
    sa.CheckConstraint("role IN ('case_worker', 'supervisor', 'auditor', 'admin')", name=op.f('ck_user_account_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('workflow_definition',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'version', name=op.f('pk_workflow_definition'))
    )
    op.create_table('case_file',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('workflow_name', sa.String(length=64), nullable=False),
    sa.Column('workflow_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('ministry', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('age_at_intake', sa.Integer(), nullable=True),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('province_of_origin', sa.String(length=64), nullable=True),
    sa.Column('referring_ministry', sa.String(length=20), nullable=False),
    sa.Column('referral_channel', sa.String(length=32), nullable=False),
    sa.Column('referral_date', sa.Date(), nullable=False),
    sa.Column('country_of_exploitation', sa.String(length=2), nullable=True),
    sa.Column('objects_to_country_notification', sa.Boolean(), nullable=False),
    sa.Column('legal', sa.JSON(), nullable=False),
    sa.Column('closure_reason', sa.String(length=32), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_file_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['workflow_name', 'workflow_version'], ['workflow_definition.name', 'workflow_definition.version'], name=op.f('fk_case_file_workflow_name_workflow_version_workflow_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('reference', name=op.f('uq_case_file_reference'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_file_queue', ['ministry', 'due_at', 'id'], unique=False, sqlite_where=sa.text('due_at IS NOT NULL'), postgresql_where=sa.text('due_at IS NOT NULL'))

    op.create_table('idempotency_record',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotency_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_record'))
    )
    op.create_table('case_event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stream', sa.String(length=40), nullable=False),
    sa.Column('stream_seq', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=True),
    sa.Column('from_state', sa.String(length=64), nullable=True),
    sa.Column('to_state', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('ministry', sa.String(length=20), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_event_case_id_case_file')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_case_event')),
    sa.UniqueConstraint('stream', 'stream_seq', name=op.f('uq_case_event_stream_stream_seq'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)

    op.create_table('case_ministry',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('ministry', sa.String(length=20), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_ministry_case_id_case_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'ministry', name=op.f('pk_case_ministry'))
    )
    with op.batch_alter_table('case_ministry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ministry_ministry'), ['ministry'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=20), nullable=False),
    sa.Column('given_by', sa.String(length=24), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_consent_case_id_case_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_case_id'), ['case_id'], unique=False)

    op.create_table('victim',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('identity_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('trafficking', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_victim_case_id_case_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_victim'))
    )


def downgrade() -> None:
    op.drop_table('victim')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_case_id'))

    op.drop_table('consent')
    with op.batch_alter_table('case_ministry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ministry_ministry'))

    op.drop_table('case_ministry')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    op.drop_table('idempotency_record')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_queue', sqlite_where=sa.text('due_at IS NOT NULL'), postgresql_where=sa.text('due_at IS NOT NULL'))

    op.drop_table('case_file')
    op.drop_table('workflow_definition')
    op.drop_table('user_account')
