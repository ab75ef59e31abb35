"""settings: the installation's settings an admin changed (db.admin.settings)

One row per setting that differs from its default (``name``, the value as JSON text, who
stored it and when); a setting without a row has its default, so a new setting needs no
data migration. Frozen DDL only.

Revision ID: 0004_settings
Revises: 0003_imports
Create Date: 2026-12-01 16:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0004_settings'
down_revision: str | None = '0003_imports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'app_setting',
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('value', sa.String(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_app_setting')),
    )


def downgrade() -> None:
    op.drop_table('app_setting')
