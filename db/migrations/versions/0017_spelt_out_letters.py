"""spelt-out letters: the search text of names with ø, æ, œ, đ, ð, þ, ı, ħ, ŧ folded anew

Folding for search strips marks from letters (é → e), but letters that Unicode does not
write as a base letter and a mark stayed as they were, and the capital Ø stayed "ø" while
the small ø became "o": "Østergaard" was indexed as "østergaard", so a lookup typed
"østergaard" or "ostergaard" did not find it. The application now spells these letters out
after lower-casing (``db.derived.search_index.SPELT_OUT``).

This rewrites what the old folding stored: the name (the index text's first part) and the
city (its last part, when the customer has one) of each index row holding such a letter,
and the customer's name words. The e-mail and reference parts are stored as typed, not
folded, and are left as they are. The new folding is the old one followed by spelling out,
so spelling out the stored text gives what the application would write. A name or city
holding a vertical bar ("|", or the full-width "｜" that folds to it) makes the parts'
boundaries ambiguous: such customers are left, ``python -m db.derived check`` counts them
and ``rebuild`` rewrites them, as migration 0016 did for the name words.

Revision ID: 0017_spelt_out_letters
Revises: 0016_name_words
Create Date: 2026-12-03 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0017_spelt_out_letters'
down_revision: str | None = '0016_name_words'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The application's SPELT_OUT as of this revision.
_SPELT_OUT = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d",
                            "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"})
_LETTERS = [chr(code) for code in _SPELT_OUT]
_PART_END = " |"
_BARS = ("|", "｜")


def _tables(dialect: str) -> tuple[sa.TableClause, sa.ColumnClause, sa.TableClause,
                                   sa.TableClause]:
    """The index, its customer key (the rowid of SQLite's FTS5 table), the customers and
    the name words, as of this revision."""
    key = "rowid" if dialect == "sqlite" else "customer_id"
    index = sa.table("customer_search", sa.column(key), sa.column("body"))
    customers = sa.table("customer", sa.column("id"), sa.column("first_name"),
                         sa.column("last_name"), sa.column("city"))
    words = sa.table("customer_name_word", sa.column("word"), sa.column("customer_id"),
                     sa.column("first_name"), sa.column("last_name"))
    return index, index.c[key], customers, words


def _rewritten(body: str, city: str | None) -> tuple[str, str] | None:
    """The index text with its name and city spelt out, and the name; None when neither
    changes. The text is each part followed by " |", the parts joined by a space: the
    name first and, when the customer has one, the city last."""
    name, _, rest = body.partition(_PART_END)
    if city and rest:
        before, between, last = rest.removeprefix(" ").removesuffix(_PART_END).rpartition(
            " | ")
        rest = " " + before + between + last.translate(_SPELT_OUT) + _PART_END
    new_name = name.translate(_SPELT_OUT)
    new_body = new_name + _PART_END + rest
    return None if new_body == body else (new_body, new_name)


def upgrade() -> None:
    connection = op.get_bind()
    index, key, customers, words = _tables(connection.dialect.name)
    rows = connection.execute(
        sa.select(customers.c.id, index.c.body, customers.c.first_name, customers.c.last_name,
                  customers.c.city)
        .select_from(index.join(customers, customers.c.id == key))
        .where(sa.or_(*(index.c.body.like(f"%{letter}%") for letter in _LETTERS))))
    bodies, new_words, changed = [], [], []
    for customer_id, body, first_name, last_name, city in rows:
        if any(bar in text for bar in _BARS for text in (first_name, last_name, city or "")):
            continue
        rewritten = _rewritten(body, city)
        if rewritten is None:
            continue
        new_body, new_name = rewritten
        bodies.append({"customer": customer_id, "text": new_body})
        changed.append({"customer": customer_id})
        new_words += [{"word": word, "customer_id": customer_id, "first_name": first_name,
                       "last_name": last_name}
                      for word in sorted(set(new_name.split(" ")) - {""})]
    if not changed:
        return
    connection.execute(sa.update(index).where(key == sa.bindparam("customer"))
                       .values(body=sa.bindparam("text")), bodies)
    connection.execute(sa.delete(words).where(
        words.c.customer_id == sa.bindparam("customer")), changed)
    if new_words:
        connection.execute(sa.insert(words), new_words)


def downgrade() -> None:
    """Nothing to undo: the old folding finds spelt-out names as it found them before (it
    folds a typed "østergaard" to "ostergaard"); only a typed capital Ø misses them."""
