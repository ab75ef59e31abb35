"""covering indexes of each customer's contacts and answers by time

The KPI page narrowed to a segment counts its members' contacts (per kind) and answers
(per score band) of the shown days. With ``kind`` and ``nps_score`` after ``(customer_id,
at, id)`` both are read from the index alone, one seek per member: without them PostgreSQL
preferred reading every contact of the days (962,000 at a million customers, 0.3 s) to a
lookup of each row's kind. The ``(customer_id, at, id)`` prefix keeps the order the
narrower indexes gave (on SQLite through the row id they ended in): a customer's newest
contact or answer, the later row on a tie, is still the first entry read backwards.

Revision ID: 0014_contact_covering
Revises: 0013_recent_ranks
Create Date: 2026-12-02 09:30:00
"""
from collections.abc import Sequence

from alembic import op

# Frozen DDL only: never import the application (db.*) here.

revision: str = '0014_contact_covering'
down_revision: str | None = '0013_recent_ranks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f
# (table, the narrower index, the covering index, the column it adds after the id)
_INDEXES = (('interaction', 'ix_interaction_customer_at', 'ix_interaction_customer_at_kind',
             'kind'),
            ('feedback', 'ix_feedback_customer_at', 'ix_feedback_customer_at_score',
             'nps_score'))


def upgrade() -> None:
    for table, narrow, covering, column in _INDEXES:
        op.create_index(_f(covering), table, ['customer_id', 'at', 'id', column])
        op.drop_index(_f(narrow), table_name=table)


def downgrade() -> None:
    for table, narrow, covering, _ in reversed(_INDEXES):
        op.create_index(_f(narrow), table, ['customer_id', 'at'])
        op.drop_index(_f(covering), table_name=table)
