"""orders: a covering (customer, time, category, channel, amount) index

Segment conditions such as "bought in category X in the last 90 days" probe each customer's
orders; with the old (customer_id, ordered_at) index every probe also read the table rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_orders_customer_activity', 'orders',
                    ['customer_id', 'ordered_at', 'category', 'channel', 'amount'])
    op.drop_index('ix_orders_customer_ordered_at', table_name='orders')


def downgrade() -> None:
    op.create_index('ix_orders_customer_ordered_at', 'orders', ['customer_id', 'ordered_at'])
    op.drop_index('ix_orders_customer_activity', table_name='orders')
