"""Reading the audit trail: filters, keyset pages, date ranges, export, roles."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from db import exports
from db.audit import trail
from db.audit.search import AuditFilter, export_csv, field_changes, search_events
from db.core.access import Actor, PermissionDenied
from db.core.engine import write_session
from tests.factories import ADMIN, MANAGER


def _today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def events(engine: Engine) -> Engine:
    with write_session(engine) as session:
        for n in range(130):
            trail.record(session, actor="maya" if n % 2 else "morgan", action="customer.update",
                         entity="customer", entity_id=n % 10,
                         changes={"city": [f"a{n}", f"b{n}"]}, source="form")
        trail.record(session, actor="=cmd|' /C calc'!A0", action="login.failure",
                     entity="user", source="login")
    return engine


def test_pages_cover_every_event_once_newest_first(events: Engine) -> None:
    seen: list[int] = []
    before = None
    while True:
        page = search_events(MANAGER, AuditFilter(), before_id=before, engine=events)
        seen += [e.id for e in page.events]
        if page.next_before_id is None:
            break
        before = page.next_before_id
    assert seen == list(range(131, 0, -1))


def test_filters_combine(events: Engine) -> None:
    page = search_events(MANAGER, AuditFilter(actor="maya", entity="customer", entity_id="3"),
                         engine=events)
    assert page.events and all((e.actor, e.entity_id) == ("maya", "3") for e in page.events)
    assert len(page.events) == 13


def test_date_range_is_inclusive_and_empty_outside(events: Engine) -> None:
    today = search_events(MANAGER, AuditFilter(since=_today(), until=_today()),
                          limit=500, engine=events)
    assert len(today.events) == 131
    past = search_events(MANAGER, AuditFilter(until=date(2000, 1, 1)), engine=events)
    assert past.events == []
    with pytest.raises(ValueError, match="start date is after"):
        search_events(MANAGER, AuditFilter(since=date(2026, 2, 1), until=date(2026, 1, 1)),
                      engine=events)


def test_field_changes_split_old_and_new(events: Engine) -> None:
    event = search_events(MANAGER, AuditFilter(action="customer.update"), engine=events).events[0]
    (change,) = field_changes(event)
    assert (change.field, change.old, change.new) == ("city", "a129", "b129")


def test_export_neutralises_formulas_and_is_audited(events: Engine) -> None:
    data, count, truncated = export_csv(MANAGER, AuditFilter(), engine=events)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert (count, truncated, len(rows)) == (131, False, 131)
    assert rows[0]["actor"] == "'=cmd|' /C calc'!A0"
    exports = search_events(MANAGER, AuditFilter(action="audit.export"), engine=events).events
    assert [json.loads(e.changes)["rows"] for e in exports] == [131]
    assert trail.verify(ADMIN, engine=events).ok


def test_marketing_cannot_read_the_audit_trail(events: Engine) -> None:
    with pytest.raises(PermissionDenied):
        search_events(Actor("maya", "marketing"), AuditFilter(), engine=events)
    with pytest.raises(PermissionDenied):
        export_csv(Actor("maya", "marketing"), AuditFilter(), engine=events)


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_export_neutralises_like_every_other_download(engine: Engine, start: str) -> None:
    with write_session(engine) as session:
        trail.record(session, actor=start + "SUM(A1)", action="customer.update",
                     entity="customer", entity_id=start + "cmd",
                     changes={"note": [start + "old", start + "HYPERLINK(x)"]}, source="form")
    data, _, _ = export_csv(MANAGER, AuditFilter(), engine=engine)
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    for column, stored in (("actor", start + "SUM(A1)"), ("entity_id", start + "cmd")):
        assert row[column] == exports.neutralise(stored) == "'" + stored
    # The changes cell is JSON text: it starts with "{", so no spreadsheet runs it.
    assert json.loads(row["changes"])["note"] == [start + "old", start + "HYPERLINK(x)"]
