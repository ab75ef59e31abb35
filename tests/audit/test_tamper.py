"""What an insider with write access to the database, but not the audit key, can do to the
trail, and that :func:`db.audit.trail.verify` (or the triggers) catches each of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from db.audit import trail
from db.core.engine import write_session
from db.models import AuditEvent
from tests.audit.conftest import OTHER_KEY
from tests.audit.tampering import without_triggers
from tests.factories import ADMIN, customer

COLUMNS = "id, at, actor, action, entity, entity_id, changes, source, prev_hash, hash"


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def _workload(engine: Engine, count: int = 6) -> list[AuditEvent]:
    for n in range(count):
        with write_session(engine) as session:
            trail.record(session, actor="maya", action="customer.update", entity="customer",
                         entity_id=n, changes={"city": [f"Old {n}", f"New {n}"]},
                         source="form")
    return _events(engine)


def _fields(event: AuditEvent) -> dict[str, object]:
    return {"at": event.at, "actor": event.actor, "action": event.action,
            "entity": event.entity, "entity_id": event.entity_id, "changes": event.changes,
            "source": event.source}


def _rewrite_from(engine: Engine, first: int, edit: dict[str, object],
                  through: int | None = None) -> None:
    """Edit event ``first`` and re-hash it and every later event (to ``through``) with the
    published (unkeyed) rule, details inline as before sealing, so every link and hash is
    consistent again."""
    events = [e for e in _events(engine) if e.id is not None and e.id >= first
              and (through is None or e.id <= through)]
    prev = next((e.hash for e in _events(engine) if e.id == first - 1), trail.GENESIS_HASH)
    with without_triggers(engine) as connection:
        for event in events:
            fields = {**_fields(event), **(edit if event.id == first else {})}
            digest = trail.event_hash(prev_hash=prev, **fields)
            connection.execute(text(
                "UPDATE audit_event SET actor = :actor, changes = :changes, "
                "prev_hash = :prev, hash = :hash, changes_digest = NULL, salt = NULL "
                "WHERE id = :id"),
                {"actor": fields["actor"], "changes": fields["changes"], "prev": prev,
                 "hash": digest, "id": event.id})
            prev = digest


def _insert(connection: Connection, statement: str, event: AuditEvent, **values: object
            ) -> None:
    params = {"id": event.id, **_fields(event), "prev_hash": event.prev_hash,
              "hash": event.hash, **values}
    connection.execute(text(statement), params)


def test_an_edited_event_re_hashed_without_the_key_is_named(engine: Engine) -> None:
    events = _workload(engine)
    target = events[3]
    _rewrite_from(engine, target.id or 0, {"changes": json.dumps({"city": ["Old", "Forged"]})})
    report = trail.verify(ADMIN, engine=engine)
    assert not report.ok and report.unusable is None
    assert report.broken_id == target.id and report.checked == 3
    assert "without the audit key" in (report.reason or "")


def test_an_appended_forged_event_is_named(engine: Engine) -> None:
    events = _workload(engine)
    newest = events[-1]
    forged = AuditEvent(id=(newest.id or 0) + 1, at=newest.at + timedelta(seconds=1),
                        actor="ada", action="customer.delete", entity="customer",
                        entity_id="1", changes="{}", source="form", prev_hash=newest.hash,
                        hash="")
    forged.hash = trail.event_hash(prev_hash=newest.hash, **_fields(forged))
    with engine.begin() as connection:  # a true append: the triggers let it in
        _insert(connection, f"INSERT INTO audit_event ({COLUMNS}) VALUES (:id, :at, :actor, "
                ":action, :entity, :entity_id, :changes, :source, :prev_hash, :hash)", forged)
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == forged.id and report.checked == len(events)


def test_an_event_signed_with_a_guessed_key_is_named(engine: Engine) -> None:
    events = _workload(engine)
    newest = events[-1]
    fields = {**_fields(newest), "at": newest.at + timedelta(seconds=1)}
    digest = trail.keyed_hash(OTHER_KEY, prev_hash=newest.hash, **fields)
    with engine.begin() as connection:
        _insert(connection, f"INSERT INTO audit_event ({COLUMNS}) VALUES (:id, :at, :actor, "
                ":action, :entity, :entity_id, :changes, :source, :prev_hash, :hash)",
                newest, id=(newest.id or 0) + 1, at=fields["at"], prev_hash=newest.hash,
                hash=digest)
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == (newest.id or 0) + 1 and "altered" in (report.reason or "")


REPLACE = {
    "sqlite": f"INSERT OR REPLACE INTO audit_event ({COLUMNS}) VALUES (:id, :at, :actor, "
              ":action, :entity, :entity_id, :changes, :source, :prev_hash, :hash)",
    "postgresql": f"INSERT INTO audit_event ({COLUMNS}) VALUES (:id, :at, :actor, :action, "
                  ":entity, :entity_id, :changes, :source, :prev_hash, :hash) "
                  "ON CONFLICT (id) DO UPDATE SET changes = excluded.changes",
}


@pytest.mark.parametrize("position", [0, -1])
def test_replacing_an_event_is_refused(engine: Engine, position: int) -> None:
    """SQLite's REPLACE deletes without firing delete triggers; PostgreSQL's equivalent is
    an upsert. Neither may rewrite an event, the oldest or the newest."""
    before = _workload(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        _insert(connection, REPLACE[engine.dialect.name], before[position],
                changes='{"forged": 1}')
    assert [(e.id, e.changes) for e in _events(engine)] == [(e.id, e.changes) for e in before]


@pytest.mark.parametrize("kind", ["wrong predecessor", "below the newest id"])
def test_an_insert_that_is_not_an_append_is_refused(engine: Engine, kind: str) -> None:
    events = _workload(engine)
    with without_triggers(engine) as connection:  # make a gap below the newest id
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[2].id})
    new_id, prev = ((events[-1].id or 0) + 1, events[1].hash) if kind == "wrong predecessor" \
        else (events[2].id, events[1].hash)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        _insert(connection, f"INSERT INTO audit_event ({COLUMNS}) VALUES (:id, :at, :actor, "
                ":action, :entity, :entity_id, :changes, :source, :prev_hash, :hash)",
                events[2], id=new_id, prev_hash=prev)
    assert len(_events(engine)) == len(events) - 1


def test_the_app_still_appends_after_the_triggers(engine: Engine) -> None:
    customer(engine)
    with write_session(engine) as session:  # two events in one transaction chain in order
        for n in range(2):
            trail.record(session, actor="root", action="note", entity="x", entity_id=n,
                         source="system")
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.keyed == report.checked == len(_events(engine))


def test_events_cut_after_an_anchor_are_reported(engine: Engine) -> None:
    events = _workload(engine)
    anchor = trail.take_anchor(ADMIN, engine=engine).to_text()
    assert json.loads(anchor)["event_id"] == events[-1].id
    assert trail.verify(ADMIN, engine=engine, anchor=anchor).anchored is not None
    with without_triggers(engine) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": events[-2].id})
    assert trail.verify(ADMIN, engine=engine).ok  # the chain alone cannot tell
    report = trail.verify(ADMIN, engine=engine, anchor=anchor)
    assert not report.ok and report.unusable is None
    assert report.broken_id == events[-1].id
    assert "cut from its end" in (report.reason or "")


def test_a_chain_rewritten_whole_is_caught_by_the_anchor(engine: Engine) -> None:
    events = _workload(engine)
    anchor = trail.take_anchor(ADMIN, engine=engine).to_text()
    _rewrite_from(engine, events[0].id or 0, {"actor": "mallory"})
    alone = trail.verify(ADMIN, engine=engine)  # every event unkeyed: the report says so
    assert alone.ok and alone.keyed == 0 and alone.unkeyed == len(events)
    assert "None of them is keyed" in trail.describe(alone)
    report = trail.verify(ADMIN, engine=engine, anchor=anchor)
    assert report.broken_id == events[-1].id and "rewritten" in (report.reason or "")


def test_a_forged_anchor_is_reported(engine: Engine) -> None:
    _workload(engine)
    data = json.loads(trail.take_anchor(ADMIN, engine=engine).to_text())
    data["event_id"] -= 2  # pretend the newest events never existed
    report = trail.verify(ADMIN, engine=engine, anchor=json.dumps(data))
    assert not report.ok and report.unusable is None
    assert "anchor" in (report.reason or "") and report.broken_id is None


def test_a_wrong_key_is_reported_as_such_not_as_tampering(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _workload(engine)
    anchor = trail.take_anchor(ADMIN, engine=engine).to_text()
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", OTHER_KEY)
    report = trail.verify(ADMIN, engine=engine)
    assert not report.ok and report.broken_id is None and report.reason is None
    assert "not the key they were written with" in (report.unusable or "")
    with_anchor = trail.verify(ADMIN, engine=engine, anchor=anchor)
    assert "signed with another audit key" in (with_anchor.unusable or "")


def test_a_missing_key_is_reported_as_such(engine: Engine, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _workload(engine)
    monkeypatch.delenv("CUSTDB_AUDIT_KEY")
    monkeypatch.setattr("db.audit.keys.KEY_FILE", tmp_path / "absent.toml")
    report = trail.verify(ADMIN, engine=engine)
    assert not report.ok and report.broken_id is None
    assert "no audit key is configured" in (report.unusable or "").lower()
    with pytest.raises(trail.keys.AuditKeyMissing, match="restore it"), \
            write_session(engine) as session:  # a new key would fork the chain: refused
        trail.record(session, actor="maya", action="x", entity="x", source="form")
    assert not (tmp_path / "absent.toml").exists()


def _legacy_events(engine: Engine, count: int) -> None:
    """Events as the code before the audit key wrote them: plain SHA-256, no key."""
    prev = trail.GENESIS_HASH
    with engine.begin() as connection:
        for n in range(count):
            event = AuditEvent(id=n + 1, at=datetime(2026, 11, 1, 9, n, tzinfo=UTC),
                               actor="alex", action="customer.create", entity="customer",
                               entity_id=str(n), changes="{}", source="form",
                               prev_hash=prev, hash="")
            event.hash = trail.event_hash(prev_hash=prev, **_fields(event))
            # Ids from the engine, as the old code got them (PostgreSQL's sequence advances).
            _insert(connection, "INSERT INTO audit_event (at, actor, action, entity, "
                    "entity_id, changes, source, prev_hash, hash) VALUES (:at, :actor, "
                    ":action, :entity, :entity_id, :changes, :source, :prev_hash, :hash)",
                    event)
            prev = event.hash


def test_events_from_before_the_key_stay_verifiable_and_sealed(engine: Engine) -> None:
    _legacy_events(engine, 4)
    before_key = trail.verify(ADMIN, engine=engine)
    assert before_key.ok and (before_key.unkeyed, before_key.keyed) == (4, 0)
    _workload(engine, 3)
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and (report.unkeyed, report.keyed) == (4, 3)
    assert "predate the audit key" in trail.describe(report)
    # Rewriting the unkeyed events consistently breaks the first keyed event's link to them.
    _rewrite_from(engine, 2, {"actor": "mallory"}, through=4)
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == 5 and "link" in (report.reason or "")


def test_command_line_anchor_and_verify(engine: Engine, database_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    events = _workload(engine)
    anchor = tmp_path / "anchor.json"
    assert trail.main(["anchor", "--out", str(anchor)]) == 0
    assert trail.main(["verify", "--anchor", str(anchor)]) == 0
    assert f"anchored event {events[-1].id}" in capsys.readouterr().out
    with without_triggers(engine) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[-1].id})
    assert trail.main(["verify"]) == 0
    assert trail.main(["verify", "--anchor", str(anchor)]) == 1
    assert "cut from its end" in capsys.readouterr().err
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", OTHER_KEY)
    assert trail.main(["verify"]) == 2
    assert "NOT checked" in capsys.readouterr().err
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", "abcdefghijklmnop" * 3)
    assert trail.main(["verify"]) == 2
    assert "too weak" in capsys.readouterr().err
