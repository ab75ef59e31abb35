"""category buyers: each customer's newest order per category, with the customer's country

"Bought books in the last 90 days, in DE or AT" read the window's book orders (100,000 at a
million customers), made them distinct and looked up each buyer's summary for the country:
4.5× DuckDB's hash join. ``category_buyers`` holds one row per customer and category with
the newest order's time and the customer's country, so the same condition is one range of
``(category, country, last_at)``: the buyers in those countries, read once. Filled here from
the rows on file.

Revision ID: 0015_category_buyers
Revises: 0014_contact_covering
Create Date: 2026-12-02 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0015_category_buyers'
down_revision: str | None = '0014_contact_covering'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f


def upgrade() -> None:
    op.create_table(
        'category_buyers',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f('fk_category_buyers_customer_id_customer')),
        sa.PrimaryKeyConstraint('customer_id', 'category', name=_f('pk_category_buyers')),
        sqlite_with_rowid=False,
    )
    op.execute(
        'INSERT INTO category_buyers (customer_id, category, country, last_at) '
        'SELECT o.customer_id, o.category, c.country, max(o.ordered_at) FROM orders AS o '
        'JOIN customer AS c ON c.id = o.customer_id '
        'GROUP BY o.customer_id, o.category, c.country')
    op.create_index(_f('ix_category_buyers_category_country_at'), 'category_buyers',
                    ['category', 'country', 'last_at', 'customer_id'])


def downgrade() -> None:
    op.drop_table('category_buyers')
