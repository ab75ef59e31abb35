"""Scenario: customer lookup on a large database, beside a LIKE scan and a pandas filter.

``python -m bench.lookup --path FILE`` migrates the file (building the search index if it
is missing), draws test queries from its own customers and prints one JSON line of timings;
``--url URL`` does the same over any ``DATABASE_URL`` (PostgreSQL at the same scale).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import pandas as pd
import phonenumbers
from sqlalchemy import text

from db.core.access import Actor
from db.core.engine import make_engine
from db.derived.search_index import fold
from db.migrate import upgrade
from db.search.ranking import search_customers

READER = Actor("bench", "manager")
SAMPLES = 20


def _queries(engine, rng: random.Random) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        top = connection.execute(text("SELECT max(id) FROM customer")).scalar_one()
        rows = []
        while len(rows) < SAMPLES:
            row = connection.execute(text(
                "SELECT first_name, last_name, email, phone FROM customer WHERE id = :id "
                "AND email IS NOT NULL AND phone IS NOT NULL AND length(last_name) >= 5"),
                {"id": rng.randint(1, top)}).first()
            if row:
                rows.append(row)
    def national(e164: str) -> str:
        return phonenumbers.format_number(phonenumbers.parse(e164),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    def swapped(last: str) -> str:
        return last[0] + last[2] + last[1] + last[3:]
    return {
        "exact e-mail": [r.email.upper() for r in rows],
        "exact phone (national format)": [national(r.phone) for r in rows],
        "prefix (4 letters of a surname)": [fold(r.last_name)[:4] for r in rows],
        "substring (inside an e-mail)": [r.email.split("@")[0][2:7] for r in rows],
        "typo (two letters swapped)": [f"{fold(r.first_name)} {swapped(fold(r.last_name))}"
                                       for r in rows],
        "typo in a lone surname": [swapped(fold(r.last_name)) for r in rows],
    }


def _timed(function, inputs: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for value in inputs:
        started = time.perf_counter()
        function(value)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]}


def measure(url: str) -> dict:
    started = time.perf_counter()
    upgrade(url)
    migrate_seconds = time.perf_counter() - started
    engine = make_engine(url)
    queries = _queries(engine, random.Random(3))
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM customer")).scalar_one()
        frame = pd.read_sql(text(
            "SELECT id, lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') "
            "|| ' ' || coalesce(phone, '')) AS body FROM customer"), connection)
    like = text("SELECT id FROM customer WHERE lower(first_name || ' ' || last_name || ' ' || "
                "coalesce(email, '') || ' ' || coalesce(phone, '')) LIKE :pattern LIMIT 50")
    results: dict[str, dict] = {}
    with engine.connect() as connection:
        for name, inputs in queries.items():
            search_customers(READER, inputs[0], engine=engine)  # warm the page cache
            lookup = _timed(lambda q: search_customers(READER, q, engine=engine), inputs)
            scan = _timed(lambda q: connection.execute(
                like, {"pattern": f"%{q.lower()}%"}).all(), inputs[:5])
            pandas = _timed(lambda q: frame[frame["body"].str.contains(
                q.lower(), regex=False)].head(50), inputs[:5])
            results[name] = {"lookup": _summary(lookup), "like_scan": _summary(scan),
                             "pandas": _summary(pandas),
                             "example": inputs[0]}
    return {"customers": count, "migrate_seconds": migrate_seconds, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    database = parser.add_mutually_exclusive_group(required=True)
    database.add_argument("--path", type=Path, help="a SQLite file")
    database.add_argument("--url", help="any DATABASE_URL, e.g. postgresql+psycopg://...")
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.url or f"sqlite:///{arguments.path}")))


if __name__ == "__main__":
    main()
