"""Scenario: counting five realistic segments on a large database, beside DuckDB.

``python -m bench.segments --path FILE`` migrates the file, times ``db.segments.preview.count`` for
each definition below and the builder's full preview for one of them (with the all-customers
side computed beforehand, as the page caches it), then loads the raw
tables into an in-memory DuckDB and times hand-written SQL for the same definitions (no
summary table: DuckDB scans the orders themselves). The member counts of both must agree.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.duckdb_copy import copy_into_duckdb
from db.core.access import Actor
from db.core.engine import make_engine
from db.core.sql import years_before
from db.kpi.board import data_version
from db.migrate import upgrade
from db.segments import preview
from db.segments.definition import Condition, Group, Window

MARKETING = Actor("bench", "marketing")
RUNS = 5


def _last(days: int) -> Window:
    return Window(kind="last_days", days=days)


DEFINITIONS: dict[str, Group] = {
    "lapsed big spenders, emailable": Group(children=[
        Condition(field="total_spend", op="ge", value="1000"),
        Condition(field="days_since_last_order", op="ge", value=180),
        Condition(field="consent", op="granted", value="email_marketing")]),
    "recent book buyers in DE or AT": Group(children=[
        Condition(field="country", op="in", value=["DE", "AT"]),
        Condition(field="category", op="has_any", value=["books"], window=_last(90))]),
    "wine/travel fans or frequent buyers, not churned": Group(children=[
        Group(match="any", children=[
            Condition(field="tags", op="has_any", value=["wine", "travel"]),
            Condition(field="order_count", op="ge", value=10, window=_last(365))]),
        Group(negate=True, children=[Condition(field="status", op="eq", value="churned")])]),
    "promoters aged 25-44 who use the app": Group(children=[
        Condition(field="nps_group", op="eq", value="promoter"),
        Condition(field="age", op="between", value=[25, 44]),
        Condition(field="channel", op="has_any", value=["app"])]),
    "in touch but not buying": Group(children=[
        Condition(field="interactions", op="ge", value=2, window=_last(180)),
        Condition(field="order_count", op="eq", value=0, window=_last(180)),
        Condition(field="has_email", op="is_true")]),
}
PREVIEWED = "recent book buyers in DE or AT"

# The same definitions in DuckDB SQL over the raw tables; $-parameters are set per run.
_LIVE = "k.deleted_at IS NULL AND k.erased_at IS NULL"
DUCKDB_SQL = {
    "lapsed big spenders, emailable": f"""
        WITH o AS (SELECT customer_id, sum(amount) AS spend, max(ordered_at) AS last
                   FROM orders GROUP BY customer_id),
             c AS (SELECT customer_id, granted FROM consent_event
                   WHERE purpose = 'email_marketing'
                   QUALIFY row_number() OVER (PARTITION BY customer_id
                                              ORDER BY "at" DESC, id DESC) = 1)
        SELECT count(*) FROM customer k JOIN o ON o.customer_id = k.id
        JOIN c ON c.customer_id = k.id
        WHERE {_LIVE} AND o.spend >= 1000 AND o.last <= $d180 AND c.granted""",
    "recent book buyers in DE or AT": f"""
        SELECT count(*) FROM customer k WHERE {_LIVE} AND k.country IN ('DE', 'AT')
        AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = k.id
                    AND o.category = 'books' AND o.ordered_at >= $d90)""",
    "wine/travel fans or frequent buyers, not churned": f"""
        SELECT count(*) FROM customer k WHERE {_LIVE} AND k.status <> 'churned' AND (
            EXISTS (SELECT 1 FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id
                    WHERE ct.customer_id = k.id AND t.name IN ('wine', 'travel'))
            OR (SELECT count(*) FROM orders o WHERE o.customer_id = k.id
                AND o.ordered_at >= $d365) >= 10)""",
    "promoters aged 25-44 who use the app": f"""
        WITH f AS (SELECT customer_id, nps_score AS s FROM feedback
                   QUALIFY row_number() OVER (PARTITION BY customer_id
                                              ORDER BY "at" DESC, id DESC) = 1)
        SELECT count(*) FROM customer k JOIN f ON f.customer_id = k.id
        WHERE {_LIVE} AND f.s >= 9 AND k.birth_date <= $born25 AND k.birth_date > $born45
        AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = k.id AND o.channel = 'app')""",
    "in touch but not buying": f"""
        SELECT count(*) FROM customer k WHERE {_LIVE} AND k.email IS NOT NULL
        AND k.email <> ''
        AND (SELECT count(*) FROM interaction i WHERE i.customer_id = k.id
             AND i.at >= $d180) >= 2
        AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = k.id
                        AND o.ordered_at >= $d180)""",
}

def _timed(function: Callable[[], object]) -> tuple[list[float], object]:
    """Milliseconds of ``RUNS`` calls after one warm-up call, and what the calls returned."""
    result = function()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def measure(path: Path) -> dict:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    results: dict[str, dict] = {}
    for name, definition in DEFINITIONS.items():
        times, members = _timed(lambda d=definition: preview.count(MARKETING, d, as_of=now,
                                                                    engine=engine))
        results[name] = {"sqlite_ms": statistics.median(times), "members": members}
    # The page counts "all customers" once per data version (ahead, in the background) and
    # each preview after: counted afresh, and as every call after the first finds it.
    population_times, everyone = _timed(lambda: preview.population(MARKETING, as_of=now,
                                                                   engine=engine))
    version = data_version(engine=engine)
    started = time.perf_counter()
    preview.population(MARKETING, version=version, engine=engine)
    population_first_ms = (time.perf_counter() - started) * 1000
    kept_times, _ = _timed(lambda: preview.population(MARKETING, version=version,
                                                      engine=engine))
    preview_times, _ = _timed(lambda: preview.preview(MARKETING, DEFINITIONS[PREVIEWED],
                                                      as_of=now, everyone=everyone,
                                                      engine=engine))
    database, load_seconds = copy_into_duckdb(path)
    today = now.date()
    parameters = {"d90": now - timedelta(days=90), "d180": now - timedelta(days=180),
                  "d365": now - timedelta(days=365),
                  "born25": years_before(today, 25), "born45": years_before(today, 45)}
    naive = {key: value.replace(tzinfo=None) if isinstance(value, datetime) else value
             for key, value in parameters.items()}
    for name, sql in DUCKDB_SQL.items():
        used = {key: value for key, value in naive.items() if "$" + key in sql}
        times, rows = _timed(lambda s=sql, u=used: database.execute(s, u).fetchall())
        results[name] |= {"duckdb_ms": statistics.median(times), "duckdb_members": rows[0][0]}
    customers = engine.connect().exec_driver_sql("SELECT count(*) FROM customer").scalar_one()
    orders = engine.connect().exec_driver_sql("SELECT count(*) FROM orders").scalar_one()
    return {"customers": customers, "orders": orders, "results": results,
            "preview": {"definition": PREVIEWED, "median_ms": statistics.median(preview_times),
                        "population_ms": statistics.median(population_times),
                        "population_per_version_first_ms": population_first_ms,
                        "population_per_version_ms": statistics.median(kept_times)},
            "duckdb_load_seconds": load_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, required=True)
    print(json.dumps(measure(parser.parse_args().path), default=str))


if __name__ == "__main__":
    main()
