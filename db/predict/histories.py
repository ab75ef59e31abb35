"""Each live customer's repeat-purchase history, as BG/NBD and Gamma-Gamma read it.

A **purchase** is a UTC day with at least one order of zero or more (a refund, a negative
amount, is not a purchase); several orders on one day are one purchase, worth their sum. From
a customer's purchase days up to and including the day ``as_of``:

- ``x`` (frequency): purchase days after the first one — the repeat purchases;
- ``t_x`` (recency): days from the first purchase to the last, in the time unit;
- ``T`` (age): days from the first purchase to ``as_of``, in the time unit;
- ``m`` (monetary): the mean value of the repeat purchase days (0 without one); refunds are
  not subtracted, since Gamma-Gamma models what a purchase is worth when it is made.

Customers without a purchase by ``as_of`` — no orders at all, or refunds only — have no
history the model can read; :class:`Histories` carries them with ``kind`` saying which, and
``x = t_x = T = m = 0``. A customer whose orders all fall on one day is a one-purchase
customer (``x = 0``), as is one with a single order. Live means :func:`db.models.live` (not
deleted, erased or merged into another).

:func:`read_orders` reads the live customers' orders once, three integers a row in customer
and time order over the covering index, and :func:`histories_at` groups them into purchase
days and histories with NumPy at any cut day (the scores and the holdout check share one
read); :func:`histories_from_orders` is an independent pandas version for data outside the
database (the CDNOW sample) and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Date, Engine, Integer, func, literal, select
from sqlalchemy import cast as sql_cast

from db.core.sql import UtcDay, cents, table_of
from db.core.types import utcnow
from db.models import Customer, Order, live

# Days in each time unit the model can be fitted in.
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4375}
DEFAULT_UNIT = "weeks"
# Data whose newest order is older than this is scored as of that order's day, as the KPI
# page counts recency (an order log of 1997-98 loaded today is not "29 years quiet").
STALE_DATA_DAYS = 30


class Kind(IntEnum):
    """Which history a customer has."""

    NO_ORDERS = 0
    REFUNDS_ONLY = 1
    ONE_PURCHASE = 2  # one purchase day: a single order, or all orders on one day
    REPEAT = 3


@dataclass(frozen=True)
class Histories:
    """Parallel arrays, one entry per live customer, in customer id order."""

    customer_id: NDArray[np.int64]
    kind: NDArray[np.int8]
    x: NDArray[np.float64]
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    m: NDArray[np.float64]
    as_of: date
    unit: str

    def __len__(self) -> int:
        return int(self.customer_id.size)

    @property
    def buyers(self) -> NDArray[np.bool_]:
        """Who has at least one purchase, so the model applies."""
        return np.asarray(self.kind >= Kind.ONE_PURCHASE)

    def subset(self, keep: NDArray[np.bool_]) -> Histories:
        return Histories(self.customer_id[keep], self.kind[keep], self.x[keep], self.t_x[keep],
                         self.T[keep], self.m[keep], self.as_of, self.unit)


def unit_days(unit: str) -> float:
    """Days in ``unit``; a ValueError names the units there are."""
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r}: one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[unit]


def newest_order_day(engine: Engine) -> date | None:
    """The UTC day of the newest order of anyone, or None without orders."""
    with engine.connect() as connection:
        newest = connection.execute(select(func.max(table_of(Order).c.ordered_at))).scalar()
    if newest is None:
        return None
    if isinstance(newest, str):  # SQLite hands back aggregated timestamps as text
        return date.fromisoformat(newest[:10])
    if isinstance(newest, datetime):
        return newest.astimezone(UTC).date() if newest.tzinfo else newest.date()
    return date.fromisoformat(str(newest)[:10])


def start_of(day: date) -> datetime:
    """00:00 UTC of ``day``: orders before it are those of the days before."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def default_as_of(engine: Engine, today: date | None = None) -> date:
    """Today (UTC), or the newest order's day when that is more than
    :data:`STALE_DATA_DAYS` old."""
    today = today or utcnow().date()
    newest = newest_order_day(engine)
    if newest is not None and (today - newest).days > STALE_DATA_DAYS:
        return newest
    return today


