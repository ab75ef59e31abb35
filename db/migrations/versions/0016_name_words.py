"""name words: each live customer's folded name words, for one-word lookups

A one-word lookup ("krok") read up to a thousand ids from the trigram index, then each
record by id to rank the names: at a million customers, a thousand scattered reads for one
page. ``customer_name_word`` holds every word of each live customer's folded whole name with
the name itself, keyed by the word, so the names starting with a search are one range.

Filled here from the search index, whose text starts with exactly that folded name and
" |" (the application's folding cannot run in a migration). A name holding a vertical bar
("|", or the full-width "｜" that folds to it) makes that boundary ambiguous: such customers
are left out, ``python -m db.derived check`` counts them and ``rebuild`` adds them. Until
then the lookup still finds them through the trigram index.

Revision ID: 0016_name_words
Revises: 0015_category_buyers
Create Date: 2026-12-02 16:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0016_name_words'
down_revision: str | None = '0015_category_buyers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f

_UNBARRED = ("NOT (c.first_name || c.last_name LIKE '%|%' "
             "OR c.first_name || c.last_name LIKE '%｜%')")
# Each index text's first part, then its words one by one (SQLite has no split function).
_SQLITE_FILL = (
    "WITH RECURSIVE names(id, rest) AS ("
    " SELECT rowid, substr(body, 1, instr(body, ' |') - 1) || ' ' FROM customer_search),"
    " words(id, word, rest) AS ("
    " SELECT id, '', rest FROM names UNION ALL"
    " SELECT id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)"
    " FROM words WHERE rest <> '') "
    "INSERT INTO customer_name_word (word, customer_id, first_name, last_name) "
    "SELECT DISTINCT w.word, c.id, c.first_name, c.last_name FROM words AS w "
    "JOIN customer AS c ON c.id = w.id WHERE w.word <> '' AND " + _UNBARRED
    + " ORDER BY w.word, c.id")
_POSTGRESQL_FILL = (
    "INSERT INTO customer_name_word (word, customer_id, first_name, last_name) "
    "SELECT DISTINCT w.word, c.id, c.first_name, c.last_name FROM customer_search AS s "
    "JOIN customer AS c ON c.id = s.customer_id "
    "CROSS JOIN LATERAL unnest(string_to_array(split_part(s.body, ' |', 1), ' ')) AS w(word) "
    "WHERE w.word <> '' AND " + _UNBARRED)


def upgrade() -> None:
    op.create_table(
        'customer_name_word',
        sa.Column('word', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'),
                  nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE',
                                name=_f('fk_customer_name_word_customer_id_customer')),
        sa.PrimaryKeyConstraint('word', 'customer_id', name=_f('pk_customer_name_word')),
        sqlite_with_rowid=False,
    )
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.execute(_SQLITE_FILL if sqlite else _POSTGRESQL_FILL)
    op.create_index(_f('ix_customer_name_word_customer_id'), 'customer_name_word',
                    ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_table('customer_name_word')
