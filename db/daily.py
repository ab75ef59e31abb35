"""The two daily tables the KPI page reads, kept together: ``daily_sales`` (sums) and
``daily_customers`` (who). A write service wraps whatever changes customers' orders or
country in :func:`kept_current`; ``python -m db.daily rebuild`` recomputes both and
``python -m db.daily check`` counts what differs from a fresh computation.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlmodel import Session

from db import daily_customers, daily_sales
from db.engine import get_engine


@contextmanager
def kept_current(session: Session, customer_ids: Iterable[int]) -> Iterator[None]:
    """Both daily tables follow a write that changes these customers' orders or country."""
    ids = sorted(set(customer_ids))
    with daily_sales.kept_current(session, ids), daily_customers.kept_current(session, ids):
        yield


def rebuild(executor: Session | Connection) -> tuple[int, int]:
    """Recompute both tables; returns how many cells each has."""
    return daily_sales.rebuild(executor), daily_customers.rebuild(executor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.daily",
                                     description="Maintain the daily tables of the KPIs.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rebuild", help="recompute both tables from the orders")
    commands.add_parser("check", help="count cells that differ from a fresh computation")
    arguments = parser.parse_args(argv)
    engine = get_engine()
    started = time.perf_counter()
    if arguments.command == "rebuild":
        with engine.begin() as connection:
            sales, customers = rebuild(connection)
        print(f"Rebuilt {sales:,} daily sales cells and {customers:,} daily customer cells "
              f"in {time.perf_counter() - started:.1f} s.")
        return 0
    with engine.connect() as connection:
        stale = daily_sales.differences(connection) + daily_customers.differences(connection)
    print(f"{stale:,} daily cells differ from the orders on file.")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
