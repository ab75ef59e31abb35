"""Consent history: append-only on every engine, recorded from a closed vocabulary of sources
by the acting user, with the current state per purpose derived from the newest row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from db.audit import recent
from db.core.access import Actor
from db.customers import consent, profile
from db.customers.validation import InvalidFields
from db.derived import summary
from db.derived.models import CustomerSummary
from db.models import AuditEvent
from tests.factories import ADMIN, MARKETING, customer, user


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent)).scalars())


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


def test_the_source_is_a_word_of_the_vocabulary(engine: Engine) -> None:
    made = customer(engine)
    assert made.id is not None
    with pytest.raises(InvalidFields) as caught:
        consent.record_consent(ADMIN, made.id, purpose="sms", granted=True,
                               source="phone call", notice_version="2026-02", engine=engine)
    assert caught.value.errors["source"] == (
        "Choose where the consent came from: form, phone, web, email (imports record their "
        "own, as import).")
    with pytest.raises(InvalidFields) as caught:  # "import" is the importer's own
        consent.record_consent(ADMIN, made.id, purpose="sms", granted=True, source="import",
                               notice_version="2026-02", engine=engine)
    assert set(caught.value.errors) == {"source"}
    with pytest.raises(InvalidFields) as caught:
        consent.record_consent(ADMIN, made.id, purpose="sms", granted=True, source="web",
                               notice_version="  ", engine=engine)
    assert set(caught.value.errors) == {"notice_version"}
    assert consent.history(ADMIN, made.id, engine=engine) == []
    assert [e.action for e in _events(engine)].count("consent.change") == 0


def test_who_recorded_it_is_the_acting_user(engine: Engine) -> None:
    user(engine, "maya", role="marketing")
    made = customer(engine)
    assert made.id is not None
    consent.record_consent(MARKETING, made.id, purpose="sms", granted=True, source="phone",
                           notice_version="2026-02", engine=engine)
    consent.record_consent(Actor("script", "admin"), made.id, purpose="sms", granted=False,
                           source="email", notice_version="2026-02", engine=engine)
    newest, oldest = consent.history(ADMIN, made.id, engine=engine)
    assert (oldest.granted, oldest.source, oldest.recorded_by) == (True, "phone", "Maya (maya)")
    assert (newest.granted, newest.source, newest.recorded_by) == (False, "email", None)
    state = consent.current(consent.history(ADMIN, made.id, engine=engine))
    assert state["sms"] == newest and state["profiling"] is None
    assert consent.state_word(state["sms"]) == "withdrawn"


def test_grant_then_withdraw_moves_the_summary_like_a_rebuild(engine: Engine) -> None:
    made = customer(engine)
    assert made.id is not None
    for granted in (True, False, True, False):
        consent.record_consent(MARKETING, made.id, purpose="email_marketing", granted=granted,
                               source="web", notice_version="2026-02", engine=engine)
        with engine.connect() as connection:
            stored = connection.execute(
                select(CustomerSummary.consent_email_marketing)
                .where(CustomerSummary.customer_id == made.id)).scalar_one()
            assert stored is granted
            assert summary.differences(connection) == 0
    assert len(consent.history(ADMIN, made.id, engine=engine)) == 4


def test_a_double_click_on_record_appends_one_row(engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The second click of a double click sends the same change again after the first
    committed; the history must not hold it twice. A different change, another person's
    or one after the window is a new row."""
    customer_id = _granted(engine)
    change = {"purpose": "email_marketing", "granted": True, "source": "form",
              "notice_version": "2026-02 "}
    with pytest.raises(consent.AlreadyRecorded, match="already recorded"):
        consent.record_consent(ADMIN, customer_id, **change, engine=engine)
    assert len(consent.history(ADMIN, customer_id, engine=engine)) == 1
    consent.record_consent(MARKETING, customer_id, **change, engine=engine)
    consent.record_consent(ADMIN, customer_id, **change | {"purpose": "sms"},
                           engine=engine)
    consent.record_consent(ADMIN, customer_id, **change | {"granted": False}, engine=engine)
    consent.record_consent(ADMIN, customer_id, **change, engine=engine)  # granted again
    monkeypatch.setattr(recent, "DOUBLE_SUBMIT_WINDOW", timedelta(0))  # the window passed
    consent.record_consent(ADMIN, customer_id, **change, engine=engine)
    assert len(consent.history(ADMIN, customer_id, engine=engine)) == 6