def _assemble(ids: NDArray[np.int64], buying: pd.DataFrame, refunding: NDArray[np.int64],
              as_of: date, unit: str) -> Histories:
    """Histories of every id in ``ids`` from the per-customer purchase figures ``buying``
    (customer_id, first, last, days, gross_cents, first_cents; days as day numbers)."""
    per_unit = unit_days(unit)
    n = ids.size
    kind = np.full(n, Kind.NO_ORDERS, dtype=np.int8)
    x, t_x, T, m = (np.zeros(n) for _ in range(4))
    if refunding.size:
        kind[np.isin(ids, refunding)] = Kind.REFUNDS_ONLY
    position = np.searchsorted(ids, buying["customer_id"].to_numpy(dtype=np.int64))
    found = (position < n) & (ids[np.minimum(position, n - 1)]
                              == buying["customer_id"].to_numpy(dtype=np.int64))
    position, rows = position[found], buying[found]
    repeats = rows["days"].to_numpy(dtype=np.float64) - 1
    first = rows["first"].to_numpy(dtype=np.float64)
    x[position] = repeats
    t_x[position] = (rows["last"].to_numpy(dtype=np.float64) - first) / per_unit
    T[position] = (as_of.toordinal() - first) / per_unit
    repeat_cents = (rows["gross_cents"].to_numpy(dtype=np.float64)
                    - rows["first_cents"].to_numpy(dtype=np.float64))
    m[position] = np.where(repeats > 0, repeat_cents / np.maximum(repeats, 1) / 100, 0.0)
    kind[position] = np.where(repeats > 0, Kind.REPEAT, Kind.ONE_PURCHASE)
    return Histories(ids, kind, x, t_x, T, m, as_of, unit)


def _day_number(column: pd.Series) -> pd.Series:
    days = pd.to_datetime(column).dt.normalize()
    return (days - pd.Timestamp("0001-01-01")).dt.days + 1  # date.toordinal()


def histories_from_orders(orders: pd.DataFrame, *, as_of: date, unit: str = DEFAULT_UNIT,
                          customer_ids: NDArray[np.int64] | None = None) -> Histories:
    """The histories of ``orders`` (columns ``customer_id``, ``day`` (a date or timestamp,
    UTC), ``amount``) up to and including ``as_of``; ``customer_ids`` adds customers
    without orders (default: every customer in ``orders``)."""
    frame = orders.assign(day=_day_number(orders["day"]))
    frame = frame[frame["day"] <= as_of.toordinal()]
    ids = np.unique(np.asarray(customer_ids if customer_ids is not None
                               else orders["customer_id"].unique(), dtype=np.int64))
    bought = frame[frame["amount"] >= 0]
    daily = (bought.assign(cents=(bought["amount"] * 100).round())
             .groupby(["customer_id", "day"], as_index=False)["cents"].sum())
    grouped = daily.groupby("customer_id")
    buying = pd.DataFrame({
        "first": grouped["day"].min(), "last": grouped["day"].max(),
        "days": grouped["day"].count(), "gross_cents": grouped["cents"].sum()}).reset_index()
    first_day = daily.merge(buying[["customer_id", "first"]], on="customer_id")
    first_cents = first_day[first_day["day"] == first_day["first"]].set_index(
        "customer_id")["cents"]
    buying["first_cents"] = buying["customer_id"].map(first_cents).fillna(0)
    refunding = set(frame["customer_id"].unique()) - set(buying["customer_id"])
    return _assemble(ids, buying, np.asarray(sorted(refunding), dtype=np.int64), as_of, unit)


@dataclass(frozen=True)
class Orders:
    """The live customers' orders up to a day, as parallel arrays in customer and time order
    (``day`` as :meth:`date.toordinal`, ``cents`` negative for refunds), and every live
    customer's id (sorted), with orders or without."""

    live_ids: NDArray[np.int64]
    customer_id: NDArray[np.int64]
    day: NDArray[np.int64]
    cents: NDArray[np.int64]


