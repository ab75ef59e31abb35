"""Consent history: append-only on every engine, recorded from a closed vocabulary of sources
by the acting user, with the current state per purpose derived from the newest row."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from db.customers import profile
from tests.factories import ADMIN, customer


def _granted(engine: Engine) -> int:
    made = customer(engine, email="consent@example.org")
    assert made.id is not None
    profile.record_consent(ADMIN, made.id, purpose="email_marketing", granted=True,
                           source="form", notice_version="2026-02", engine=engine)
    return made.id


@pytest.mark.parametrize("statement", [
    "UPDATE consent_event SET granted = NOT granted",
    "UPDATE consent_event SET notice_version = '1999-01'",
    "DELETE FROM consent_event",
])
def test_history_refuses_update_and_delete(engine: Engine, statement: str) -> None:
    customer_id = _granted(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    (event,) = profile.consent_history(ADMIN, customer_id, engine=engine)
    assert (event.granted, event.notice_version) == (True, "2026-02")


def test_truncate_is_refused_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _granted(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE consent_event"))


def test_a_customer_with_consent_history_cannot_be_hard_deleted(engine: Engine) -> None:
    """The app never hard-deletes a customer (soft delete and erasure keep the row); one
    deleted around it must not take the consent history with it by the cascade."""
    customer_id = _granted(engine)
    with pytest.raises(DatabaseError, match="consent history"), engine.begin() as connection:
        connection.execute(text("DELETE FROM customer WHERE id = :id"), {"id": customer_id})
    assert len(profile.consent_history(ADMIN, customer_id, engine=engine)) == 1
    bare = customer(engine, email="no-consent@example.org")
    with engine.begin() as connection:  # without consent history the cascade is harmless
        connection.execute(text("DELETE FROM customer_summary WHERE customer_id = :id"),
                           {"id": bare.id})
        connection.execute(text("DELETE FROM customer WHERE id = :id"), {"id": bare.id})
