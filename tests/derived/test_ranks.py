"""The ranked newest orders and contacts and the newest order per category: what the write
path keeps equals a rebuild, and "at least n in the last N days" read from them equals
counting the rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from db.core.types import utcnow
from db.customers import profile
from db.customers.service import soft_delete_customer, update_customer
from db.derived import ranks
from db.derived.models import RANKED
from db.segments.definition import Condition, Group, Window
from db.segments.preview import count
from tests import factories
from tests.factories import ADMIN, MARKETING


def _stored(engine: Engine) -> dict[str, set[tuple]]:
    with engine.connect() as connection:
        return {table.name: set(connection.execute(select(*table.c)))
                for table in (ranks.ORDER_RANKS, ranks.CONTACT_RANKS, ranks.CATEGORY_BUYERS)}


def test_writes_keep_the_ranks_a_rebuild_computes(engine: Engine) -> None:
    now = utcnow()
    ann = factories.customer(engine, "Ann", "Lee")
    bob = factories.customer(engine, "Bob", "Ray")
    # More orders than are ranked, with two at the same moment and a refund.
    for days in range(RANKED + 2):
        factories.order(engine, ann.id, "10.00", ordered_at=now - timedelta(days=days * 30))
    factories.order(engine, ann.id, "-5.00", ordered_at=now - timedelta(days=30))
    factories.order(engine, bob.id, "7.00", ordered_at=now - timedelta(days=3))
    factories.order(engine, bob.id, "9.00", ordered_at=now - timedelta(days=9),
                    category="wine")
    update_customer(ADMIN, bob.id, 1, {"country": "AT"}, engine=engine)  # moves his rows
    calls = [factories.contact(engine, bob.id, at=now - timedelta(days=days))
             for days in (1, 40, 200)]
    profile.delete_interaction(ADMIN, calls[0].id, engine=engine)
    soft_delete_customer(ADMIN, bob.id, engine=engine)
    kept = _stored(engine)
    with engine.connect() as connection:
        assert ranks.differences(connection) == {"order_ranks": 0, "contact_ranks": 0,
                                                 "category_buyers": 0}
    assert len([row for row in kept["order_ranks"] if row[0] == ann.id]) == RANKED
    assert {row[1] for row in kept["contact_ranks"]} == {1, 2}
    assert {row[:3] for row in kept["category_buyers"]} == {
        (ann.id, "books", "DE"), (bob.id, "books", "AT"), (bob.id, "wine", "AT")}
    assert {row[3] for row in kept["category_buyers"] if row[0] == ann.id} == {now}
    with engine.begin() as connection:
        ranks.rebuild(connection)
    assert _stored(engine) == kept


def test_at_least_n_in_a_window_counts_every_row(engine: Engine) -> None:
    """Counts up to and past the ranked ones, with the window starting on a row."""
    now = utcnow()
    frequent = factories.customer(engine, "Fay", "Often")
    for days in range(1, RANKED + 4):  # one order a day, 1 to 13 days ago
        factories.order(engine, frequent.id, "10.00", ordered_at=now - timedelta(days=days))
    for wanted in (2, RANKED - 1, RANKED, RANKED + 1, RANKED + 3):
        # The last `wanted` days start exactly at the wanted-th newest order: it counts.
        for days, expected in ((wanted, 1), (wanted - 1, 0)):
            definition = Group(children=[Condition(
                field="order_count", op="ge", value=wanted,
                window=Window(kind="last_days", days=days))])
            assert count(MARKETING, definition, as_of=now, engine=engine) == expected, \
                (wanted, days)
