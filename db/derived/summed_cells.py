"""Tables of sums per key that customers contribute to, kept by moving each one's share.

The KPI page reads several such tables (sales per day, contacts per day, NPS answers per
day, customers per recency and frequency). Each is defined by one query that computes the
rows some customers (or all) contribute, grouped by the table's key. The same query serves
both ways of keeping the table: a write reads the touched customers' rows before and after
it and adds the difference (:meth:`SummedCells.move`), and :meth:`SummedCells.rebuild`
recomputes everything. A test per table checks that the two agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Delete,
    FromClause,
    Insert,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.core.sql import IDS, ids_parameter, table_of
from db.models import Customer

# A table's rows by key: key tuple → measure tuple.
Cells = dict[tuple, tuple[int, ...]]
Customers = list[int] | BindParameter | Select | None  # whose rows: all (None), or some


@dataclass(frozen=True)
class Owners:
    """Where a summed table's rows find their customer and the customer's country."""

    table: FromClause
    on: ColumnElement[bool]  # joins ``table`` to the rows
    country: ColumnElement[str]
    where: tuple[ColumnElement[bool], ...]  # keeps the rows of the customers asked for


def owners(customer_id: ColumnElement[int], customers: Customers | FromClause) -> Owners:
    """The customer table (of all customers, or of some), or chosen people: a table of
    ``customer_id`` and ``country`` (a KPI segment's members), whose own country spares
    the customer table (for a segment's members PostgreSQL scanned every customer to join
    theirs). With people, the IN beside the join makes SQLite seek each one's rows; joined
    alone, without statistics, it read every row of the days."""
    if isinstance(customers, FromClause):
        people = customers.c
        return Owners(customers, people.customer_id == customer_id, people.country,
                      (customer_id.in_(select(people.customer_id)),))
    customer = table_of(Customer).c
    return Owners(table_of(Customer), customer.id == customer_id, customer.country,
                  () if customers is None else (customer_id.in_(customers),))


def count_if(test: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of the grouped rows pass ``test`` (a measure of several summed tables)."""
    return func.sum(case((test, 1), else_=0))


@dataclass(frozen=True)
class SummedCells:
    """One summed table: ``rows(customers)`` gives the key columns, then the measures, of
    what those customers (all when None) contribute. A cell whose ``present`` measures are
    all zero no longer exists (the rebuild would not write it)."""

    table: Table
    key: tuple[str, ...]
    measures: tuple[str, ...]
    present: tuple[str, ...]
    rows: Callable[[Customers], Select]
    for_ids: Select = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # ``rows`` for a list of ids, built once (see db.core.sql.ids_parameter).
        object.__setattr__(self, "for_ids", self.rows(ids_parameter()))

    def read(self, executor: Session | Connection, customers: list[int] | None) -> Cells:
        """The cells these customers (all when None) contribute, computed now."""
        width = len(self.key)
        rows = (executor.execute(self.rows(None)) if customers is None
                else executor.execute(self.for_ids, {IDS: customers}))
        return {tuple(row[:width]): tuple(row[width:]) for row in rows}

    def stored(self, executor: Session | Connection) -> Cells:
        width = len(self.key)
        query = select(*(self.table.c[name] for name in self.key + self.measures))
        return {tuple(row[:width]): tuple(row[width:]) for row in executor.execute(query)}

    def move(self, session: Session, before: Cells, after: Cells) -> None:
        """Add ``after − before`` to the stored cells; drop the cells left empty."""
        change: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(self.measures))
        for sign, side in ((-1, before), (1, after)):
            for key, values in side.items():
                for index, value in enumerate(values):
                    change[key][index] += sign * value
        rows = [dict(zip(self.key + self.measures, (*key, *values), strict=True))
                for key, values in change.items() if any(values)]
        if not rows:
            return
        upsert, drop_empty = _moves(self, session.get_bind().dialect.name)
        session.execute(upsert, rows)
        session.execute(drop_empty, [dict(zip(self.key, key, strict=True)) for key in change])

    def rebuild(self, executor: Session | Connection) -> int:
        """Recompute every cell; returns how many there are."""
        executor.execute(delete(self.table))
        executor.execute(insert(self.table).from_select(list(self.key + self.measures),
                                                        self.rows(None)))
        return executor.execute(select(func.count()).select_from(self.table)).scalar_one()

    def differences(self, connection: Connection) -> int:
        """How many cells differ from a fresh computation (0: the table is current)."""
        stored, fresh = self.stored(connection), self.read(connection, None)
        return sum(1 for key in stored.keys() | fresh.keys()
                   if stored.get(key) != fresh.get(key))


@cache
def _moves(cells: SummedCells, dialect_name: str) -> tuple[Insert, Delete]:
    """The two statements :meth:`SummedCells.move` runs, built once per table and engine:
    add a change to a cell (creating it when missing), and drop the cells left empty."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    upsert = dialect.insert(cells.table)
    columns = cells.table.c
    add = upsert.on_conflict_do_update(
        index_elements=[columns[name] for name in cells.key],
        set_={name: columns[name] + upsert.excluded[name] for name in cells.measures})
    drop_empty = delete(cells.table).where(
        *(columns[name] == 0 for name in cells.present),
        *(columns[name] == bindparam(name) for name in cells.key))
    return add, drop_empty
