"""Concurrent writers on each engine: no write fails because another writer was busy, and
none is lost.

Eight worker processes (``spawn``, so each has its own engine and connection pool, as
Streamlit replicas or a script beside the app would) each make a mix of writes through the
services on their own customer: record an order, edit the customer (naming the version
they saw), log an interaction. They start together behind a barrier. Afterwards every order
and interaction written is on file, each customer's version counts its edits, the derived
tables agree with a fresh computation and the audit chain verifies.

The workload is the issue's 8 x 200 writes (``CUSTDB_STRESS_WRITES`` changes the 200). It
took about 15 s per engine on two shared cores when it was written; now 29-53 s per engine
in a whole-suite run on an idle machine and 150-195 s on a loaded one, although one write
alone takes 9-16 ms (65 statements for an order, 41 for a contact): the time goes to the
writers waiting for each other, an open item of the speed issue. Every wait is bounded.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import traceback
import types
from multiprocessing.synchronize import Barrier
from typing import Any
from unittest.mock import patch

from sqlalchemy import Engine, func
from sqlmodel import col, select

from db.audit import trail
from db.core.engine import make_engine, read_session
from db.customers.grid import update_many
from db.customers.orders import record_order
from db.customers.profile import log_interaction
from db.customers.service import update_customer
from db.derived import kpi_tables, summary
from db.models import Customer, Interaction, Order
from tests.factories import ADMIN, customer

WORKERS = 8
WRITES = int(os.environ.get("CUSTDB_STRESS_WRITES", "200"))
# A hung worker fails the test instead of hanging the suite. Not a speed target: 150 s was
# reached by a loaded run that lost no write.
DEADLINE_S = 400

LOCK_WORDS = ("locked", "busy", "deadlock", "could not serialize", "lock not available",
              "could not obtain lock")


def _writer(url: str, customer_id: int, worker: int, writes: int, barrier: Barrier,
            results: Any) -> None:
    """One worker: ``writes`` mixed writes; puts its counts and errors on ``results``."""
    done = {"orders": 0, "edits": 0, "contacts": 0, "ms": 0, "slowest_ms": 0}
    errors: list[str] = []
    engine = make_engine(url)
    try:
        version = 1
        with engine.connect():
            pass  # connect before the start line, so the writes themselves race
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for step in range(writes):
            began = time.perf_counter()
            try:
                if step % 3 == 0:
                    record_order(ADMIN, customer_id, amount=f"{10 + step}.50", category="books",
                                 channel="web", product=f"Book {step}", engine=engine)
                    done["orders"] += 1
                elif step % 3 == 1:
                    saved = update_customer(ADMIN, customer_id, version,
                                            {"city": f"City {worker}-{step}"}, engine=engine)
                    version = saved.version
                    done["edits"] += 1
                else:
                    log_interaction(ADMIN, customer_id, kind="call",
                                    subject=f"Call {worker}-{step}", engine=engine)
                    done["contacts"] += 1
            except Exception as error:  # counted and reported, the run goes on
                lines = str(error).splitlines()
                statement = [line for line in lines if line.startswith("[SQL:")]
                errors.append(" ".join([f"{type(error).__name__}: {lines[0]}", *statement[:1]]))
            done["slowest_ms"] = max(done["slowest_ms"],
                                     round((time.perf_counter() - began) * 1000))
        done["ms"] = round((time.perf_counter() - started) * 1000)
    except Exception:
        errors.append(traceback.format_exc())
    finally:
        engine.dispose()
        results.put((customer_id, done, errors))


def _run_workers(url: str, customer_ids: list[int]) -> tuple[dict[int, dict[str, int]],
                                                              list[str]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(customer_ids))
    results = context.Queue()
    workers = [context.Process(target=_writer, args=(url, customer_id, number, WRITES,
                                                     barrier, results))
               for number, customer_id in enumerate(customer_ids)]
    # A spawned child first re-imports the parent's __main__; after an AppTest in this
    # process that is the last page script run, whose code would run again in every child.
    with patch.dict(sys.modules, {"__main__": types.ModuleType("__main__")}):
        for worker in workers:
            worker.start()
    done: dict[int, dict[str, int]] = {}
    errors: list[str] = []
    try:
        for _ in workers:
            customer_id, counts, worker_errors = results.get(timeout=DEADLINE_S)
            done[customer_id] = counts
            errors += worker_errors
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    return done, errors


def test_concurrent_writers_never_fail_on_a_lock_nor_lose_a_write(
        database_url: str, engine: Engine) -> None:
    customer_ids = [customer(engine, f"Writer{number}", "Stress").id or 0
                    for number in range(WORKERS)]
    started = time.perf_counter()
    done, errors = _run_workers(database_url, customer_ids)
    elapsed = time.perf_counter() - started
    lock_errors = [error for error in errors
                   if any(word in error.lower() for word in LOCK_WORDS)]
    writing = max(counts["ms"] for counts in done.values()) / 1000
    slowest = max(counts["slowest_ms"] for counts in done.values()) / 1000
    print(f"{WORKERS} x {WRITES} writes on {engine.dialect.name}: {elapsed:.1f} s "
          f"({writing:.1f} s writing, slowest write {slowest:.1f} s), "
          f"{len(lock_errors)} lock errors, {len(errors)} errors")
    assert lock_errors == [], f"{len(lock_errors)} of {WORKERS * WRITES} writes: {lock_errors[:3]}"
    assert errors == []
    assert len(done) == WORKERS

    with read_session(engine) as session:
        for customer_id in customer_ids:
            orders = session.exec(select(func.count()).select_from(Order)
                                  .where(col(Order.customer_id) == customer_id)).one()
            contacts = session.exec(select(func.count()).select_from(Interaction)
                                    .where(col(Interaction.customer_id) == customer_id)).one()
            stored = session.get(Customer, customer_id)
            assert stored is not None
            assert (orders, contacts, stored.version) == (
                done[customer_id]["orders"], done[customer_id]["contacts"],
                1 + done[customer_id]["edits"])
    assert sum(counts["orders"] + counts["edits"] + counts["contacts"]
               for counts in done.values()) == WORKERS * WRITES
    with engine.connect() as connection:
        assert summary.differences(connection) == 0
        assert not any(kpi_tables.differences(connection).values())
    assert trail.verify(ADMIN, engine=engine).ok


def test_grid_saves_of_the_same_customers_in_opposite_orders_do_not_deadlock(
        engine: Engine) -> None:
    """Two grid saves naming the same two customers in opposite orders, many times at once.
    Each row's save locks its customer and then the audit chain; had the rows been locked
    one by one as they were saved, one save would hold A and the chain while waiting for B,
    the other hold B while waiting for the chain, and PostgreSQL would end one of them."""
    first, second = (customer(engine, name, "Grid").id or 0 for name in ("Ann", "Bob"))
    failures: list[BaseException] = []
    versions = {first: 1, second: 1}

    def save(order: list[int], barrier: threading.Barrier, step: int) -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                seen = dict(versions)
                result = update_many(ADMIN, [(customer_id, seen[customer_id],
                                              {"city": f"City {step} {customer_id}"})
                                             for customer_id in order], engine=engine)
                if not result.refused:  # the other save came first: read, then try again
                    return
                with read_session(engine) as session:
                    for customer_id in versions:
                        stored = session.get(Customer, customer_id)
                        versions[customer_id] = stored.version if stored else 0
        except BaseException as error:  # reported below
            failures.append(error)

    for step in range(15):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=save, args=(order, barrier, step))
                   for order in ([first, second], [second, first])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        with read_session(engine) as session:
            for customer_id in versions:
                stored = session.get(Customer, customer_id)
                versions[customer_id] = stored.version if stored else 0
    assert trail.verify(ADMIN, engine=engine).ok
