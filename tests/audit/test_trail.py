"""The audit trail: written with its change or not at all, append-only, and tamper-evident."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from db.audit import trail
from db.core.access import Actor, PermissionDenied
from db.core.engine import write_session
from db.models import AuditEvent
from db.users.service import authenticate, create_user, record_logout, update_user
from tests.audit.tampering import without_triggers
from tests.factories import ADMIN


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def _mixed_workload(engine: Engine) -> None:
    user = create_user(ADMIN, username="alice", display_name="Alice", role="manager",
                       password="alice-pass-1", engine=engine)
    authenticate("alice", "wrong-pass-1", engine=engine)
    authenticate("alice", "alice-pass-1", engine=engine)
    update_user(ADMIN, user.id, role="marketing", engine=engine)
    record_logout("alice", engine=engine)
    with write_session(engine) as session:  # two events in one transaction chain in order
        trail.record(session, actor="root", action="note", entity="customer", entity_id=7,
                     changes={"city": ["Köln", "Bonn"]}, source="form")
        trail.record(session, actor="root", action="note", entity="customer", entity_id=8,
                     source="form")


def test_events_hold_who_what_when_and_changes(engine: Engine) -> None:
    with write_session(engine) as session:
        trail.record(session, actor="maya", action="customer.update", entity="customer",
                     entity_id=42, changes={"city": ["Leeds", "York"]}, source="grid")
    (event,) = _events(engine)
    assert (event.actor, event.action, event.entity, event.entity_id, event.source) == (
        "maya", "customer.update", "customer", "42", "grid")
    assert json.loads(event.changes) == {"city": ["Leeds", "York"]}
    assert event.at.tzinfo is not None
    assert event.prev_hash == trail.GENESIS_HASH and len(event.hash) == 64


def test_a_rolled_back_write_leaves_no_event(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(engine) as session:
        trail.record(session, actor="maya", action="x", entity="customer", source="form")
        raise RuntimeError("the business write failed")
    assert _events(engine) == []


def test_unknown_source_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown audit source"), write_session(engine) as s:
        trail.record(s, actor="maya", action="x", entity="customer", source="telepathy")


def test_chain_verifies_after_a_mixed_workload(engine: Engine) -> None:
    _mixed_workload(engine)
    events = _events(engine)
    assert len(events) >= 7
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.checked == len(events)


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(15):
                with write_session(engine) as session:
                    trail.record(session, actor=f"w{worker}", action="tick", entity="x",
                                 entity_id=n, source="system")
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.checked == 45


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET actor = 'mallory'",
    "DELETE FROM audit_event",
])
def test_triggers_refuse_update_and_delete(engine: Engine, statement: str) -> None:
    _mixed_workload(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert {e.actor for e in _events(engine)} != {"mallory"}


def _tamper(engine: Engine, statement: str, **params: object) -> None:
    """Run ``statement`` the way an attacker with database access would."""
    with without_triggers(engine) as connection:
        connection.execute(text(statement), params)


def test_verify_names_the_edited_event(engine: Engine) -> None:
    _mixed_workload(engine)
    target = _events(engine)[3]
    _tamper(engine, "UPDATE audit_event SET changes = '{}' WHERE id = :id", id=target.id)
    report = trail.verify(ADMIN, engine=engine)
    assert not report.ok
    assert report.broken_id == target.id and report.checked == 3
    assert "altered" in (report.reason or "")


def test_verify_names_the_event_after_a_removed_one(engine: Engine) -> None:
    _mixed_workload(engine)
    events = _events(engine)
    _tamper(engine, "DELETE FROM audit_event WHERE id = :id", id=events[2].id)
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == events[3].id
    assert "removed" in (report.reason or "")


def test_only_admins_verify_the_chain(engine: Engine) -> None:
    _mixed_workload(engine)
    for role in ("manager", "marketing"):
        actor = Actor("morgan", role)
        assert not trail.may_verify(actor)
        with pytest.raises(PermissionDenied):
            trail.verify(actor, engine=engine)
    assert trail.may_verify(ADMIN)


def test_command_line_verify(engine: Engine, database_url: str,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    _mixed_workload(engine)
    assert trail.main(["verify"]) == 0
    assert "intact" in capsys.readouterr().out
    _tamper(engine, "UPDATE audit_event SET actor = 'mallory' WHERE id = 1")
    assert trail.main(["verify"]) == 1
    assert "BROKEN at event 1" in capsys.readouterr().err
