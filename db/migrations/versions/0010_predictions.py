"""predictions: each fit of the purchase and spend models, and the newest scores

``prediction_fit`` keeps every fit (parameters and holdout check as JSON text);
``customer_prediction`` one row per live customer of the newest fit, replaced by the next.
Frozen DDL only.

Revision ID: 0010_predictions
Revises: 0009_merge
Create Date: 2026-12-01 19:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0010_predictions'
down_revision: str | None = '0009_merge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f


def upgrade() -> None:
    op.create_table(
        'prediction_fit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fitted_by', sa.String(length=50), nullable=False),
        sa.Column('unit', sa.String(length=10), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('customers_scored', sa.Integer(), nullable=False),
        sa.Column('buyers', sa.Integer(), nullable=False),
        sa.Column('repeat_buyers', sa.Integer(), nullable=False),
        sa.Column('monthly_discount', sa.Float(), nullable=False),
        sa.Column('holdout', sa.Text(), nullable=True),
        sa.Column('holdout_problem', sa.String(length=500), nullable=True),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=_f('pk_prediction_fit')),
    )
    op.create_table(
        'customer_prediction',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('fit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.SmallInteger(), nullable=False),
        sa.Column('repeat_purchases', sa.Integer(), nullable=False),
        sa.Column('first_purchase_on', sa.Date(), nullable=True),
        sa.Column('last_purchase_on', sa.Date(), nullable=True),
        sa.Column('p_alive', sa.Float(), nullable=True),
        sa.Column('expected_purchases_90d', sa.Float(), nullable=True),
        sa.Column('expected_spend', sa.Float(), nullable=True),
        sa.Column('value_12m', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f('fk_customer_prediction_customer_id_customer')),
        sa.ForeignKeyConstraint(['fit_id'], ['prediction_fit.id'], ondelete='CASCADE',
                                name=_f('fk_customer_prediction_fit_id_prediction_fit')),
        sa.PrimaryKeyConstraint('customer_id', name=_f('pk_customer_prediction')),
    )
    op.create_index(_f('ix_customer_prediction_fit_id'), 'customer_prediction', ['fit_id'])
    op.create_index(_f('ix_customer_prediction_p_alive'), 'customer_prediction', ['p_alive'])
    op.create_index(_f('ix_customer_prediction_value_12m'), 'customer_prediction',
                    ['value_12m'])


def downgrade() -> None:
    op.drop_index(_f('ix_customer_prediction_value_12m'), table_name='customer_prediction')
    op.drop_index(_f('ix_customer_prediction_p_alive'), table_name='customer_prediction')
    op.drop_index(_f('ix_customer_prediction_fit_id'), table_name='customer_prediction')
    op.drop_table('customer_prediction')
    op.drop_table('prediction_fit')
