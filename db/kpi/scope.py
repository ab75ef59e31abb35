"""A KPI page's queries on a connection shared by a run of them, with a segment's members
worked out once per connection.

With a segment filter, every figure of the page reads the members' own rows of a summed
table (:mod:`db.derived.summed_cells`) instead of the table. Computed inside each query, the
segment would be evaluated about twelve times per page and the members' sales rows rebuilt
for every figure. Inside :func:`shared`, the metric functions run on one connection, and the
members and each table's rows for them are computed once into temporary tables (the page
runs two such blocks side by side, see :func:`db.kpi.board.dashboard`). The block's
transaction is rolled back at the end, which drops them on both engines (DDL is
transactional in SQLite and PostgreSQL). Outside it, the functions work as before.

The members' rows of the tables of days (sales, contacts, answers) cover only the periods
the page shows (given to :func:`shared`): their whole history took seconds for a large
segment. A figure of another period (or outside the block) computes its own days' rows.

The members' table holds each one's country and first order's moment beside the id, its
key: the sales rows take them from it rather than from the customer table (on PostgreSQL a
scan of every customer), and with the key PostgreSQL seeks the members' monthly rows of the
top-customer figures instead of scanning them (0.2 s at 1 M customers).

On PostgreSQL each temporary table is analysed once filled (without statistics the planner
took 423,000 members for 1.9 million and scanned every customer), and the block runs without
JIT compilation (1.1–1.4 s spent compiling queries that then ran in milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    MetaData,
    Select,
    Table,
    and_,
    or_,
    select,
)

from db.core.engine import get_engine
from db.core.sql import table_of
from db.core.types import utcnow
from db.derived.engagement_cells import (
    INTERACTION_CELLS,
    NPS_CELLS,
    interaction_cells,
    nps_cells,
)
from db.derived.models import CustomerSummary
from db.derived.sales_cells import SALES_CELLS, cells_between
from db.derived.summed_cells import SummedCells
from db.kpi.periods import Period
from db.models import Feedback, Interaction
from db.segments.membership import members_of

_SUMMARY = table_of(CustomerSummary).c


@dataclass
class _Shared:
    connection: Connection
    segment_id: int | None
    periods: tuple[Period, ...] = ()
    tables: dict[str, Table] = field(default_factory=dict)


_CURRENT: ContextVar[_Shared | None] = ContextVar("kpi_scope", default=None)


@contextmanager
def shared(engine: Engine, segment_id: int | None,
           periods: Sequence[Period] = ()) -> Iterator[Connection]:
    """Run the block's metric calls on one connection; computed rows go with it. With a
    segment, its members' rows of the tables of days are computed for ``periods``."""
    with engine.connect() as connection:
        if segment_id is not None and connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL jit = off")
        token = _CURRENT.set(_Shared(connection, segment_id, tuple(periods)))
        try:
            yield connection
        finally:
            _CURRENT.reset(token)
            connection.rollback()


@contextmanager
def connect(engine: Engine | None) -> Iterator[Connection]:
    """The shared connection inside :func:`shared`, otherwise a new one."""
    scope = _CURRENT.get()
    if scope is not None:
        yield scope.connection
        return
    with (engine or get_engine()).connect() as connection:
        yield connection


def members(connection: Connection, segment_id: int) -> Select:
    """``SELECT customer_id`` of the segment's members now (computed once inside
    :func:`shared`)."""
    return select(_people(connection, segment_id).c.customer_id)


def _people(connection: Connection, segment_id: int) -> FromClause:
    """The segment's members now with what the tables of days read of them: their country
    and first order's moment, from the customer summary the segment is evaluated on."""
    return _computed(connection, segment_id, "members", lambda: members_of(
        connection, segment_id, utcnow()).add_columns(_SUMMARY.country, _SUMMARY.first_order_at),
        key="customer_id")


def cells(connection: Connection, table: SummedCells, segment_id: int,
          period: Period | None = None) -> FromClause:
    """The rows that the segment's members contribute to ``table``; for a table of days
    (sales, contacts, answers) with a ``period``, at least those of its days (the caller
    keeps to them)."""
    if period is None or (table is not SALES_CELLS and table.table.name not in _DAYS):
        return _computed(connection, segment_id, table.table.name,
                         lambda: table.rows(members(connection, segment_id)))
    scope = _CURRENT.get()
    if scope is not None and any(shown.first <= period.first and period.last <= shown.last
                                 for shown in scope.periods):
        spans = [shown.bounds() for shown in scope.periods]
        return _computed(connection, segment_id, table.table.name + "_shown",
                         lambda: _between(table, connection, segment_id, spans))
    return _between(table, connection, segment_id, [period.bounds()]).subquery()


# The tables of days besides sales, by name: what chosen people contribute to them, and the
# moment whose UTC day is their key.
_DAYS: dict[str, tuple[Callable[[FromClause], Select], ColumnElement[datetime]]] = {
    INTERACTION_CELLS.table.name: (interaction_cells, table_of(Interaction).c.at),
    NPS_CELLS.table.name: (nps_cells, table_of(Feedback).c.at)}


def _between(table: SummedCells, connection: Connection, segment_id: int,
             spans: list[tuple[datetime, datetime]]) -> Select:
    """The rows the segment's members contribute to a table of days, for the days of
    ``spans``."""
    if table is SALES_CELLS:
        return cells_between(_people(connection, segment_id), spans)
    rows, moment = _DAYS[table.table.name]
    return rows(_people(connection, segment_id)).where(
        or_(*(and_(moment >= start, moment < end) for start, end in spans)))


def _computed(connection: Connection, segment_id: int, name: str,
              query: Callable[[], Select], key: str | None = None) -> FromClause:
    scope = _CURRENT.get()
    if scope is None or scope.segment_id != segment_id or scope.connection is not connection:
        return query().subquery()
    if name not in scope.tables:
        rows = query()
        table = Table(f"kpi_segment_{name}", MetaData(),
                      *(Column(column.name, column.type, primary_key=column.name == key,
                               autoincrement=False)  # no sequence on PostgreSQL
                        for column in rows.selected_columns),
                      prefixes=["TEMPORARY"])
        table.create(connection)
        connection.execute(table.insert().from_select(list(table.c.keys()), rows))
        if connection.dialect.name == "postgresql":
            analyse = "ANALYZE " + table.name  # our own table's name, not input
            connection.exec_driver_sql(analyse)
        scope.tables[name] = table
    return scope.tables[name]
