"""Scenario: every figure of the KPI page on a large database, beside DuckDB.

``python -m bench.kpis --path FILE`` migrates the file, then for two periods (the last 30 and
the last 365 days, by week) times :func:`db.kpi.board.dashboard` (what the page computes, every
query together): cold (the first call in this process) and recomputed (median of the next
calls), and what a rerun costs when the page's cache holds the figures (the data-version
query and the lookup). It then loads the raw tables into an in-memory DuckDB and times
hand-written SQL for the same figures, which must agree with custdb's. It also times the
30-day page narrowed to a saved dynamic segment. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

import duckdb
from sqlalchemy import Engine

from bench.duckdb_copy import copy_into_duckdb
from bench.segments import DEFINITIONS
from db.core.access import Actor
from db.core.engine import make_engine
from db.kpi import board as kpi_board
from db.kpi.filters import Filters
from db.kpi.periods import Period, preset
from db.migrate import upgrade
from db.segments import preview as segment_preview
from db.segments import service as segments

MANAGER = Actor("bench", "manager")
ADMIN = Actor("bench", "admin")
SEGMENT_FILTER = "recent book buyers in DE or AT"
RUNS = 3
PRESETS = ("last_30", "last_365")
GRANULARITY = "week"

# The same figures in DuckDB SQL over the raw tables; $s and $e bound a period (UTC).
_CENTS = "CAST(round(amount * 100) AS BIGINT)"
_FIRSTS = """(SELECT customer_id, min(ordered_at) AS first_at FROM orders
              GROUP BY customer_id)"""
SALES = f"""
    SELECT coalesce(sum({_CENTS}), 0), count(*) FILTER (WHERE amount >= 0),
           count(*) FILTER (WHERE amount < 0),
           count(*) FILTER (WHERE (customer_id, ordered_at, id) IN (
               SELECT customer_id, ordered_at, id FROM orders QUALIFY row_number() OVER (
                   PARTITION BY customer_id ORDER BY ordered_at, id) = 1))
    FROM orders WHERE ordered_at >= $s AND ordered_at < $e"""
DAILY = f"""
    SELECT CAST(ordered_at AS DATE) AS day, sum({_CENTS}), count(*) FILTER (WHERE amount >= 0)
    FROM orders WHERE ordered_at >= $s AND ordered_at < $e GROUP BY day"""
ACTIVE = """
    SELECT DISTINCT customer_id FROM orders
    WHERE amount >= 0 AND ordered_at >= $s AND ordered_at < $e"""
CUSTOMERS = f"""
    WITH now AS ({ACTIVE}),
         before AS ({ACTIVE.replace("$s", "$ps").replace("$e", "$s")}),
         counted AS (SELECT customer_id, count(*) AS n FROM orders
                     WHERE amount >= 0 AND ordered_at >= $s AND ordered_at < $e
                     GROUP BY customer_id)
    SELECT (SELECT count(*) FROM now),
           (SELECT count(*) FROM now JOIN {_FIRSTS} f USING (customer_id)
            WHERE f.first_at < $s),
           (SELECT count(*) FROM counted WHERE n >= 2),
           (SELECT count(*) FROM before),
           (SELECT count(*) FROM before JOIN now USING (customer_id))"""
BY_COUNTRY = f"""
    SELECT c.country, count(*) FROM ({ACTIVE}) a JOIN customer c ON c.id = a.customer_id
    GROUP BY c.country"""
WEEKLY = """
    WITH days AS (SELECT DISTINCT customer_id, date_trunc('week', ordered_at) AS week
                  FROM orders WHERE amount >= 0 AND ordered_at >= $s AND ordered_at < $e)
    SELECT week, count(*) FROM days GROUP BY week"""
COHORTS = f"""
    WITH firsts AS (SELECT customer_id, date_trunc('month', first_at) AS cohort
                    FROM {_FIRSTS} WHERE first_at >= $ms AND first_at < $e),
         months AS (SELECT DISTINCT customer_id, date_trunc('month', ordered_at) AS month
                    FROM orders WHERE amount >= 0 AND ordered_at >= $ms AND ordered_at < $e)
    SELECT f.cohort, m.month, count(*) FROM firsts f JOIN months m USING (customer_id)
    WHERE m.month >= f.cohort GROUP BY ALL"""
BREAKDOWN = f"""
    SELECT {{by}}, sum({_CENTS}) FROM orders
    WHERE ordered_at >= $s AND ordered_at < $e GROUP BY {{by}}"""
ENGAGEMENT = """
    SELECT count(*) FILTER (WHERE nps_score >= 9), count(*) FILTER (WHERE nps_score <= 6),
           count(*) FROM feedback WHERE "at" >= $s AND "at" < $e"""
CONTACTS = """SELECT kind, count(*) FROM interaction WHERE "at" >= $s AND "at" < $e
              GROUP BY kind"""
NPS_DAILY = """
    SELECT CAST("at" AS DATE), count(*) FILTER (WHERE nps_score >= 9), count(*)
    FROM feedback WHERE "at" >= $s AND "at" < $e GROUP BY 1"""
_LIVE = "c.deleted_at IS NULL AND c.erased_at IS NULL"
RFM_AND_VALUE = f"""
    WITH per AS (SELECT o.customer_id, max(o.ordered_at) AS last, count(*) AS n,
                        sum({_CENTS}) AS spend
                 FROM orders o JOIN customer c ON c.id = o.customer_id WHERE {_LIVE}
                 GROUP BY o.customer_id)
    SELECT CASE WHEN CAST(last AS DATE) >= $today - 30 THEN 5
                WHEN CAST(last AS DATE) >= $today - 90 THEN 4
                WHEN CAST(last AS DATE) >= $today - 180 THEN 3
                WHEN CAST(last AS DATE) >= $today - 365 THEN 2 ELSE 1 END AS r,
           CASE WHEN n >= 10 THEN 5 WHEN n >= 5 THEN 4 WHEN n >= 3 THEN 3
                WHEN n >= 2 THEN 2 ELSE 1 END AS f,
           count(*), sum(spend)
    FROM per GROUP BY ALL"""
TOP = f"""
    SELECT o.customer_id, sum({_CENTS}) AS revenue FROM orders o
    JOIN customer c ON c.id = o.customer_id
    WHERE {_LIVE} AND o.ordered_at >= $s AND o.ordered_at < $e
    GROUP BY o.customer_id HAVING revenue > 0 ORDER BY revenue DESC, o.customer_id LIMIT 20"""


def _bounds(period: Period) -> dict[str, datetime]:
    start, end = period.bounds()
    return {"s": start.replace(tzinfo=None), "e": end.replace(tzinfo=None)}


def _duckdb_figures(database: duckdb.DuckDBPyConnection, period: Period,
                    today: date) -> dict:
    """Every figure of the page for ``period``, from the raw rows; returns the ones that
    are compared with custdb's."""
    def run(sql: str, **values: object) -> list[tuple]:
        used = {key: value for key, value in values.items() if "$" + key in sql}
        return database.execute(sql, used).fetchall()

    now, previous, earlier = _bounds(period), _bounds(period.previous()), _bounds(
        period.year_earlier())
    figures = {"sales": run(SALES, **now)[0]}
    run(SALES, **previous)
    run(SALES, **earlier)
    run(DAILY, **now)
    run(DAILY, **previous)
    before_previous = _bounds(period.previous().previous())
    figures["customers"] = run(CUSTOMERS, **now, ps=previous["s"])[0]
    run(CUSTOMERS, **previous, ps=before_previous["s"])
    run(CUSTOMERS, **earlier, ps=_bounds(period.year_earlier().previous())["s"])
    run(BY_COUNTRY, **now)
    run(WEEKLY, **now)
    month_start = datetime.combine(period.first.replace(day=1), clock())
    run(COHORTS, **now, ms=month_start)
    figures["by_category"] = dict(run(BREAKDOWN.format(by="category"), **now))
    run(BREAKDOWN.format(by="channel"), **now)
    for bounds in (now, previous, earlier):
        run(ENGAGEMENT, **bounds)
        run(CONTACTS, **bounds)
    run(NPS_DAILY, **now)
    figures["rfm"] = {(r, f): (count, spend) for r, f, count, spend
                      in run(RFM_AND_VALUE, today=today)}
    figures["top"] = [customer for customer, _ in run(TOP, **now)]
    return figures


