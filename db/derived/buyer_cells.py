"""Keeps ``daily_customers`` current: who ordered each UTC day, per customer country.

Each cell holds three sets of customer ids as roaring bitmaps (pyroaring): the buyers (an
order of zero or more), the repeaters (two or more such orders) and the newcomers (their
first order of all, refunds included, as in ``customer_summary``). Distinct customers over
any period are then unions of a few hundred small sets.

``monthly_customers`` holds the same sets per calendar month (:func:`by_month`), so a
year's counts fold twelve sets per country rather than 365, and ``weekly_customers`` the
number of buyers and first-time buyers per week (:func:`by_week`).

A write that touches some customers reads their memberships before and after it (:func:`read`,
through :func:`db.derived.kpi_tables.kept_current`) and adds or removes their ids in the cells
that changed (:func:`move`), then folds the changed months and weeks again from their days; on
PostgreSQL the cells are locked while they change, so concurrent writes do not lose ids.
:func:`rebuild` computes every cell from the orders; a test checks the two agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import TypeVar

import numpy as np
from pyroaring import BitMap
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.core.sql import IDS, UtcDay, ids_parameter, table_of
from db.derived.models import DailyCustomers, MonthlyCustomers, WeeklyCustomers
from db.derived.summed_cells import count_if
from db.models import Customer, Order

TABLE = table_of(DailyCustomers)
MONTHLY = table_of(MonthlyCustomers)
WEEKLY = table_of(WeeklyCustomers)
_ORDERS = table_of(Order).c
_CUSTOMERS = table_of(Customer)
KINDS = ("buyers", "repeaters", "newcomers")
_EMPTY = BitMap().serialize()
_BATCH = 500_000
_EPOCH = date(1970, 1, 1)

# (customer id, day, country, kind): one customer's place in one set.
Membership = tuple[int, date, str, str]
Sets = dict[tuple[date, str, str], BitMap]
_Key = TypeVar("_Key")


def memberships(customer_ids: BindParameter | Select | None = None) -> Select:
    """Per customer and UTC day with an order: the day (ISO text), country, how many orders
    of zero or more, and whether the customer's first order of all is that day."""
    first = (select(_ORDERS.customer_id, func.min(_ORDERS.ordered_at).label("first_at"))
             .group_by(_ORDERS.customer_id))
    orders = select(_ORDERS.customer_id, _ORDERS.ordered_at, _ORDERS.amount)
    if customer_ids is not None:
        first = first.where(_ORDERS.customer_id.in_(customer_ids))
        orders = orders.where(_ORDERS.customer_id.in_(customer_ids))
    firsts = first.subquery()
    rows = orders.subquery()
    day = UtcDay(rows.c.ordered_at)
    country = _CUSTOMERS.c.country
    return (
        select(rows.c.customer_id, cast(day, String).label("day"), country,
               count_if(rows.c.amount >= 0).label("orders"),
               func.max(case((day == UtcDay(firsts.c.first_at), 1), else_=0)).label("first"))
        .join(_CUSTOMERS, _CUSTOMERS.c.id == rows.c.customer_id)
        .join(firsts, firsts.c.customer_id == rows.c.customer_id)
        .group_by(rows.c.customer_id, day, country)
    )


_MEMBERSHIPS_OF_IDS = memberships(ids_parameter())  # built once: see ids_parameter


def _kinds(orders: int, first: int) -> list[str]:
    return [kind for kind, member in zip(KINDS, (orders >= 1, orders >= 2, first == 1),
                                         strict=True) if member]


def read(executor: Session | Connection, customer_ids: list[int]) -> set[Membership]:
    """Which sets these customers are in, computed now."""
    return {(row.customer_id, date.fromisoformat(row.day), row.country, kind)
            for row in executor.execute(_MEMBERSHIPS_OF_IDS, {IDS: customer_ids})
            for kind in _kinds(int(row.orders), int(row.first))}


