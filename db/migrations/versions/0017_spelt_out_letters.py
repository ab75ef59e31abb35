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
_LETTERS = ["ł", "ß", "ø", "æ", "œ", "đ", "ð", "þ", "ı", "ħ", "ŧ"]
_PART_END = " |"
_BARS = ("|", "｜")


def _rows(dialect: str) -> sa.TextClause:
    key = "rowid" if dialect == "sqlite" else "customer_id"
    holds = " OR ".join(f"s.body LIKE :l{i}" for i in range(len(_LETTERS)))
    return sa.text(
        f"SELECT c.id, s.body, c.first_name, c.last_name, c.city FROM customer_search AS s "
        f"JOIN customer AS c ON c.id = s.{key} WHERE {holds}").bindparams(
        **{f"l{i}": f"%{letter}%" for i, letter in enumerate(_LETTERS)})


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
    dialect = connection.dialect.name
    key = "rowid" if dialect == "sqlite" else "customer_id"
    bodies, words, changed = [], [], []
    for customer_id, body, first_name, last_name, city in connection.execute(_rows(dialect)):
        if any(bar in text for bar in _BARS for text in (first_name, last_name, city or "")):
            continue
        rewritten = _rewritten(body, city)
        if rewritten is None:
            continue
        new_body, new_name = rewritten
        bodies.append({"id": customer_id, "body": new_body})
        changed.append({"id": customer_id})
        words += [{"word": word, "id": customer_id, "first": first_name, "last": last_name}
                  for word in sorted(set(new_name.split(" ")) - {""})]
    if not changed:
        return
    connection.execute(sa.text(f"UPDATE customer_search SET body = :body WHERE {key} = :id"),
                       bodies)
    connection.execute(sa.text("DELETE FROM customer_name_word WHERE customer_id = :id"),
                       changed)
    if words:
        connection.execute(sa.text(
            "INSERT INTO customer_name_word (word, customer_id, first_name, last_name) "
            "VALUES (:word, :id, :first, :last)"), words)


def downgrade() -> None:
    """Nothing to undo: the old folding finds spelt-out names as it found them before (it
    folds a typed "østergaard" to "ostergaard"); only a typed capital Ø misses them."""