def _day_ordinal(column: Any, dialect: str) -> ColumnElement[int]:
    """The UTC day of a timestamp as :meth:`date.toordinal` (SQLite keeps UTC timestamps
    as ISO text; PostgreSQL subtracts dates to whole days)."""
    if dialect == "postgresql":
        return sql_cast(UtcDay(column) - literal(date(1, 1, 1), Date()), Integer) + 1
    return sql_cast(func.julianday(func.substr(column, 1, 10)) - 1721424.5, Integer)


def read_orders(engine: Engine, *, through: date) -> Orders:
    """Every live customer's orders up to and including the UTC day ``through``, read in
    one pass over the covering index (customer, time, …, amount) into NumPy, 200,000 rows a
    batch, straight from the driver's cursor (a server-side one on PostgreSQL): building a
    SQLAlchemy row for each of 10 million orders took 30 times as long as the read itself.
    One read serves both the scores and the holdout check."""
    order = table_of(Order).c
    customer = table_of(Customer).c
    # No WHERE on the time: a range on ordered_at makes SQLite read the time-first index
    # and sort ten million rows; the few orders after ``through`` are dropped in NumPy.
    query = (select(order.customer_id, _day_ordinal(order.ordered_at, engine.dialect.name),
                    cents(order.amount)).order_by(order.customer_id, order.ordered_at))
    compiled = query.compile(dialect=engine.dialect)
    parameters: Any = (tuple(compiled.params[name] for name in compiled.positiontup or ())
                       if compiled.positional else compiled.params)
    parts: list[NDArray[np.int64]] = []
    with engine.connect() as connection:
        live_ids = np.fromiter(connection.execute(
            select(customer.id).where(live()).order_by(customer.id)).scalars(),
            dtype=np.int64)
        raw: Any = connection.connection.driver_connection
        cursor = (raw.cursor(name="predict_orders") if engine.dialect.name == "postgresql"
                  else raw.cursor())
        try:
            cursor.execute(str(compiled), parameters)
            while rows := cursor.fetchmany(200_000):
                parts.append(np.array(rows, dtype=np.int64).reshape(-1, 3))
        finally:
            cursor.close()
    rows = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
    rows = rows[(rows[:, 1] <= through.toordinal()) & np.isin(rows[:, 0], live_ids)]
    return Orders(live_ids, rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy())


def _distinct_sorted(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct values of a sorted array (np.unique would sort it again)."""
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def histories_at(orders: Orders, *, as_of: date, unit: str = DEFAULT_UNIT) -> Histories:
    """The histories of :class:`Orders` up to and including ``as_of``."""
    upto = orders.day <= as_of.toordinal()
    ids, days, amounts = orders.customer_id[upto], orders.day[upto], orders.cents[upto]
    bought = amounts >= 0
    refunding = np.setdiff1d(_distinct_sorted(ids), _distinct_sorted(ids[bought]),
                             assume_unique=True)
    ids, days, amounts = ids[bought], days[bought], amounts[bought]
    # Rows are in (customer, day) order: a new purchase day starts where either changes.
    starts = np.flatnonzero(np.r_[True, (ids[1:] != ids[:-1]) | (days[1:] != days[:-1])]) \
        if ids.size else np.zeros(0, dtype=np.int64)
    day_ids, day_days = ids[starts], days[starts]
    day_cents = np.add.reduceat(amounts, starts) if starts.size else amounts[:0]
    firsts = np.flatnonzero(np.r_[True, day_ids[1:] != day_ids[:-1]]) if starts.size \
        else starts
    lasts = np.r_[firsts[1:] - 1, day_ids.size - 1] if firsts.size else firsts
    buying = pd.DataFrame({
        "customer_id": day_ids[firsts], "first": day_days[firsts], "last": day_days[lasts],
        "days": np.diff(np.r_[firsts, day_ids.size]),
        "gross_cents": (np.add.reduceat(day_cents, firsts) if firsts.size
                        else day_cents[:0]).astype(np.float64),
        "first_cents": day_cents[firsts].astype(np.float64)})
    return _assemble(orders.live_ids, buying, refunding, as_of, unit)


def read_histories(engine: Engine, *, as_of: date, unit: str = DEFAULT_UNIT) -> Histories:
    """Every live customer's history from the database, up to and including ``as_of``."""
    unit_days(unit)
    return histories_at(read_orders(engine, through=as_of), as_of=as_of, unit=unit)
