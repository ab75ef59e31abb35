"""name words covering: PostgreSQL's name-word key holds the names it is read for

A one-word lookup reads the names starting with the search as one range of the name words'
key, and a typo reads the customers of each word alike. SQLite keeps that table in its key
(``WITHOUT ROWID``), so a range is a few adjacent pages. PostgreSQL kept the rows in a heap
beside the key, one scattered page per name: 740 heap pages for the 758 names starting with
"mang" at a million customers, where the key itself spans eight. With the names included
in the key (``INCLUDE``) the range is read from the key alone (an index-only scan).

Revision ID: 0019_name_words_covering
Revises: 0018_index_names
Create Date: 2026-12-03 08:10:00
"""
from collections.abc import Sequence

from alembic import op

# Frozen DDL only: never import the application (db.*) here.

revision: str = '0019_name_words_covering'
down_revision: str | None = '0018_index_names'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(include: str) -> str:
    # One statement: the table is never without its key.
    return ("ALTER TABLE customer_name_word DROP CONSTRAINT pk_customer_name_word, "
            "ADD CONSTRAINT pk_customer_name_word PRIMARY KEY (word, customer_id)" + include)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_key(" INCLUDE (first_name, last_name)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_key(""))
