"""name vocabulary: the distinct name words, one key range for a lone typo's candidates

A lone typo is compared with the distinct name words starting with its first letter. Read
from ``customer_name_word`` that was one index probe per distinct word: 5–10 ms of a
PostgreSQL search at a million customers. This table holds each word once, in byte order on
both engines, filled here from the name words and kept by the write path.

Revision ID: 0020_name_vocabulary
Revises: 0019_name_words_covering
Create Date: 2026-12-03 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL only: never import the application (db.*) here.

revision: str = '0020_name_vocabulary'
down_revision: str | None = '0019_name_words_covering'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_name_vocabulary",
        sa.Column("word", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"),
                  nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_customer_name_vocabulary")),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO customer_name_vocabulary (word) "
               "SELECT DISTINCT word FROM customer_name_word")


def downgrade() -> None:
    op.drop_table("customer_name_vocabulary")
