"""The tables the KPI page reads instead of the raw rows, kept together.

Summed tables (:class:`~db.summed_cells.SummedCells`): ``daily_sales`` and its roll-ups,
``daily_interactions``, ``daily_nps``, ``customer_recency`` and ``customer_months``; sets of
customers: ``daily_customers`` and ``monthly_customers``. Each holds what every customer
contributes, so a write service wraps whatever changes customers' orders, contacts,
answers, country or liveness in :func:`kept_current`, which moves those customers' share.
``python -m db.daily rebuild`` recomputes every table and ``python -m db.daily check``
counts what differs from a fresh computation.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select
from sqlmodel import Session

from db import daily_customers
from db.customer_months import MONTH_CELLS
from db.customer_recency import RECENCY_CELLS
from db.daily_engagement import INTERACTION_CELLS, NPS_CELLS
from db.daily_sales import ROLLUPS, SALES_CELLS
from db.engine import get_engine
from db.models import Customer

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
    session.execute(select(Customer.id).where(Customer.id.in_(ids)).with_for_update())
    before = [table.read(session, ids) for table in SUMMED]
    members = daily_customers.read(session, ids)
    yield
    session.flush()
    for table, old in zip(SUMMED, before, strict=True):
        table.move(session, old, table.read(session, ids))
    now = daily_customers.read(session, ids)
    daily_customers.move(session, removed=members - now, added=now - members)


def rebuild(executor: Session | Connection) -> dict[str, int]:
    """Recompute every table; returns how many rows each has."""
    if isinstance(executor, Session):
        executor.flush()
    counts = {table.table.name: table.rebuild(executor) for table in SUMMED}
    counts |= daily_customers.rebuild(executor)
    return counts


def differences(connection: Connection) -> dict[str, int]:
    """Per table, how many rows differ from a fresh computation."""
    found = {table.table.name: table.differences(connection) for table in SUMMED}
    found |= daily_customers.differences(connection)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.daily",
                                     description="Maintain the tables the KPIs read.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rebuild", help="recompute every table from the data")
    commands.add_parser("check", help="count rows that differ from a fresh computation")
    arguments = parser.parse_args(argv)
    engine = get_engine()
    started = time.perf_counter()
    if arguments.command == "rebuild":
        with engine.begin() as connection:
            counts = rebuild(connection)
        print(", ".join(f"{name}: {count:,} rows" for name, count in counts.items())
              + f" (rebuilt in {time.perf_counter() - started:.1f} s).")
        return 0
    with engine.connect() as connection:
        stale = differences(connection)
    print(", ".join(f"{name}: {count:,} rows differ" for name, count in stale.items()))
    return 1 if any(stale.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
