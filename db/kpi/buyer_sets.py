"""Who ordered over any span of days, from the stored sets of :mod:`db.derived.buyer_cells`.

Distinct customers over a span are unions of sets; customers with two or more orders in it
are a fold over them. A span is read as whole calendar months (``monthly_customers``) and
the days of the months it covers only in part (``daily_customers``): a 365-day period's
counts then fold about a hundred sets instead of 3,300. A customer has one country, so
within one day or month at most one row holds them, and rows of different countries never
need merging first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
from pyroaring import BitMap
from sqlalchemy import Connection, String, Table, cast, false, or_, select

from db.derived.buyer_cells import KINDS, MONTHLY
from db.derived.buyer_cells import TABLE as DAILY

Span = tuple[date, date]  # first and last day, both included


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def pieces(first: date, last: date) -> tuple[list[Span], Span | None]:
    """The day ranges of the months a span covers in part, and the first days of the first
    and last months it covers whole (None when it covers none)."""
    whole_from = first if first.day == 1 else _month_after(first)
    whole_to = last if _month_after(last) - timedelta(days=1) == last else (
        last.replace(day=1) - timedelta(days=1))
    if whole_from > whole_to:
        return [(first, last)], None
    days = []
    if first < whole_from:
        days.append((first, whole_from - timedelta(days=1)))
    if whole_to < last:
        days.append((whole_to + timedelta(days=1), last))
    return days, (whole_from, whole_to.replace(day=1))


def _merged(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or adjacent ranges joined, in order."""
    joined: list[Span] = []
    for first, last in sorted(spans):
        if joined and first <= joined[-1][1] + timedelta(days=1):
            joined[-1] = (joined[-1][0], max(last, joined[-1][1]))
        else:
            joined.append((first, last))
    return joined


class _Rows:
    """Rows of one table in key order (keys as ISO text, which sorts like the dates), each
    set decoded when first used."""

    def __init__(self, connection: Connection, table: Table, ranges: list[Span],
                 countries: tuple[str, ...]) -> None:
        key = table.c[table.primary_key.columns.keys()[0]]
        # Keys as text: the driver parsing every date key is slower than reading text.
        query = (select(cast(key, String), table.c.country, *(table.c[kind] for kind in KINDS))
                 .where(or_(false(), *(key.between(first, last) for first, last in ranges)))
                 .order_by(key))
        if countries:
            query = query.where(table.c.country.in_(countries))
        rows = connection.execute(query).all()
        self.keys = [row[0] for row in rows]
        self.countries = [row[1] for row in rows]
        self._blobs = {kind: [row[2 + index] for row in rows]
                       for index, kind in enumerate(KINDS)}
        self._sets: dict[str, list[BitMap | None]] = {kind: [None] * len(rows)
                                                      for kind in KINDS}

    def span(self, first: date, last: date) -> range:
        return range(bisect_left(self.keys, first.isoformat()),
                     bisect_right(self.keys, last.isoformat()))

    def set(self, kind: str, index: int) -> BitMap:
        found = self._sets[kind][index]
        if found is None:
            found = self._sets[kind][index] = BitMap.deserialize(self._blobs[kind][index])
        return found


class WhoOrdered:
    """The sets that the ``spans`` named up front need, narrowed to some countries and
    members; asking about another span is an error, not a silent undercount."""

    def __init__(self, connection: Connection, spans: Iterable[Span],
                 countries: tuple[str, ...] = (), members: Iterable[int] | None = None
                 ) -> None:
        self._spans = set(spans)
        days: list[Span] = []
        months: list[Span] = []
        for first, last in self._spans:
            partial, whole = pieces(first, last)
            days += partial
            if whole:
                months.append(whole)
        self._days = _Rows(connection, DAILY, _merged(days), countries)
        self._months = _Rows(connection, MONTHLY, _merged(months), countries)
        self._members = None if members is None else BitMap(
            np.asarray(list(members), dtype=np.uint32))
        self._found: dict[tuple[str, date, date], BitMap] = {}

    def _rows(self, first: date, last: date) -> list[tuple[_Rows, int]]:
        if (first, last) not in self._spans:
            raise LookupError(f"{first}..{last} was not read")
        partial, whole = pieces(first, last)
        rows = [(self._days, index) for day_range in partial
                for index in self._days.span(*day_range)]
        if whole:
            rows += [(self._months, index) for index in self._months.span(*whole)]
        return rows

    def _narrow(self, found: BitMap) -> BitMap:
        return found & self._members if self._members is not None else found

    def union(self, kind: str, first: date, last: date) -> BitMap:
        """Everyone in a ``kind`` set in the span (shared: not to be changed in place, as
        spans recur; a 365-day period's year earlier is its previous period)."""
        key = (kind, first, last)
        if key not in self._found:
            self._found[key] = self._narrow(BitMap.union(BitMap(), *(
                table.set(kind, index) for table, index in self._rows(first, last))))
        return self._found[key]

    def repeaters(self, first: date, last: date) -> BitMap:
        """Customers with two or more orders in the span: in one row, or in two."""
        key = ("two or more", first, last)
        if key not in self._found:
            seen, twice = BitMap(), BitMap()
            for table, index in self._rows(first, last):
                buyers = table.set("buyers", index)
                twice |= table.set("repeaters", index)
                twice |= seen & buyers
                seen |= buyers
            self._found[key] = self._narrow(twice)
        return self._found[key]

    def buyers_by_country(self, first: date, last: date) -> dict[str, BitMap]:
        """The span's buyers per customer country."""
        per_country: dict[str, list[BitMap]] = {}
        for table, index in self._rows(first, last):
            per_country.setdefault(table.countries[index], []).append(
                table.set("buyers", index))
        return {country: self._narrow(BitMap.union(BitMap(), *sets))
                for country, sets in per_country.items()}
