"""vocabulary: the pick lists' values, kept by the write path

The segment builder offered the order categories found by ``SELECT DISTINCT category FROM
orders``, which reads every order (9 s at 10 million). ``vocabulary`` holds one row per field
and value in use ("order.category", "books"); every write that inserts orders adds the values
it wrote. Filled here from the orders on file.

Revision ID: 0011_vocabulary
Revises: 0010_predictions
Create Date: 2026-12-01 19:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0011_vocabulary'
down_revision: str | None = '0010_predictions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'vocabulary',
        sa.Column('field', sa.String(length=30), nullable=False),
        sa.Column('value', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('field', 'value', name=op.f('pk_vocabulary')),
    )
    op.execute("INSERT INTO vocabulary (field, value) SELECT DISTINCT 'order.category', "
               "category FROM orders WHERE category IS NOT NULL")


def downgrade() -> None:
    op.drop_table('vocabulary')
