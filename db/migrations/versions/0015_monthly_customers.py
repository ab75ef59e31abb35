"""monthly and weekly customers

Who ordered per UTC month and customer country, and how many per week, folded from
daily_customers (see db.kpi.buyer_cells), so a year's customer counts read twelve sets per
country. All three tables are filled here from the orders already stored (0010 only
created daily_customers, as its fill now writes all three).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 17:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from db.kpi.buyer_cells import rebuild

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('monthly_customers',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('buyers', sa.LargeBinary(), nullable=False),
    sa.Column('repeaters', sa.LargeBinary(), nullable=False),
    sa.Column('newcomers', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'country', name=op.f('pk_monthly_customers'))
    )
    op.create_table('weekly_customers',
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('week', 'country', name=op.f('pk_weekly_customers'))
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table('weekly_customers')
    op.drop_table('monthly_customers')
