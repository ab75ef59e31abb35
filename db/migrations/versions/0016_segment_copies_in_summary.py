"""segment copies in the summary

The order channels each customer has used (one bit each) and copies of the profile fields
segments test, on customer_summary, so that a segment count reads one narrow table instead of
joining the customer table (see db.models.CustomerSummary). The summary is derived data: it
is made again, with the columns segments test most first, and filled from the data already
stored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 20:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.core.types
from db.derived.summary import rebuild

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPIES = ('channels', 'live', 'country', 'status', 'gender', 'birth_date', 'income_band',
           'source', 'created_at', 'has_email', 'has_phone')


def upgrade() -> None:
    with op.batch_alter_table('customer_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_summary_gross_cents'))
    op.drop_table('customer_summary')
    op.create_table('customer_summary',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('consent_email_marketing', sa.Boolean(), nullable=False),
    sa.Column('has_email', sa.Boolean(), nullable=False),
    sa.Column('channels', sa.Integer(), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('spend_cents', sa.BigInteger(), nullable=False),
    sa.Column('latest_nps', sa.Integer(), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('last_order_at', db.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_interaction_at', db.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('first_order_at', db.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('income_band', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('has_phone', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consent_sms', sa.Boolean(), nullable=False),
    sa.Column('consent_profiling', sa.Boolean(), nullable=False),
    sa.Column('consent_third_party_sharing', sa.Boolean(), nullable=False),
    sa.Column('gross_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_summary_customer_id_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_summary'))
    )
    rebuild(op.get_bind())
    with op.batch_alter_table('customer_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_summary_gross_cents'), ['gross_cents'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_summary', schema=None) as batch_op:
        for name in _COPIES:
            batch_op.drop_column(name)
