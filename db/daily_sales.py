"""Keeps ``daily_sales`` current: move some customers' share inside a write, or rebuild all.

Writes reach it through :func:`db.daily.kept_current`, with the other daily table.

The KPI page sums revenue, orders and new customers over periods of up to years; from ten
million orders that takes seconds (monthly revenue 6 s on SQLite), from the daily table a few
milliseconds. Each customer's orders add up to a set of cells, so a write that touches some
customers takes their share out before it writes and puts the new share back after
(:func:`kept_current`): a new order, a refund, a change of country all move through the same
query that :func:`rebuild` runs for everyone. A test checks the two agree after a random
workload.

Days are UTC calendar days; the stored timestamps are UTC on both engines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Date
from sqlmodel import Session

from db.models import Customer, DailySales, Order
from db.summary import cents

SALES = DailySales.__table__  # type: ignore[attr-defined]
KEY = ("day", "country", "channel", "category")
MEASURES = ("orders", "refunds", "revenue_cents", "new_customers")
# Above this many customers, a write rebuilds the table rather than move each one's share.
_LIST_LIMIT = 5_000

Cells = dict[tuple, tuple[int, ...]]


class UtcDay(GenericFunction):
    """The UTC calendar day of a timestamp."""

    name = "utc_day"
    type = Date()
    inherit_cache = True


@compiles(UtcDay, "postgresql")
def _utc_day_postgresql(element: UtcDay, compiler: object, **kw: object) -> str:
    # timestamptz::date would take the session's time zone.
    argument = compiler.process(element.clauses, **kw)  # type: ignore[attr-defined]
    return "CAST((" + argument + " AT TIME ZONE 'UTC') AS DATE)"


@compiles(UtcDay)
def _utc_day_default(element: UtcDay, compiler: object, **kw: object) -> str:
    # SQLite keeps UTC timestamps as ISO text; date() takes their first ten characters.
    return "date(" + compiler.process(element.clauses, **kw) + ")"  # type: ignore[attr-defined]


def _count_if(test: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((test, 1), else_=0))


def cells(customer_ids: list[int] | Select | None = None) -> Select:
    """The daily_sales rows (key, then measures) that the orders of some or all customers
    (a list of ids or a query of them) make up. A customer's first order is the earliest,
    the lower id on a tie."""
    ranked = select(
        Order.customer_id, Order.ordered_at, Order.amount, Order.channel, Order.category,
        func.row_number().over(partition_by=Order.customer_id,
                               order_by=(Order.ordered_at, Order.id)).label("nth"))
    if customer_ids is not None:
        ranked = ranked.where(Order.customer_id.in_(customer_ids))
    orders = ranked.subquery()
    day = func.utc_day(orders.c.ordered_at)
    key = [day, Customer.country, orders.c.channel, orders.c.category]
    return (
        select(day.label("day"), Customer.country, orders.c.channel, orders.c.category,
               cast(_count_if(orders.c.amount >= 0), Integer).label("orders"),
               cast(_count_if(orders.c.amount < 0), Integer).label("refunds"),
               cast(func.sum(cents(orders.c.amount)), BigInteger).label("revenue_cents"),
               cast(_count_if(orders.c.nth == 1), Integer).label("new_customers"))
        .join(Customer, Customer.id == orders.c.customer_id)
        .group_by(*key)
    )


def _read(executor: Session | Connection, query: Select) -> Cells:
    return {tuple(row[:4]): tuple(row[4:]) for row in executor.execute(query)}


@contextmanager
def kept_current(session: Session, customer_ids: Iterable[int]) -> Iterator[None]:
    """Wrap a write that changes these customers' orders or country: their share of the
    daily cells is taken out before it and put back, as it is then, after it.

    Locks the customers' rows first so that two writes for one customer, on PostgreSQL, move
    its share one after the other (SQLite writes one at a time anyway).
    """
    ids = sorted(set(customer_ids))
    if not ids:
        yield
        return
    if len(ids) > _LIST_LIMIT:
        yield
        rebuild(session)
        return
    session.execute(select(Customer.id).where(Customer.id.in_(ids)).with_for_update())
    before = _read(session, cells(ids))
    yield
    session.flush()  # what the block wrote is part of the new share
    _move(session, before, _read(session, cells(ids)))


def _move(session: Session, before: Cells, after: Cells) -> None:
    """Add ``after − before`` to the stored cells; drop the cells left empty."""
    change: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    for sign, side in ((-1, before), (1, after)):
        for key, values in side.items():
            for index, value in enumerate(values):
                change[key][index] += sign * value
    rows = [dict(zip(KEY + MEASURES, (*key, *values), strict=True))
            for key, values in change.items() if any(values)]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(SALES)
    session.execute(upsert.on_conflict_do_update(
        index_elements=[SALES.c[name] for name in KEY],
        set_={name: SALES.c[name] + upsert.excluded[name] for name in MEASURES}), rows)
    session.execute(delete(SALES).where(SALES.c.orders == 0, SALES.c.refunds == 0,
                                        *(SALES.c[name] == bindparam(name) for name in KEY)),
                    [dict(zip(KEY, key, strict=True)) for key in change])


def rebuild(executor: Session | Connection) -> int:
    """Recompute every cell from the orders; returns how many cells there are."""
    if isinstance(executor, Session):
        executor.flush()
    executor.execute(delete(SALES))
    executor.execute(insert(SALES).from_select(list(KEY + MEASURES), cells()))
    return executor.execute(select(func.count()).select_from(SALES)).scalar_one()


def differences(connection: Connection) -> int:
    """How many cells differ from a fresh computation (0: the table is current)."""
    stored = _read(connection, select(*(SALES.c[name] for name in KEY + MEASURES)))
    fresh = _read(connection, cells())
    return sum(1 for key in stored.keys() | fresh.keys() if stored.get(key) != fresh.get(key))
