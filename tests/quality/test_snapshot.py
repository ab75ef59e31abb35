"""The stored data-quality check: it equals a check made directly, survives a restart so only
changed phones are judged again, knows when the records changed or it aged, runs in the
background in a child process (one at a time, a failure or a killed child said), and is for
the roles that fix records."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text, update
from sqlmodel import col

from db.admin import settings
from db.core.access import PermissionDenied
from db.customers import service as customers
from db.customers.service import soft_delete_customer
from db.models import Customer
from db.quality import report, snapshot
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    snapshot.forget()
    yield
    snapshot.forget()


def _people(engine: Engine) -> dict[str, int]:
    ids = {"good": factories.customer(engine, "Gina", "Good", phone="030 1234567",
                                      email="gina@example.com").id,
           "bad": factories.customer(engine, "Bodo", "Bad", phone="030 1234568").id,
           "none": factories.customer(engine, "Nina", "None").id}
    with engine.begin() as connection:  # as an old import would have stored them
        connection.execute(update(Customer).where(col(Customer.id) == ids["bad"])
                           .values(phone="12", email="not an e-mail"))
    return ids


def _counting_judge(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    judged: list[str] = []
    real = report.phone_is_valid

    def counting(value: str, country: str | None) -> bool:
        judged.append(value)
        return real(value, country)

    monkeypatch.setattr(report, "phone_is_valid", counting)
    return judged


def test_the_stored_check_is_the_direct_one(engine: Engine) -> None:
    ids = _people(engine)
    direct = report.check_records(ADMIN, engine=engine)
    stored = snapshot.check_now(MANAGER, engine=engine, now=direct.report.as_of)
    read = snapshot.latest(MANAGER, engine=engine)
    assert read is not None
    assert read.report == stored.report == direct.report
    assert read.lists == stored.lists
    assert read.lists[("invalid_email", None)] == read.lists[("invalid_phone", None)] == [
        ids["bad"]]
    assert read.lists[("missing", "email")] == [ids["none"]]
    assert read.lists[("missing", "occupation")] == sorted(ids.values())
    assert len(read.lists) == 4 + len(report.FIELDS)
    assert snapshot.freshness(MANAGER, read, engine=engine,
                              now=direct.report.as_of) == "current"


def test_a_list_holds_its_first_customers_and_leaves_out_the_deleted(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "LIST_LIMIT", 2)
    ids = [factories.customer(engine, f"P{n}", "Person").id for n in range(3)]
    check = snapshot.check_now(ADMIN, engine=engine)
    assert check.lists[("missing", "email")] == ids[:2]
    soft_delete_customer(ADMIN, ids[0], engine=engine)
    shown = report.customers_with(ADMIN, "missing", "email", listed=check.lists,
                                  engine=engine)
    assert [row.id for row in shown] == [ids[1]]


def test_a_restart_judges_only_the_phones_changed_since(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _people(engine)
    snapshot.check_now(ADMIN, engine=engine)
    judged = _counting_judge(monkeypatch)
    report.forget_verdicts()  # a new server process: nothing remembered but the database
    snapshot.check_now(ADMIN, engine=engine)
    assert judged == []
    with engine.begin() as connection:
        connection.execute(update(Customer).where(col(Customer.id) == ids["good"])
                           .values(phone="030 7654321"))
    report.forget_verdicts()
    again = snapshot.check_now(ADMIN, engine=engine)
    assert judged == ["030 7654321"]
    assert again.lists[("invalid_phone", None)] == [ids["bad"]]


def test_the_phone_digest_is_the_same_in_every_process() -> None:
    code = ("from db.quality.report import phone_key; "
            "print(phone_key('030 1234567', 'DE'), phone_key('030 1234567', 'AT'))")
    printed = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env=os.environ | {"PYTHONHASHSEED": seed}
                              ).stdout for seed in ("1", "2")}
    assert len(printed) == 1
    first, second = map(int, printed.pop().split())
    assert first != second  # the country is part of what a verdict depends on


def test_a_check_knows_when_records_changed_or_it_aged(engine: Engine) -> None:
    ids = _people(engine)
    check = snapshot.check_now(ADMIN, engine=engine)
    now = check.report.as_of

    def freshness(at: datetime) -> str:
        return snapshot.freshness(ADMIN, check, engine=engine, now=at)

    assert freshness(now + snapshot.FRESH_FOR - timedelta(seconds=1)) == "current"
    assert freshness(now + snapshot.FRESH_FOR) == "old"
    factories.order(engine, ids["good"])  # a write, but no customer's record changed
    assert freshness(now) == "current"
    edited = customers.get_customer(ADMIN, ids["none"], engine=engine)
    customers.update_customer(ADMIN, ids["none"], edited.version, {"city": "Köln"},
                              engine=engine)
    assert freshness(now) == "changed"
    check = snapshot.check_now(ADMIN, engine=engine)
    settings.update(ADMIN, {"stale_after_days": 30}, engine=engine)
    assert freshness(check.report.as_of) == "changed"


@contextmanager
def _store_held(engine: Engine) -> Iterator[None]:
    """Hold back the writing of a check: one started meanwhile runs until it stores."""
    if engine.dialect.name == "sqlite":  # a writer's lock; the check's reads go on (WAL)
        holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
    else:  # readers pass, the check's delete and insert wait
        with engine.begin() as connection:
            connection.execute(text("LOCK TABLE quality_check IN EXCLUSIVE MODE"))
            yield


def _children(count: int) -> list[multiprocessing.Process]:
    """This process's child processes, once there are ``count`` (within 20 s)."""
    deadline = time.monotonic() + 20
    while len(children := multiprocessing.active_children()) < count:
        assert time.monotonic() < deadline, "no child process started"
        time.sleep(0.01)
    return children