def _agree(board: kpi_board.Dashboard, duck: dict) -> bool:
    """Whether the figures compared come out the same both ways."""
    counts = board.customers.counts
    rfm = {(row.recency, row.frequency): (row.customers, row.spend_cents)
           for row in board.rfm.itertuples()}
    return (tuple(duck["sales"]) == (board.sales.revenue_cents, board.sales.orders,
                                     board.sales.refunds, board.sales.new_customers)
            and tuple(duck["customers"]) == (counts.active, counts.returning,
                                             counts.repeaters, counts.previous_active,
                                             counts.retained)
            and duck["by_category"] == dict(zip(board.by_category["group"],
                                                board.by_category["revenue_cents"],
                                                strict=True))
            and duck["rfm"] == rfm
            and duck["top"] == list(board.top_customers["customer_id"]))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def measure(path: Path) -> dict:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        last = connection.exec_driver_sql("SELECT max(day) FROM daily_totals").scalar_one()
    today = date.fromisoformat(str(last))  # the data's last day stands for today
    results: dict[str, dict] = {}
    boards = {}
    for name in PRESETS:
        period = preset(name, today)
        started = time.perf_counter()
        boards[name] = kpi_board.dashboard(MANAGER, period, GRANULARITY, today=today,
                                         engine=engine)
        cold = _ms(started)
        again = []
        for _ in range(RUNS):
            started = time.perf_counter()
            kpi_board.dashboard(MANAGER, period, GRANULARITY, today=today, engine=engine)
            again.append(_ms(started))
        cache = {(name, kpi_board.data_version(engine=engine)): boards[name]}
        cached = []
        for _ in range(RUNS):
            started = time.perf_counter()
            assert cache[(name, kpi_board.data_version(engine=engine))] is boards[name]
            cached.append(_ms(started))
        results[name] = {"cold_ms": cold, "recomputed_ms": statistics.median(again),
                         "cached_ms": statistics.median(cached)}
    segment_filter = _with_segment(engine, today)
    database, load_seconds = copy_into_duckdb(path)
    for name in PRESETS:
        period = preset(name, today)
        figures = _duckdb_figures(database, period, today)  # the first run warms DuckDB up
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            _duckdb_figures(database, period, today)
            times.append(_ms(started))
        results[name] |= {"duckdb_ms": statistics.median(times),
                          "agree": _agree(boards[name], figures)}
    with engine.connect() as connection:
        customers = connection.exec_driver_sql("SELECT count(*) FROM customer").scalar_one()
        orders = connection.exec_driver_sql("SELECT count(*) FROM orders").scalar_one()
    return {"customers": customers, "orders": orders, "today": today.isoformat(),
            "results": results, "segment_filter": segment_filter,
            "duckdb_load_seconds": load_seconds}


def _with_segment(engine: Engine, today: date) -> dict:
    """The last 30 days narrowed to a dynamic segment of the segments benchmark (saved for
    the run, then deleted): its members' rows are computed at every call."""
    name = SEGMENT_FILTER
    segment = segments.save_segment(ADMIN, name=f"bench: {name}", description=None,
                                    kind="dynamic", definition=DEFINITIONS[name],
                                    engine=engine)
    try:
        period, filters = preset("last_30", today), Filters(segment_id=segment.id)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            board = kpi_board.dashboard(MANAGER, period, GRANULARITY, filters, today=today,
                                      engine=engine)
            times.append(_ms(started))
        members = segment_preview.count(ADMIN, DEFINITIONS[name], engine=engine)
    finally:
        segments.delete_segment(ADMIN, segment.id, engine=engine)
    return {"definition": name, "members": members, "first_ms": times[0],
            "recomputed_ms": statistics.median(times[1:]),
            "active": board.customers.counts.active}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, required=True)
    print(json.dumps(measure(parser.parse_args().path), default=str))


if __name__ == "__main__":
    main()
