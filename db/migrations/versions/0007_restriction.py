"""restriction: a customer's objection ("do not contact") and restriction of processing

``customer_restriction`` keeps each period a marker held (who set it, when, why; who cleared
it, when, why); at most one open row per customer and kind. ``customer_summary`` gets a copy
of each marker so that segments and exports leave marked customers out without a join. No
customer is marked before this revision, so the copies start false. Frozen DDL only.

Revision ID: 0007_restriction
Revises: 0006_consent_history
Create Date: 2026-12-01 16:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0007_restriction'
down_revision: str | None = '0006_consent_history'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f
_OPEN = sa.text('cleared_at IS NULL')


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'customer_restriction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('set_at', _timestamp(), nullable=False),
        sa.Column('set_by', sa.String(length=50), nullable=False),
        sa.Column('cleared_at', _timestamp(), nullable=True),
        sa.Column('cleared_by', sa.String(length=50), nullable=True),
        sa.Column('clear_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint("kind IN ('do_not_contact', 'restricted')",
                           name=_f('ck_customer_restriction_kind')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f('fk_customer_restriction_customer_id_customer')),
        sa.PrimaryKeyConstraint('id', name=_f('pk_customer_restriction')),
    )
    op.create_index(_f('ix_customer_restriction_customer_id'), 'customer_restriction',
                    ['customer_id'])
    op.create_index(_f('uq_customer_restriction_current'), 'customer_restriction',
                    ['customer_id', 'kind'], unique=True, sqlite_where=_OPEN,
                    postgresql_where=_OPEN)
    with op.batch_alter_table('customer_summary') as batch:
        batch.add_column(sa.Column('do_not_contact', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('restricted', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('customer_summary') as batch:
        batch.drop_column('restricted')
        batch.drop_column('do_not_contact')
    op.drop_index(_f('uq_customer_restriction_current'), table_name='customer_restriction')
    op.drop_index(_f('ix_customer_restriction_customer_id'),
                  table_name='customer_restriction')
    op.drop_table('customer_restriction')
