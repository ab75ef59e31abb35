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
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
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

# A table's rows by key: key tuple → measure tuple.
Cells = dict[tuple, tuple[int, ...]]
Customers = list[int] | Select | None


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

    def read(self, executor: Session | Connection, customers: Customers) -> Cells:
        """The cells ``customers`` contribute, computed now."""
        width = len(self.key)
        return {tuple(row[:width]): tuple(row[width:])
                for row in executor.execute(self.rows(customers))}

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
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(self.table)
        columns = self.table.c
        session.execute(upsert.on_conflict_do_update(
            index_elements=[columns[name] for name in self.key],
            set_={name: columns[name] + upsert.excluded[name] for name in self.measures}),
            rows)
        session.execute(delete(self.table).where(
            *(columns[name] == 0 for name in self.present),
            *(columns[name] == bindparam(name) for name in self.key)),
            [dict(zip(self.key, key, strict=True)) for key in change])

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