def test_a_background_check_runs_in_one_child_process(engine: Engine) -> None:
    _people(engine)
    with _store_held(engine):
        snapshot.start(MANAGER, engine=engine)
        snapshot.start(ADMIN, engine=engine)  # joins the one under way
        (child,) = _children(1)
        assert child.pid != os.getpid()
        assert snapshot.running(engine) and not snapshot.wait(engine, 0.05)
        assert multiprocessing.active_children() == [child]
    assert snapshot.wait(engine, 20) and not snapshot.failed(engine)
    assert multiprocessing.active_children() == []
    stored = snapshot.latest(ADMIN, engine=engine)
    assert stored is not None
    assert stored.report == report.check_records(ADMIN, engine=engine,
                                                 now=stored.report.as_of).report


def test_a_check_that_fails_or_is_killed_in_its_child_is_said(
        engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    _people(engine)
    with _store_held(engine):
        snapshot.start(ADMIN, engine=engine)
        (child,) = _children(1)
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        assert snapshot.wait(engine, 20)
    assert snapshot.failed(engine) and "killed by signal 9" in caplog.text
    with engine.begin() as connection:  # the check's table gone: the child raises
        connection.execute(text("ALTER TABLE quality_check RENAME TO quality_check_away"))
    try:
        snapshot.start(ADMIN, engine=engine)  # checking again clears the failure
        assert not snapshot.failed(engine)
        assert snapshot.wait(engine, 20) and snapshot.failed(engine)
        assert "failed with exit code 1" in caplog.text
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE quality_check_away RENAME TO quality_check"))
    snapshot.start(ADMIN, engine=engine)
    assert snapshot.wait(engine, 20) and not snapshot.failed(engine)
    assert snapshot.latest(ADMIN, engine=engine) is not None


def test_only_the_roles_that_fix_records(engine: Engine) -> None:
    for call in (snapshot.latest, snapshot.check_now, snapshot.start):
        with pytest.raises(PermissionDenied):
            call(MARKETING, engine=engine)
    assert not snapshot.running(engine)
