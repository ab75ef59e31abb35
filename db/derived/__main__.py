"""``python -m db.derived rebuild|check``: every table derived from the operational data.

The write services keep the per-customer summary (:mod:`db.derived.summary`), the KPI tables
(:mod:`db.derived.kpi_tables`) and the search index (:mod:`db.derived.search_index`) current in
the same transaction as each change (:mod:`db.derived.hook`). ``rebuild`` recomputes all of them
from the data (after a bulk load, or a change to how a figure or the index text is computed);
``check`` counts the rows that differ from a fresh computation and exits with 1 if any do. One
command, so that none is forgotten; each is rebuilt in its own transaction, the summary first,
since the KPI tables read it.
"""

from __future__ import annotations

import argparse
import time

from db.core.engine import get_engine
from db.derived import kpi_tables, search_index, summary, vocabulary


def main(argv: list[str] | None = None) -> int:
    """Run ``rebuild`` or ``check``; returns the exit status (1: a ``check`` found stale rows)."""
    parser = argparse.ArgumentParser(
        prog="python -m db.derived",
        description="Maintain the tables derived from the data: the per-customer summary, "
                    "the KPI tables and the search index.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rebuild", help="recompute every derived table from the data")
    commands.add_parser("check", help="count rows that differ from a fresh computation")
    arguments = parser.parse_args(argv)
    engine = get_engine()
    if arguments.command == "rebuild":
        started = time.perf_counter()
        with engine.begin() as connection:
            count = summary.rebuild(connection)
        print(f"Rebuilt {count:,} summary rows in {time.perf_counter() - started:.1f} s.")
        started = time.perf_counter()
        with engine.begin() as connection:
            counts = kpi_tables.rebuild(connection)
        print("KPI tables: " + ", ".join(f"{name}: {rows:,} rows" for name, rows in counts.items())
              + f" (rebuilt in {time.perf_counter() - started:.1f} s).")
        started = time.perf_counter()
        with engine.begin() as connection:
            indexed = search_index.rebuild(connection)
        print(f"Indexed {indexed:,} customers for lookup in {time.perf_counter() - started:.1f} s.")
        with engine.begin() as connection:
            listed = vocabulary.rebuild(connection)
        print(f"Listed {listed:,} pick-list values.")
        return 0
    with engine.connect() as connection:
        stale = summary.differences(connection)
        stale_kpi = kpi_tables.differences(connection)
        stale_index = search_index.differences(connection)
        stale_values = vocabulary.differences(connection)
    print(f"{stale:,} summary rows differ from the orders, contacts and consent on file.")
    print("KPI tables: "
          + ", ".join(f"{name}: {rows:,} rows differ" for name, rows in stale_kpi.items()))
    print(f"{stale_index:,} customers' lookup text differs from their record.")
    print(f"{stale_values:,} pick-list values differ from the data.")
    return 1 if stale or stale_index or stale_values or any(stale_kpi.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
