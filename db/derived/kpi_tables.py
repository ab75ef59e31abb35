"""The tables the KPI page reads instead of the raw rows, kept together.

Summed tables (:class:`~db.derived.summed_cells.SummedCells`): ``daily_sales`` and its roll-ups,
``daily_interactions``, ``daily_nps``, ``customer_recency`` and ``customer_months``; sets of
customers: ``daily_customers`` and ``monthly_customers``; and the segments' ranked newest
orders and contacts and newest order per category (:mod:`db.derived.ranks`), refreshed per
customer. Each holds what every customer contributes, so a write service wraps whatever
changes customers' orders, contacts, answers, country or liveness in :func:`kept_current`,
which moves those customers' share.
``python -m db.derived rebuild`` recomputes every table and ``python -m db.derived check``
counts what differs from a fresh computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlmodel import Session

from db.derived import buyer_cells, ranks
from db.derived.engagement_cells import INTERACTION_CELLS, NPS_CELLS
from db.derived.month_cells import MONTH_CELLS
from db.derived.recency_cells import RECENCY_CELLS
from db.derived.sales_cells import ROLLUPS, SALES_CELLS
from db.models import lock_customers

# daily_sales before its roll-ups: their rebuild sums it.
SUMMED = (SALES_CELLS, *ROLLUPS, INTERACTION_CELLS, NPS_CELLS, RECENCY_CELLS, MONTH_CELLS)
# Above this many customers, a write rebuilds the tables rather than move each one's share.
_LIST_LIMIT = 5_000


@contextmanager
def kept_current(session: Session, customer_ids: Iterable[int]) -> Iterator[None]:
    """Wrap a write that changes these customers: their share of every table is read
    before it and moved to what it is after it (the block's writes flushed).

    Locks the customers' rows first so that two writes for one customer, on PostgreSQL,
    move its share one after the other (SQLite writes one at a time anyway). Anything the
    tables read from ``customer_summary`` must be refreshed inside the block.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        yield
        return
    if len(ids) > _LIST_LIMIT:
        yield
        rebuild(session)
        return
    lock_customers(session, ids)
    before = [table.read(session, ids) for table in SUMMED]
    members = buyer_cells.read(session, ids)
    yield
    session.flush()
    for table, old in zip(SUMMED, before, strict=True):
        table.move(session, old, table.read(session, ids))
    now = buyer_cells.read(session, ids)
    buyer_cells.move(session, removed=members - now, added=now - members)
    ranks.refresh(session, ids)


def rebuild(executor: Session | Connection) -> dict[str, int]:
    """Recompute every table; returns how many rows each has."""
    if isinstance(executor, Session):
        executor.flush()
    counts = {table.table.name: table.rebuild(executor) for table in SUMMED}
    counts |= buyer_cells.rebuild(executor)
    counts |= ranks.rebuild(executor)
    return counts


def differences(connection: Connection) -> dict[str, int]:
    """Per table, how many rows differ from a fresh computation."""
    found = {table.table.name: table.differences(connection) for table in SUMMED}
    found |= buyer_cells.differences(connection)
    found |= ranks.differences(connection)
    return found
