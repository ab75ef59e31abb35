"""customer months

Each customer's spend before refunds per UTC month, for the KPI page's top customers
(see db.kpi.month_cells), filled from the orders already stored before it is indexed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 17:17:38.456900
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.kpi.month_cells import MONTH_CELLS

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_months',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('gross_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'month', name=op.f('pk_customer_months')),
    sqlite_with_rowid=False,
    )
    MONTH_CELLS.rebuild(op.get_bind())
    with op.batch_alter_table('customer_months', schema=None) as batch_op:
        batch_op.create_index('ix_customer_months_month_gross',
                              ['month', 'gross_cents', 'customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_months', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_months_month_gross')
    op.drop_table('customer_months')
