"""imports: the shop's order number on orders, committed imports, saved column mappings

``orders.external_ref`` (unique, NULL for orders entered by hand) lets an import of the same
order file again find every order it already holds and add nothing. ``import_run`` records
each committed import; ``import_mapping`` keeps the column mappings a team reuses. SQLite
cannot add a UNIQUE constraint to a table, so there ``orders`` is rebuilt in batch mode
(its indexes come back with it; it has no triggers). Frozen DDL only.

Revision ID: 0003_imports
Revises: 0002_audit_true_appends
Create Date: 2026-12-01 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0003_imports'
down_revision: str | None = '0002_audit_true_appends'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f
_KINDS = "kind IN ('customers', 'orders', 'interactions')"


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'import_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('columns', sa.String(), nullable=False),
        sa.Column('options', sa.String(), nullable=False),
        sa.Column('updated_by', sa.String(length=50), nullable=False),
        sa.Column('updated_at', _timestamp(), nullable=False),
        sa.CheckConstraint(_KINDS, name=_f('ck_import_mapping_kind')),
        sa.PrimaryKeyConstraint('id', name=_f('pk_import_mapping')),
        sa.UniqueConstraint('kind', 'name', name='uq_import_mapping_kind_name'),
    )
    op.create_table(
        'import_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=50), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('mapping', sa.String(), nullable=False),
        sa.Column('counts', sa.String(), nullable=False),
        sa.Column('started_at', _timestamp(), nullable=False),
        sa.Column('finished_at', _timestamp(), nullable=False),
        sa.CheckConstraint(_KINDS, name=_f('ck_import_run_kind')),
        sa.PrimaryKeyConstraint('id', name=_f('pk_import_run')),
    )
    op.create_index(_f('ix_import_run_sha256'), 'import_run', ['sha256'], unique=False)
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('external_ref', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(_f('uq_orders_external_ref'), ['external_ref'])


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(_f('uq_orders_external_ref'), type_='unique')
        batch.drop_column('external_ref')
    op.drop_index(_f('ix_import_run_sha256'), table_name='import_run')
    op.drop_table('import_run')
    op.drop_table('import_mapping')
