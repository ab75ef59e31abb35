"""recent ranks: each customer's newest orders' and contacts' times; a category index

"10 or more orders in the last 365 days" counted each candidate's orders (268,000 correlated
counts at a million customers, over a second; per-customer monthly counts were no faster, as
each probe costs a few microseconds however few rows it reads). ``order_ranks`` and
``contact_ranks`` hold each customer's ten newest orders' and contacts' times, ranked newest
first: at least n in a window is the n-th newest in it, one range of the ``(rank, at)``
index. Filled here from the rows on file.

``ix_orders_category_time`` reads one category's orders of a period without the others'
("bought books in the last 90 days").

Revision ID: 0013_recent_ranks
Revises: 0012_quality_check
Create Date: 2026-12-01 22:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0013_recent_ranks'
down_revision: str | None = '0012_quality_check'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f
# (table, ranked rows, their time column)
_RANKED = (('order_ranks', 'orders', 'ordered_at'), ('contact_ranks', 'interaction', 'at'))


def upgrade() -> None:
    for table, source, moment in _RANKED:
        op.create_table(
            table,
            sa.Column('customer_id', sa.Integer(), nullable=False),
            sa.Column('rank', sa.Integer(), nullable=False),
            sa.Column('at', sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                    name=_f('fk_' + table + '_customer_id_customer')),
            sa.PrimaryKeyConstraint('customer_id', 'rank', name=_f('pk_' + table)),
            sqlite_with_rowid=False,
        )
        op.execute(
            'INSERT INTO ' + table + ' (customer_id, rank, at) SELECT customer_id, rank, at '
            'FROM (SELECT customer_id, ' + moment + ' AS at, row_number() OVER (PARTITION BY '
            'customer_id ORDER BY ' + moment + ' DESC, id DESC) AS rank FROM ' + source
            + ') AS numbered WHERE rank <= 10')
        op.create_index(_f('ix_' + table + '_rank_at'), table, ['rank', 'at', 'customer_id'])
    op.create_index(_f('ix_orders_category_time'), 'orders',
                    ['category', 'ordered_at', 'customer_id'])


def downgrade() -> None:
    op.drop_index(_f('ix_orders_category_time'), table_name='orders')
    for table, _, _ in reversed(_RANKED):
        op.drop_table(table)