def _grouped(members: set[Membership]) -> dict[tuple[date, str], dict[str, list[int]]]:
    cells: dict[tuple[date, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, day, country, kind in members:
        cells[(day, country)][kind].append(customer_id)
    return cells


def move(session: Session, *, removed: set[Membership], added: set[Membership]) -> None:
    """Take ids out of and put ids into the stored sets, locking each cell it changes, then
    fold the months and weeks of the changed days again."""
    out, into = _grouped(removed), _grouped(added)
    changed = sorted(out.keys() | into.keys())
    for day, country in changed:
        where = and_(TABLE.c.day == day, TABLE.c.country == country)
        row = _locked(session, TABLE, where, day=day, country=country,
                      **dict.fromkeys(KINDS, _EMPTY))
        sets = {kind: BitMap.deserialize(getattr(row, kind)) for kind in KINDS}
        for kind, ids in out.get((day, country), {}).items():
            sets[kind].difference_update(BitMap(ids))
        for kind, ids in into.get((day, country), {}).items():
            sets[kind].update(BitMap(ids))
        _store(session, TABLE, where, sets)
    for month, country in sorted({(day.replace(day=1), country) for day, country in changed}):
        where = and_(MONTHLY.c.month == month, MONTHLY.c.country == country)
        _locked(session, MONTHLY, where, month=month, country=country,
                **dict.fromkeys(KINDS, _EMPTY))
        folded = by_month(_days(session, country, month, (month + timedelta(days=32))
                                .replace(day=1) - timedelta(days=1)))
        _store(session, MONTHLY, where,
               {kind: folded.get((month, country, kind), BitMap()) for kind in KINDS})
    for week, country in sorted({(week_of(day), country) for day, country in changed}):
        where = and_(WEEKLY.c.week == week, WEEKLY.c.country == country)
        _locked(session, WEEKLY, where, week=week, country=country, active=0, new=0)
        counts = by_week(_days(session, country, week, week + timedelta(days=6)))
        if (week, country) in counts:
            active, new = counts[(week, country)]
            session.execute(update(WEEKLY).where(where).values(active=active, new=new))
        else:
            session.execute(delete(WEEKLY).where(where))


def _days(session: Session, country: str, first: date, last: date) -> Sets:
    """The stored daily sets of one country's days (read after the cell they feed is locked,
    so a concurrent write's days are seen once it commits)."""
    return _sets_of(session.execute(select(TABLE).where(
        TABLE.c.country == country, TABLE.c.day.between(first, last))))


def _locked(session: Session, table: Table, where: ColumnElement[bool], **row: object
            ) -> Row:
    """The cell (``row`` inserted first when missing), locked until the transaction ends."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).values(**row).on_conflict_do_nothing())
    return session.execute(select(table).where(where).with_for_update()).one()


def _store(session: Session, table: Table, where: ColumnElement[bool],
           sets: dict[str, BitMap]) -> None:
    """Write a cell's sets; a cell left with none is deleted."""
    if not any(sets.values()):
        session.execute(delete(table).where(where))
    else:
        session.execute(update(table).where(where).values(
            **{kind: sets[kind].serialize() for kind in KINDS}))


def week_of(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


def by_week(sets: Sets) -> dict[tuple[date, str], tuple[int, int]]:
    """(buyers, of them first-time buyers) per week and country that daily sets make up."""
    parts: dict[tuple[date, str], dict[str, list[BitMap]]] = defaultdict(
        lambda: defaultdict(list))
    for (day, country, kind), ids in sets.items():
        parts[(week_of(day), country)][kind].append(ids)
    counts = {}
    for key, kinds in parts.items():
        active = BitMap.union(BitMap(), *kinds["buyers"])
        if active:
            counts[key] = (len(active), active.intersection_cardinality(
                BitMap.union(BitMap(), *kinds["newcomers"])))
    return counts


def week_rows(counts: dict[tuple[date, str], tuple[int, int]]) -> list[dict]:
    return [{"week": week, "country": country, "active": active, "new": new}
            for (week, country), (active, new) in sorted(counts.items())]


def by_month(sets: Sets) -> Sets:
    """The monthly sets that daily sets make up: buyers and newcomers of any day, and as
    repeaters those with two or more orders on one day or orders on two days."""
    days: dict[tuple[date, str, str], list[BitMap]] = defaultdict(list)
    for (day, country, kind), ids in sets.items():
        days[(day.replace(day=1), country, kind)].append(ids)
    months: dict[tuple[date, str, str], BitMap] = defaultdict(BitMap)
    for (month, country, kind), parts in days.items():
        months[(month, country, kind)] |= BitMap.union(*parts)
        if kind == "buyers":
            seen, twice = BitMap(), BitMap()
            for ids in parts:
                twice |= seen & ids
                seen |= ids
            months[(month, country, "repeaters")] |= twice
    return {key: ids for key, ids in months.items() if ids}


def cells_from(customer_id: np.ndarray, day: np.ndarray, country: np.ndarray,
               orders: np.ndarray, first: np.ndarray) -> Sets:
    """The sets that membership rows (as arrays; ``day`` as datetime64[D]) make up.

    One sort per kind by (day, country), then one bitmap per run of equal keys: grouping
    with pandas spends most of its time on per-group overhead.
    """
    if not len(customer_id):
        return {}
    countries, country_index = np.unique(np.asarray(country, dtype="U2"), return_inverse=True)
    day_number = day.astype("datetime64[D]").astype(np.int64)
    base = int(day_number.min())
    key = (day_number - base) * len(countries) + country_index
    sets: Sets = {}
    for kind, member in (("buyers", orders >= 1), ("repeaters", orders >= 2),
                         ("newcomers", first == 1)):
        keys, ids = key[member], customer_id[member].astype(np.uint32)
        if not len(keys):  # e.g. nobody ordered twice on one day: no cells of this kind
            continue
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        for start, end in zip(starts, np.r_[starts[1:], len(keys)], strict=True):
            number, where = divmod(int(keys[start]), len(countries))
            sets[(_EPOCH + timedelta(days=base + number), str(countries[where]), kind)] = \
                BitMap(ids[start:end])
    return sets


def rows_of(sets: Sets, key: str = "day") -> list[dict]:
    """Table rows (serialized sets) for the cells in ``sets``; ``key`` names the first
    column (``month`` for ``monthly_customers``)."""
    cells: dict[tuple[date, str], dict[str, bytes]] = defaultdict(
        lambda: dict.fromkeys(KINDS, _EMPTY))
    for (day, country, kind), ids in sets.items():
        cells[(day, country)][kind] = ids.serialize()
    return [{key: day, "country": country, **kinds}
            for (day, country), kinds in sorted(cells.items())]


def _computed(executor: Session | Connection) -> Sets:
    batches = []
    result = executor.execute(memberships().execution_options(yield_per=_BATCH))
    for batch in result.partitions(_BATCH):
        columns = list(zip(*batch, strict=True))
        batches.append((np.asarray(columns[0], dtype=np.int64),
                        np.asarray(columns[1], dtype="datetime64[D]"),
                        np.asarray(columns[2], dtype="U2"),
                        np.asarray(columns[3], dtype=np.int64),
                        np.asarray(columns[4], dtype=np.int64)))
    if not batches:
        return {}
    return cells_from(*(np.concatenate(parts) for parts in zip(*batches, strict=True)))


def rebuild(executor: Session | Connection) -> dict[str, int]:
    """Recompute every cell from the orders; returns how many cells each table has."""
    if isinstance(executor, Session):
        executor.flush()
    sets = _computed(executor)
    counts = {}
    for table, rows in ((TABLE, rows_of(sets)), (MONTHLY, rows_of(by_month(sets), "month")),
                        (WEEKLY, week_rows(by_week(sets)))):
        executor.execute(delete(table))
        for start in range(0, len(rows), 10_000):
            executor.execute(insert(table), rows[start:start + 10_000])
        counts[table.name] = len(rows)
    return counts


def _sets_of(rows: Iterable[Row]) -> Sets:
    """Sets by (day or month, country, kind) from table rows; empty sets left out."""
    sets: Sets = {}
    for row in rows:
        for kind in KINDS:
            ids = BitMap.deserialize(getattr(row, kind))
            if ids:
                sets[(row[0], row.country, kind)] = ids
    return sets


def stored(executor: Session | Connection, table: Table = TABLE) -> Sets:
    """Every stored set of ``table`` (daily or monthly), empty sets left out."""
    return _sets_of(executor.execute(select(table)))


def stored_weeks(executor: Session | Connection) -> dict[tuple[date, str], tuple[int, int]]:
    return {(row.week, row.country): (row.active, row.new)
            for row in executor.execute(select(WEEKLY))}


def differences(connection: Connection) -> dict[str, int]:
    """Per table, how many cells differ from a fresh computation (0: the table is current)."""
    fresh = _computed(connection)
    return {TABLE.name: _differing(stored(connection), fresh),
            MONTHLY.name: _differing(stored(connection, MONTHLY), by_month(fresh)),
            WEEKLY.name: _differing(stored_weeks(connection), by_week(fresh))}


def _differing(have: Mapping[_Key, object], computed: Mapping[_Key, object]) -> int:
    """How many keys have a different value (or none) on one side."""
    return sum(1 for key in have.keys() | computed.keys() if have.get(key) != computed.get(key))
