"""duplicates: the stored duplicate-detection run, its candidate pairs, reviewers' verdicts

``duplicate_run`` holds the newest detection's figures, ``duplicate_candidate`` its pairs at
or above the review floor (replaced by each run), ``duplicate_decision`` a reviewer's verdict
per pair ("not the same" keeps the pair out of later runs). Pairs are stored smaller id
first. Frozen DDL only.

Revision ID: 0008_duplicates
Revises: 0007_restriction
Create Date: 2026-12-01 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0008_duplicates'
down_revision: str | None = '0007_restriction'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _pair(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column('left_id', sa.Integer(), nullable=False),
        sa.Column('right_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('left_id < right_id', name=_f(f'ck_{table}_ordered')),
        sa.ForeignKeyConstraint(['left_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f(f'fk_{table}_left_id_customer')),
        sa.ForeignKeyConstraint(['right_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f(f'fk_{table}_right_id_customer')),
        sa.PrimaryKeyConstraint('left_id', 'right_id', name=_f(f'pk_{table}')),
    ]


def upgrade() -> None:
    op.create_table(
        'duplicate_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('found_at', _timestamp(), nullable=False),
        sa.Column('found_by', sa.String(length=50), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('customers', sa.Integer(), nullable=False),
        sa.Column('compared', sa.Integer(), nullable=False),
        sa.Column('stored', sa.Integer(), nullable=False),
        sa.Column('proposed', sa.Integer(), nullable=False),
        sa.Column('skipped_blocks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=_f('pk_duplicate_run')),
    )
    op.create_table(
        'duplicate_candidate',
        *_pair('duplicate_candidate'),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('reasons', sa.String(length=1000), nullable=False),
    )
    op.create_index(_f('ix_duplicate_candidate_score'), 'duplicate_candidate', ['score'])
    op.create_index(_f('ix_duplicate_candidate_right_id'), 'duplicate_candidate',
                    ['right_id'])
    op.create_table(
        'duplicate_decision',
        *_pair('duplicate_decision'),
        sa.Column('same', sa.Boolean(), nullable=False),
        sa.Column('decided_at', _timestamp(), nullable=False),
        sa.Column('decided_by', sa.String(length=50), nullable=False),
    )
    op.create_index(_f('ix_duplicate_decision_right_id'), 'duplicate_decision', ['right_id'])


def downgrade() -> None:
    op.drop_index(_f('ix_duplicate_decision_right_id'), table_name='duplicate_decision')
    op.drop_table('duplicate_decision')
    op.drop_index(_f('ix_duplicate_candidate_right_id'), table_name='duplicate_candidate')
    op.drop_index(_f('ix_duplicate_candidate_score'), table_name='duplicate_candidate')
    op.drop_table('duplicate_candidate')
    op.drop_table('duplicate_run')
