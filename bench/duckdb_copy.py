"""The raw tables of a benchmark database copied into an in-memory DuckDB, the baseline that
custdb's queries are compared with (DuckDB computes from the raw rows, with no summary)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import duckdb
import pandas as pd

_TABLES = {
    "customer": "SELECT id, country, status, birth_date, email, deleted_at, erased_at "
                "FROM customer",
    "orders": "SELECT id, customer_id, ordered_at, amount, category, channel FROM orders",
    "interaction": "SELECT customer_id, at, kind FROM interaction",
    "feedback": "SELECT id, customer_id, at, nps_score FROM feedback",
    "consent_event": "SELECT id, customer_id, purpose, granted, at FROM consent_event",
    "customer_tag": "SELECT customer_id, tag_id FROM customer_tag",
    "tag": "SELECT id, name FROM tag",
}
_TIMESTAMPS = {"customer": ["deleted_at", "erased_at"], "orders": ["ordered_at"],
               "interaction": ["at"], "feedback": ["at"], "consent_event": ["at"]}


def copy_into_duckdb(path: Path) -> tuple[duckdb.DuckDBPyConnection, float]:
    """The raw tables copied into an in-memory DuckDB (not timed as part of any query)."""
    started = time.perf_counter()
    database = duckdb.connect()
    with sqlite3.connect(path) as source:
        for name, query in _TABLES.items():
            frame = pd.read_sql_query(query, source)
            for column in _TIMESTAMPS.get(name, []):
                frame[column] = pd.to_datetime(frame[column], format="ISO8601")
            if name == "customer":
                frame["birth_date"] = pd.to_datetime(frame["birth_date"]).dt.date
            if name == "orders":
                frame["amount"] = frame["amount"].round(2)
            if name == "consent_event":
                frame["granted"] = frame["granted"].astype(bool)
            database.register("frame", frame)
            database.execute("CREATE TABLE " + name + " AS SELECT * FROM frame")
            database.unregister("frame")
            del frame
    return database, time.perf_counter() - started


