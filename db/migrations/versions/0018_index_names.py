"""index names: PostgreSQL's search index holds each customer's names beside the text

A lookup ranks the records that hold the typed text by their names. On PostgreSQL the
trigram search already reads each of those index rows (to recheck the text), and reading
the names anew from ``customer`` by id, a thousand index probes, took as long again: 4–10 ms
of a 15 ms search at a million customers. With the names in the index row, one statement
gives both.

SQLite is left as it is: its FTS5 index gives the matching rowids without reading any
row, and its read of the names by rowid costs some 2 ms.

The table is written anew rather than updated in place: an update of every row would
write each into the trigram index again and leave the old rows behind as dead space.

Revision ID: 0018_index_names
Revises: 0017_spelt_out_letters
Create Date: 2026-12-03 05:30:00
"""
from collections.abc import Sequence

from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0018_index_names'
down_revision: str | None = '0017_spelt_out_letters'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPGRADE = (
    "ALTER TABLE customer_search RENAME TO customer_search_unnamed",
    "ALTER INDEX customer_search_pkey RENAME TO customer_search_unnamed_pkey",
    "ALTER INDEX ix_customer_search_body RENAME TO ix_customer_search_unnamed_body",
    "CREATE TABLE customer_search (customer_id integer PRIMARY KEY "
    "REFERENCES customer(id) ON DELETE CASCADE, body text NOT NULL, "
    "first_name varchar(100) NOT NULL, last_name varchar(100) NOT NULL)",
    "INSERT INTO customer_search (customer_id, body, first_name, last_name) "
    "SELECT s.customer_id, s.body, c.first_name, c.last_name "
    "FROM customer_search_unnamed AS s JOIN customer AS c ON c.id = s.customer_id",
    "DROP TABLE customer_search_unnamed",
    "CREATE INDEX ix_customer_search_body ON customer_search USING gin (body gin_trgm_ops)",
    "ANALYZE customer_search",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE customer_search DROP COLUMN first_name, DROP COLUMN last_name")
