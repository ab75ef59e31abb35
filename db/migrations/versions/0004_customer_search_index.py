"""customer search index

An FTS5 trigram table on SQLite, a pg_trgm-indexed table on PostgreSQL, filled from the
customers already stored. It lives outside the SQLModel metadata because its shape differs
per engine (see db.search.index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:06:00
"""
from collections.abc import Sequence

from alembic import op

from db.search.index import create_ddl, rebuild

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in create_ddl(bind.dialect.name):
        op.execute(statement)
    rebuild(bind)


def downgrade() -> None:
    op.execute('DROP TABLE customer_search')
