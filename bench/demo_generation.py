"""Scenario: loading demo data, and the ORM one-object-per-row path it replaces.

``python -m bench.demo_generation build --customers N --path FILE`` loads N customers (with
about ten orders each) into a new SQLite file through :mod:`db.demo.loader`.
``python -m bench.demo_generation compare --path FILE --rows K`` re-inserts K orders of that
file inside transactions that are rolled back: as ORM objects (``session.add`` per row), with
pandas ``DataFrame.to_sql`` and through :func:`db.core.bulk.insert_rows` — the same rows into the
same database.
Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from db.core.bulk import insert_rows
from db.core.engine import make_engine
from db.core.sql import table_of
from db.demo.loader import load_demo_data
from db.migrate import upgrade
from db.models import Order

AS_OF = date(2026, 11, 1)
COLUMNS = ("customer_id", "ordered_at", "amount", "currency", "category", "channel", "product",
           "quantity")


def build(path: Path, customers: int, seed: int) -> dict:
    url = f"sqlite:///{path}"
    upgrade(url)
    counts = load_demo_data(make_engine(url), customers=customers, seed=seed, as_of=AS_OF)
    return {"seconds": counts.seconds, "rows": counts.rows, "orders": counts.orders}


def compare(path: Path, rows: int) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        orders = session.exec(select(Order).order_by(Order.id).limit(rows)).all()
        copies = [order.model_dump(include=set(COLUMNS)) for order in orders]

    with Session(engine) as session:
        started = time.perf_counter()
        for values in copies:
            session.add(Order(**values))
        session.flush()
        orm_seconds = time.perf_counter() - started
        session.rollback()

    with engine.connect() as connection, connection.begin() as transaction:
        stored = connection.exec_driver_sql(
            "SELECT customer_id, ordered_at, amount, currency, category, channel, product, "
            "quantity FROM orders ORDER BY id LIMIT ?", (rows,)).all()
        started = time.perf_counter()
        insert_rows(connection, table_of(Order), COLUMNS, stored)
        bulk_seconds = time.perf_counter() - started
        transaction.rollback()

    frame = pd.DataFrame(stored, columns=list(COLUMNS))
    with engine.connect() as connection, connection.begin() as transaction:
        started = time.perf_counter()
        frame.to_sql("orders", connection, if_exists="append", index=False, chunksize=10_000)
        pandas_seconds = time.perf_counter() - started
        transaction.rollback()
    return {"rows": len(copies), "orm_rows_per_s": len(copies) / orm_seconds,
            "pandas_rows_per_s": len(frame) / pandas_seconds,
            "bulk_rows_per_s": len(stored) / bulk_seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("build", "compare"))
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    result = (build(args.path, args.customers, args.seed) if args.mode == "build"
              else compare(args.path, args.rows))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
