"""when an interaction was logged

``interaction.logged_at``: when staff logged the contact in the app, so its author or an
admin may correct or delete it for a day afterwards. Rows already stored keep NULL: when
they were logged is not known, so they are no longer changeable.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 05:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('interaction', sa.Column('logged_at', sa.DateTime(timezone=True),
                                           nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.drop_column('logged_at')
