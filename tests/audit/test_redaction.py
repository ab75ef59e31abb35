"""Sealed details: an erasure may redact them and the chain still verifies; the triggers allow
no other update, and ``verify`` names details altered, or removed without an erasure."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from db.audit import details, trail
from db.audit.redaction import redact
from db.core.engine import write_session
from db.models import AuditEvent
from tests.audit.tampering import without_triggers
from tests.factories import ADMIN


def _write(engine: Engine) -> list[AuditEvent]:
    with write_session(engine) as session:
        trail.record(session, actor="maya", action="customer.update", entity="customer",
                     entity_id=7, changes={"city": ["Köln", "Bonn"]}, source="form")
        trail.record(session, actor="maya", action="lookup.export", entity="customer",
                     changes={"search": "Jürgen Müller", "rows": 1}, source="form")
        trail.record(session, actor="maya", action="customer.update", entity="customer",
                     entity_id=8, changes={"city": ["Ulm", "Wien"]}, source="form")
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def _erase(engine: Engine, customer_id: int, terms: list[str]) -> list[int]:
    with write_session(engine) as session:
        done = redact(session, customer_id=customer_id, terms=terms)
        trail.record(session, actor="ada", action="customer.erase", entity="customer",
                     entity_id=customer_id, changes={"redacted_events": done.event_ids},
                     source="form")
    return done.event_ids


def test_redaction_keeps_the_chain_and_field_names(engine: Engine) -> None:
    first, search, other = _write(engine)
    assert details.intact(first) and first.salt and first.changes_digest
    assert _erase(engine, 7, ["jürgen müller"]) == [first.id, search.id]
    with Session(engine) as session:
        stored = {e.id: e for e in session.exec(select(AuditEvent))}
    assert json.loads(stored[first.id].changes) == {"city": details.ERASED}
    assert json.loads(stored[search.id].changes) == {"rows": details.ERASED,
                                                     "search": details.ERASED}
    assert stored[other.id].changes == other.changes and stored[other.id].salt
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.redacted == 2 and report.checked == 4


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET changes = '{\"city\": \"[erased]\"}'",  # salt kept
    "UPDATE audit_event SET actor = 'mallory', salt = NULL",
    "UPDATE audit_event SET hash = prev_hash, salt = NULL",
    "DELETE FROM audit_event",
])
def test_the_triggers_allow_only_a_redaction(engine: Engine, statement: str) -> None:
    _write(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))


def test_details_written_before_sealing_cannot_be_redacted(engine: Engine) -> None:
    first = _write(engine)[0]
    with without_triggers(engine) as connection:  # as the code before sealing wrote it
        connection.execute(text("UPDATE audit_event SET changes_digest = NULL, salt = NULL "
                                "WHERE id = :id"), {"id": first.id})
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET changes = '{}' WHERE id = :id"),
                           {"id": first.id})
    with write_session(engine) as session:
        assert redact(session, customer_id=7, terms=[]).unredactable == 1


def test_verify_names_details_removed_without_an_erasure(engine: Engine) -> None:
    first = _write(engine)[0]
    with engine.begin() as connection:  # the one update the triggers allow, done by hand
        connection.execute(text("UPDATE audit_event SET changes = :redacted, salt = NULL "
                                "WHERE id = :id"),
                           {"id": first.id, "redacted": details.redacted(first.changes)})
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == first.id and "no erasure lists it" in (report.reason or "")


def test_verify_names_details_altered_under_their_salt(engine: Engine) -> None:
    second = _write(engine)[1]
    with without_triggers(engine) as connection:
        connection.execute(text("UPDATE audit_event SET changes = :forged WHERE id = :id"),
                           {"id": second.id, "forged": '{"rows": 1, "search": "nobody"}'})
    report = trail.verify(ADMIN, engine=engine)
    assert report.broken_id == second.id and "details were altered" in (report.reason or "")
