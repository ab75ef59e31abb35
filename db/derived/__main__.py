"""``python -m db.derived rebuild|check``: every table derived from the operational data.

The write services keep the per-customer summary (:mod:`db.derived.summary`) and the KPI tables
(:mod:`db.kpi.tables`) current in the same transaction as each change. ``rebuild`` recomputes
both from the data (after a bulk load, or a change to how a figure is computed); ``check``
counts the rows that differ from a fresh computation and exits with 1 if any do. One command,
so that neither is forgotten; each is rebuilt in its own transaction, the summary first, as the
two commands it replaces did.
"""

from __future__ import annotations

import argparse
import time

from db.core.engine import get_engine
from db.derived import summary
from db.kpi import tables as kpi_tables


def main(argv: list[str] | None = None) -> int:
    """Run ``rebuild`` or ``check``; returns the exit status (1: a ``check`` found stale rows)."""
    parser = argparse.ArgumentParser(
        prog="python -m db.derived",
        description="Maintain the tables derived from the data: the per-customer summary "
                    "and the KPI tables.")
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
        return 0
    with engine.connect() as connection:
        stale = summary.differences(connection)
        stale_kpi = kpi_tables.differences(connection)
    print(f"{stale:,} summary rows differ from the orders, contacts and consent on file.")
    print("KPI tables: "
          + ", ".join(f"{name}: {rows:,} rows differ" for name, rows in stale_kpi.items()))
    return 1 if stale or any(stale_kpi.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
