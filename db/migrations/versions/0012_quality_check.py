"""quality_check: the newest data-quality check, kept in the database

The Data quality page judged every stored phone anew in each server process (about 40 µs a
number: 43 s of the first report at a million customers), so the first visit after every
restart waited for it. ``quality_check`` keeps the newest report, the first customers of
each list and the verdict on every phone; the page shows it at once and checks again only
what changed.

Revision ID: 0012_quality_check
Revises: 0011_vocabulary
Create Date: 2026-12-01 22:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0012_quality_check'
down_revision: str | None = '0011_vocabulary'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'quality_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=200), nullable=False),
        sa.Column('stamp', sa.String(length=1000), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.Column('lists', sa.Text(), nullable=False),
        sa.Column('phone_ids', sa.LargeBinary(), nullable=False),
        sa.Column('phone_keys', sa.LargeBinary(), nullable=False),
        sa.Column('phone_valid', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_check')),
    )


def downgrade() -> None:
    op.drop_table('quality_check')
