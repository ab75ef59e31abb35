"""Exact edges, worked out by hand: whole days, birthdays, windows and cents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from db.segments.compiler import members
from db.segments.definition import Condition, Group, Window
from tests.segments.strategies import Dataset
from tests.segments.test_compiler_matches_reference import _store

AS_OF = datetime(2028, 2, 29, 8, 30, tzinfo=UTC)


def _customer(customer_id: int, **fields: object) -> dict:
    return {"id": customer_id, "first_name": "P", "last_name": str(customer_id),
            "birth_date": None, "gender": None, "country": "DE", "city": None, "postcode": None,
            "income_band": None, "occupation": None, "status": "active", "source": None,
            "email": None, "phone": None, "created_at": AS_OF - timedelta(days=900),
            "deleted_at": None} | fields


def _order(customer_id: int, at: datetime, amount: str = "10.00") -> dict:
    return {"customer_id": customer_id, "ordered_at": at, "amount": Decimal(amount),
            "category": "Books", "channel": "web"}


def _ids(engine: Engine, *conditions: Condition) -> set[int]:
    with engine.connect() as connection:
        return set(connection.execute(members(Group(children=list(conditions)), as_of=AS_OF,
                                              resolve=lambda _: None)).scalars())


@pytest.fixture
def stored(engine: Engine) -> Engine:
    data = Dataset(as_of=AS_OF)
    data.customers = [
        _customer(1, birth_date=date(2000, 2, 29)),  # 28 today (a leap day)
        _customer(2, birth_date=date(2000, 3, 1)),  # 27 until tomorrow
        _customer(3, birth_date=date(2000, 2, 28)),  # 28 since yesterday
        _customer(4, city="100%"), _customer(5, city="1000"), _customer(6, city="Ölberg"),
        _customer(7),
    ]
    exactly_30_days = AS_OF - timedelta(days=30)
    a_microsecond = timedelta(microseconds=1)
    data.orders = [_order(1, exactly_30_days), _order(2, exactly_30_days + a_microsecond),
                   _order(3, exactly_30_days - a_microsecond),
                   _order(4, AS_OF - timedelta(days=2), "0.10"), _order(4, AS_OF, "0.20"),
                   _order(5, AS_OF, "0.70"), _order(5, AS_OF, "0.10"),
                   _order(7, AS_OF, "0.10"), _order(7, AS_OF, "0.20"), _order(7, AS_OF, "0.70")]
    _store(engine, data)
    return engine


def test_days_since_counts_whole_days(stored: Engine) -> None:
    def days(op: str, value: object) -> set[int]:
        return _ids(stored, Condition(field="days_since_last_order", op=op, value=value))

    assert days("eq", 30) == {1, 3}  # 30 days exactly, and a microsecond more
    assert days("eq", 29) == {2}  # a microsecond less than 30 days
    assert days("le", 29) == {2, 4, 5, 7}
    assert days("ge", 31) == set()
    assert days("lt", 30) == {2, 4, 5, 7}


def test_ages_on_a_leap_day(stored: Engine) -> None:
    assert _ids(stored, Condition(field="age", op="eq", value=28)) == {1, 3}
    assert _ids(stored, Condition(field="age", op="eq", value=27)) == {2}
    assert _ids(stored, Condition(field="age", op="is_unknown")) == {4, 5, 6, 7}


def test_windows_include_their_first_moment(stored: Engine) -> None:
    last_30 = Window(kind="last_days", days=30)
    assert _ids(stored, Condition(field="order_count", op="ge", value=1, window=last_30)) == {
        1, 2, 4, 5, 7}
    leap_day = Window(kind="between", start=AS_OF.date(), end=AS_OF.date())
    assert _ids(stored, Condition(field="order_count", op="eq", value=1, window=leap_day)
                ) == {4}


def test_money_is_exact_in_cents(stored: Engine) -> None:
    # 0.10 + 0.20 is 0.30 and 0.70 + 0.10 is 0.80, though not in floating point.
    assert _ids(stored, Condition(field="total_spend", op="eq", value="0.3")) == {4}
    assert _ids(stored, Condition(field="total_spend", op="ge", value="0.8")) == {1, 2, 3, 5, 7}
    assert _ids(stored, Condition(field="average_order_value", op="eq", value="0.4")) == {5}
    # 1.00 over three orders is 0.333…: more than 0.33, less than 0.34, equal to neither.
    def average(op: str, value: str) -> set[int]:
        return _ids(stored, Condition(field="average_order_value", op=op, value=value)) & {7}

    assert (average("gt", "0.33"), average("lt", "0.34")) == ({7}, {7})
    assert (average("eq", "0.33"), average("ge", "0.34"), average("le", "0.33")) == (
        set(), set(), set())


def test_text_matches_literally_and_ignores_a_to_z_case(stored: Engine) -> None:
    assert _ids(stored, Condition(field="city", op="contains", value="0%")) == {4}
    assert _ids(stored, Condition(field="city", op="starts_with", value="10_")) == set()
    assert _ids(stored, Condition(field="city", op="eq", value="ÖLBERG")) == {6}
    assert _ids(stored, Condition(field="city", op="eq", value="ölberg")) == set()
    assert _ids(stored, Condition(field="city", op="ne", value="1000")) == {1, 2, 3, 4, 6, 7}


def test_channels_ever_come_from_the_summary_bits(engine: Engine) -> None:
    """Any, all and none of several channels, read from the bits and not from the orders."""
    data = Dataset(as_of=AS_OF)
    data.customers = [_customer(1), _customer(2), _customer(3), _customer(4)]
    data.orders = [_order(1, AS_OF) | {"channel": "app"},
                   _order(2, AS_OF) | {"channel": "app"}, _order(2, AS_OF) | {"channel": "web"},
                   _order(3, AS_OF) | {"channel": "phone"}]
    _store(engine, data)

    def channel(op: str, *names: str) -> set[int]:
        return _ids(engine, Condition(field="channel", op=op, value=list(names)))

    assert channel("has_any", "app", "web") == {1, 2}
    assert channel("has_all", "app", "web") == {2}
    assert channel("has_all", "app") == {1, 2}
    assert channel("has_none", "web", "phone") == {1, 4}
    assert channel("has_any", "marketplace") == set()
    # A channel named twice is one bit, not the sum of two ("web" + "web" would be "store"'s bit).
    assert channel("has_any", "web", "web") == {2}
    assert channel("has_none", "web", "web") == {1, 3, 4}


def test_buyers_beside_a_country_are_read_for_that_country_only_under_all(
        engine: Engine) -> None:
    """"Country is …" narrows the buyers read under "all of" (at any depth, negated or
    not) and never under "any of", where buyers elsewhere still count."""
    data = Dataset(as_of=AS_OF)
    data.customers = [_customer(1), _customer(2, country="FR"), _customer(3, country="US"),
                      _customer(4, country="FR")]
    recent, old = AS_OF - timedelta(days=3), AS_OF - timedelta(days=40)
    data.orders = [_order(1, recent), _order(2, recent), _order(3, recent), _order(4, old)]
    _store(engine, data)
    books = Condition(field="category", op="has_any", value=["Books"],
                      window=Window(kind="last_days", days=7))
    no_books = Condition(field="category", op="has_none", value=["Books"],
                         window=Window(kind="last_days", days=7))
    france = Condition(field="country", op="eq", value="FR")
    europe = Condition(field="country", op="in", value=["DE", "FR"])

    def ids(match: str, *children: Condition | Group, negate: bool = False) -> set[int]:
        with engine.connect() as connection:
            return set(connection.execute(members(
                Group(match=match, negate=negate, children=list(children)), as_of=AS_OF,
                resolve=lambda _: None)).scalars())

    assert ids("all", france, books) == {2}
    assert ids("all", europe, france, books) == {2}
    assert ids("all", france, no_books) == {4}
    assert ids("any", france, books) == {1, 2, 3, 4}
    assert ids("all", europe, Group(match="any", children=[books, france])) == {1, 2, 4}
    assert ids("all", europe, Group(match="all", negate=True, children=[books])) == {4}
    assert ids("any", europe, books, negate=True) == set()
    assert ids("all", france, books, negate=True) == {1, 3, 4}
