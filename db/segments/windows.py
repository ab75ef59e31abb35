"""Behaviour in time: a condition's window over a customer's orders and contacts, how many
of them fall in it, and days or dates of the summary's moments, relative to one evaluation
time.

Each figure is first narrowed by what the summary row already says (too few orders ever,
none since the window began), so that the customer's own rows are read, through the
(customer, time) indexes, only for those who may still match. Which of the ways to read
them wins, and why, is said where it is chosen; the measured figures are in
``bench/RESULTS.md`` ("Segment compiler: choices measured").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, literal, not_, select, true

from db.core.sql import cents as amount_cents
from db.derived.models import RANKED
from db.derived.ranks import CATEGORY_BUYERS
from db.segments.comparisons import compare, texts, whole
from db.segments.definition import Condition, Window
from db.segments.rows import KEY, ORDERS, S

# Windows up to this many days read all their rows once; longer ones probe each customer.
SHORT_WINDOW_DAYS = 120


@dataclass(frozen=True)
class Windows:
    """Time windows and counts within them, as of ``as_of``."""

    as_of: datetime

    def cutoff(self, days: int) -> datetime:
        return self.as_of - timedelta(days=days)

    def bounds(self, column: ColumnElement[Any],
               window: Window | None) -> list[ColumnElement[bool]]:
        """``column`` within ``window`` (nothing for "ever")."""
        if ever(window):
            return []
        assert window is not None
        if window.kind == "last_days":
            return [column >= self.cutoff(int(window.days or 0))]
        assert window.start is not None and window.end is not None
        return [column >= midnight(window.start),
                column < midnight(window.end + timedelta(days=1))]

    def order_figures(self, window: Window | None
                      ) -> tuple[ColumnElement[int], ColumnElement[int]]:
        """(how many orders, their sum in cents) of the outer customer in ``window``: the
        summary's columns for "ever", correlated probes of the orders otherwise."""
        if ever(window):
            return S.order_count, S.spend_cents

        def probe(aggregate: ColumnElement[int]) -> ColumnElement[int]:
            return (select(aggregate).select_from(ORDERS)
                    .where(ORDERS.c.customer_id == KEY, *self.bounds(ORDERS.c.ordered_at, window))
                    .scalar_subquery())

        spend = func.coalesce(func.sum(amount_cents(ORDERS.c.amount)), 0)
        return probe(func.count()), probe(spend)

    def possible(self, window: Window | None, newest: ColumnElement[Any],
                 total: ColumnElement[Any] | None, count: int) -> list[ColumnElement[bool]]:
        """What the summary row must show for a customer to have ``count`` rows in ``window``.

        Necessary, not sufficient: a probe after it still decides, but only for the customers
        who pass. ``newest`` is the customer's newest row of any kind, ``total`` how many it
        has ever had. It keeps "2 contacts but no order in 180 days" from probing the
        contacts of customers who cannot match.
        """
        possible = []
        if total is not None and (count > 1 or ever(window)):  # a newest row implies one
            possible.append(total >= count)
        if not ever(window):
            start = self.bounds(newest, window)[0]  # newest >= the window's start
            possible.extend([newest.is_not(None), start])
        return possible

    def counted(self, table: Table, window: Window | None, where: list[ColumnElement[bool]],
                op: str, value: object, *, newest: ColumnElement[Any], ranks: Table,
                total: ColumnElement[Any] | None = None,
                narrowed: bool = False) -> ColumnElement[bool]:
        """A comparison on how many of a customer's rows match ``where``.

        ``where`` is the window, plus a filter when ``narrowed``; ``ranks`` holds each
        customer's newest rows of ``table`` ranked (:mod:`db.derived.ranks`). Without a
        filter, "at least one in the last N days" is the summary's newest row alone, and "at
        least n" the customers whose n-th newest row is in the window, read once from the
        ranks (beyond the ranked rows, those whose last ranked one is, probed). Otherwise the
        summary rules out who cannot match, then "at least one" in a short window reads the
        window's rows once (a time-range scan) and the rest probe each remaining customer's
        rows. Grouping the window by customer made SQLite scan the whole table in customer
        order, and a set of 180 days of orders cost more to build than the probes.
        """
        last_days = not narrowed and window is not None and window.kind == "last_days"

        def at_least(count: int) -> ColumnElement[bool]:
            if count <= 0:
                return true()
            possible = self.possible(window, newest, total, count)
            if count == 1 and last_days:
                return and_(*possible)
            if last_days and count <= RANKED:
                return and_(*possible, self._ranked(ranks, count, window))
            if last_days:
                possible.append(self._ranked(ranks, RANKED, window))
            if count == 1 and _short(window):
                return and_(*possible, _customers_with(table, where))
            probe = select(func.count()).select_from(table).where(
                table.c.customer_id == KEY, *where).scalar_subquery()
            return and_(*possible, probe >= count)

        return compare(op, value, at_least, lambda count: not_(at_least(count + 1)))

    def _ranked(self, ranks: Table, rank: int, window: Window | None) -> ColumnElement[bool]:
        """Customers whose ``rank``-th newest row is in the last-days ``window``: those with
        at least ``rank`` rows in it. One range of the ``(rank, at)`` index, read once."""
        return KEY.in_(select(ranks.c.customer_id).where(
            ranks.c.rank == rank, *self.bounds(ranks.c.at, window)))

    def bought(self, column: ColumnElement[Any], condition: Condition, op: str, *,
               countries: frozenset[str] | None = None) -> ColumnElement[bool]:
        """Has any, all or (through NOT) none of the values in ``column`` of the customer's
        orders, at least ``min_count`` times, within the condition's window.

        ``countries``: the customers asked about are known to live in one of them (an
        enclosing "all of" requires it). For categories, "at least once in the last N days"
        then reads the buyers kept with their country (``category_buyers``) in those
        countries only, where the window's orders of every country had to be made distinct
        and each buyer's summary read: the answer is the same for everyone asked.
        """
        window = self.bounds(ORDERS.c.ordered_at, condition.window)
        times = condition.min_count or 1
        possible = self.possible(condition.window, S.last_order_at, S.order_count, times)
        by_country = (countries is not None and column is ORDERS.c.category and times == 1
                      and condition.window is not None and condition.window.kind == "last_days"
                      and _short(condition.window))

        def bought(values: list[str]) -> ColumnElement[bool]:
            if by_country:
                assert countries is not None
                buyers = CATEGORY_BUYERS.c
                return and_(*possible, KEY.in_(select(buyers.customer_id).where(
                    buyers.category.in_(values), buyers.country.in_(sorted(countries)),
                    *self.bounds(buyers.last_at, condition.window))))
            where = [*window, column.in_(values)]
            if window and times == 1 and _short(condition.window):  # one pass over it
                return and_(*possible, _customers_with(ORDERS, where))
            where.append(ORDERS.c.customer_id == KEY)  # probe this customer's rows
            if times == 1:
                return and_(*possible, _exists(*where))
            return and_(*possible, select(func.count()).select_from(ORDERS).where(
                *where).scalar_subquery() >= times)

        if op == "has_all":
            return and_(*(bought([value]) for value in texts(condition.value)))
        return bought(texts(condition.value))

    def moment(self, column: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
        """in the last N days, more than N days ago, between dates (both days included)."""
        if op == "is_known":
            return column.is_not(None)
        if op == "in_last_days":
            test = column >= self.cutoff(whole(value))
        elif op == "more_than_days_ago":
            test = column < self.cutoff(whole(value))
        else:
            first, last = (date.fromisoformat(item) for item in texts(value))
            test = and_(column >= midnight(first),
                        column < midnight(last + timedelta(days=1)))
        return and_(column.is_not(None), test)

    def days_since(self, column: ColumnElement[Any], op: str,
                   value: object) -> ColumnElement[bool]:
        """Whole days before ``as_of``: at least N ⇔ at or before as_of − N days."""
        if op == "is_known":
            return column.is_not(None)

        def at_least(days: int) -> ColumnElement[bool]:
            return column <= self.cutoff(days)

        def at_most(days: int) -> ColumnElement[bool]:
            return column > self.cutoff(days + 1)

        return and_(column.is_not(None), compare(op, value, at_least, at_most))


def _customers_with(table: Table, where: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """Customers with a row in ``table`` matching ``where`` (a time window among them).

    An uncorrelated subquery, computed once per query: it reads only the window's rows
    through the time-first covering index, where probing every customer costs a lookup
    per customer.
    """
    return KEY.in_(select(table.c.customer_id).where(*where))


def _exists(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS (SELECT 1 ...): with ``SELECT *`` SQLite reads table rows a covering index
    would have answered."""
    return select(literal(1)).where(*where).exists()


def _short(window: Window | None) -> bool:
    """A window short enough that reading all its rows beats probing every customer
    (90 days does, 180 days does not)."""
    if window is None or window.kind == "ever":
        return False
    if window.kind == "last_days":
        return (window.days or 0) <= SHORT_WINDOW_DAYS
    assert window.start is not None and window.end is not None
    return (window.end - window.start).days < SHORT_WINDOW_DAYS


def ever(window: Window | None) -> bool:
    return window is None or window.kind == "ever"


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)

