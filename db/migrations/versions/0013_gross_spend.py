"""gross spend per customer

Spend before refunds on the per-customer summary (an upper bound on any period's revenue,
for the KPI page's top customers), then the table read from it filled again from the data
already stored. The summary itself is filled by its newest migration (0016): a fill here
would run today's summary query against this older table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 15:25:24.436199
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.kpi.recency_cells import RECENCY_CELLS

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customer_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gross_cents', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.create_index(batch_op.f('ix_customer_summary_gross_cents'), ['gross_cents'],
                              unique=False)
    RECENCY_CELLS.rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('customer_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_summary_gross_cents'))
        batch_op.drop_column('gross_cents')
