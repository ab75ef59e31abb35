"""Scenario: the Audit page over millions of events, keyset pages against OFFSET pages.

``python -m bench.audit_paging build --events N --path FILE`` writes N chained events (the
same hash chain :mod:`db.audit.trail` writes, loaded in bulk); ``... measure --path FILE`` times the
page queries the Audit page runs and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import text

from db.audit.search import PAGE_SIZE, AuditFilter, search_events
from db.audit.trail import GENESIS_HASH, event_hash
from db.core.access import Actor
from db.core.bulk import indexes_deferred, insert_rows
from db.core.engine import make_engine
from db.core.sql import table_of
from db.migrate import upgrade
from db.models import AuditEvent

ACTORS = [f"user{n:02d}" for n in range(40)]
ACTIONS = ["customer.update", "customer.create", "consent.change", "interaction.log",
           "login.success", "login.failure", "logout", "segment.update", "export"]
COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "changes", "source",
           "prev_hash", "hash")
READER = Actor("bench", "manager")


def build(path: Path, events: int) -> dict:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    rng = np.random.default_rng(5)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=700) / events
    started = time.perf_counter()
    table = table_of(AuditEvent)
    prev = GENESIS_HASH
    with engine.begin() as connection, indexes_deferred(connection, [table]):
        for first in range(0, events, 200_000):
            count = min(200_000, events - first)
            actors = rng.integers(0, len(ACTORS), count)
            actions = rng.integers(0, len(ACTIONS), count)
            customers = rng.integers(1, 1_000_000, count)
            rows = []
            for i in range(count):
                at = start + step * (first + i)
                fields = {"at": at, "actor": ACTORS[actors[i]], "action": ACTIONS[actions[i]],
                          "entity": "customer", "entity_id": str(customers[i]),
                          "changes": json.dumps({"city": [f"c{i % 97}", f"c{i % 89}"]}),
                          "source": "form"}
                digest = event_hash(prev_hash=prev, **fields)
                rows.append((first + i + 1, at.replace(tzinfo=None).isoformat(" "),
                             fields["actor"], fields["action"], "customer", fields["entity_id"],
                             fields["changes"], "form", prev, digest))
                prev = digest
            insert_rows(connection, table, COLUMNS, rows)
    return {"events": events, "seconds": time.perf_counter() - started}


def _time(function, repeat: int = 15) -> dict:  # type: ignore[no-untyped-def]
    cold_start = time.perf_counter()
    function()
    cold = time.perf_counter() - cold_start
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    runs.sort()
    return {"cold_ms": cold * 1000, "median_ms": statistics.median(runs) * 1000,
            "p95_ms": runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))] * 1000}


def _cursor_at_page(engine, filters: AuditFilter, page: int) -> int | None:  # type: ignore[no-untyped-def]
    before = None
    for _ in range(page - 1):
        before = search_events(READER, filters, before_id=before, engine=engine).next_before_id
    return before


def measure(path: Path) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    cases = {
        "all events": AuditFilter(),
        "one user": AuditFilter(actor="user07"),
        "one action": AuditFilter(action="consent.change"),
        "one customer": AuditFilter(entity="customer", entity_id="424242"),
        "one month": AuditFilter(since=datetime(2024, 6, 1).date(),
                                 until=datetime(2024, 6, 30).date()),
    }
    results: dict[str, dict] = {}
    for name, filters in cases.items():
        cursor = _cursor_at_page(engine, filters, 100)
        results[name] = {
            "page 1": _time(lambda f=filters: search_events(READER, f, engine=engine)),
            "page 100": _time(lambda f=filters, c=cursor: search_events(
                READER, f, before_id=c, engine=engine)),
        }
    # Baseline: the same 100th page of all events by OFFSET, as a naive pager would ask.
    with engine.connect() as connection:
        offset_query = text("SELECT * FROM audit_event ORDER BY id DESC LIMIT :n OFFSET :skip")
        results["all events"]["page 100 by OFFSET"] = _time(lambda: connection.execute(
            offset_query, {"n": PAGE_SIZE, "skip": PAGE_SIZE * 99}).all())
        count_query = text("SELECT * FROM audit_event WHERE actor = 'user07' "
                           "ORDER BY id DESC LIMIT :n OFFSET :skip")
        results["one user"]["page 100 by OFFSET"] = _time(lambda: connection.execute(
            count_query, {"n": PAGE_SIZE, "skip": PAGE_SIZE * 99}).all())
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("build", "measure"))
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--events", type=int, default=5_000_000)
    args = parser.parse_args()
    result = build(args.path, args.events) if args.mode == "build" else measure(args.path)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
