"""What the KPI figures are narrowed to, and the rows of a summed table that remain.

A country is the customer's current country; a channel and a category are the order's, so
they narrow the sales figures but not the customer counts (active, returning, repeat, churn,
cohorts), which count every order; a saved segment is its members now. Erased and deleted
customers' orders still count: the sales happened.

Sales, contacts, answers and the RFM grid are sums over the tables of :mod:`db.derived.kpi_tables`
(kept by the write path); with a segment filter they come from the members' own rows through
the query that keeps each table (:mod:`db.kpi.scope`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, FromClause, select

from db.core.access import Actor, Capability, require
from db.derived.sales_cells import sales_table
from db.derived.summed_cells import SummedCells
from db.kpi import scope as kpi_scope
from db.kpi.periods import Period


@dataclass(frozen=True)
class Filters:
    """What the figures are narrowed to; empty means everything."""

    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    segment_id: int | None = None


NO_FILTERS = Filters()  # every figure's default: nothing narrowed

def cells(connection: Connection, table: SummedCells, filters: Filters,
          period: Period | None = None) -> FromClause:
    """A summed table's rows, or with a segment filter the same rows computed for the
    segment's members only (by the query that keeps the table; see :mod:`db.kpi.scope`),
    for a table of days only those of ``period`` when given."""
    if filters.segment_id is None:
        return table.table
    return kpi_scope.cells(connection, table, filters.segment_id, period)


def narrowed(rows: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions that keep the rows of the filters' countries, channels and categories
    (a table without a channel or category column, such as contacts, ignores those)."""
    where: list[ColumnElement[bool]] = []
    for column, values in (("country", filters.countries), ("channel", filters.channels),
                           ("category", filters.categories)):
        if values and column in rows.c:
            where.append(rows.c[column].in_(values))
    return where


def filter_options(actor: Actor, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The countries, channels and categories that have sales, for the page's pick lists."""
    require(actor, Capability.VIEW_KPIS)
    found = {}
    with kpi_scope.connect(engine) as connection:
        for name, column in (("countries", "country"), ("channels", "channel"),
                             ("categories", "category")):
            table = sales_table({column}).table
            found[name] = list(connection.execute(
                select(table.c[column]).distinct().order_by(table.c[column])).scalars())
    return found
